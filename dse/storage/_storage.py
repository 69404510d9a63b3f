"""Opening a study's Optuna storage (a database, a journal file or memory) and the study in it."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from optuna.storages import BaseStorage, RDBStorage

from dse._errors import StudyRunError
from dse.storage import _records as records
from dse.storage._liveness import UNTAGGED_GRACE_S, recover_stale_trials, worker_id
from dse.storage._lock import (
    FlockMutex,
    LockFileMutex,
    MysqlMutex,
    PostgresMutex,
    ProcessMutex,
    StudyMutex,
    schema_lock,
)
from dse.storage._resilient import RECONNECT_S, ResilientStorage
from dse.storage._urls import StorageUrl, redact_url

if TYPE_CHECKING:
    from optuna.samplers import BaseSampler

    from dse.config import StudyConfig

logger = logging.getLogger(__name__)

__all__ = [
    "UNTAGGED_GRACE_S",
    "make_storage",
    "open_study",
    "recover_stale_trials",
    "storage_url",
    "study_folder",
    "study_mutex",
    "worker_id",
    "wrap_storage",
]

_WARNED: set[Path] = set()

LEGACY_OUTPUT = "results"
"""`study.output`'s default before dse 0.2 (studies then wrote to `results/<study>/`)."""


def study_folder(config: StudyConfig) -> Path:
    """`<study.output>/<study.name>`, from the current directory: the study's files.

    A study file that leaves `study.output` at its default and was first run by a dse that
    wrote to `results/<study>/` keeps that folder (a warning says so), so it resumes.
    """
    folder = Path(config.study.output) / config.study.name
    if "output" not in config.study.model_fields_set:
        legacy = Path(LEGACY_OUTPUT) / config.study.name
        if (legacy / "study.db").exists() and not (folder / "study.db").exists():
            if legacy not in _WARNED:
                _WARNED.add(legacy)
                logger.warning(
                    "study %s: resuming in its old folder %s/ (move it to %s/ to use the new one)",
                    config.study.name,
                    legacy,
                    folder,
                )
            return legacy
    return folder


def storage_url(config: StudyConfig) -> str:
    """The configured URL as written (`${NAME}` references unexpanded), or SQLite in the
    study's folder. Show it with `redact_url`: a password written into it stays secret."""
    if config.storage.url:
        return config.storage.url
    return f"sqlite:///{(study_folder(config) / 'study.db').resolve()}"


def make_storage(
    url: str | None, *, create: bool = True, reconnect_s: float = RECONNECT_S
) -> ResilientStorage:
    """A storage for `url`: in memory for None, a journal file, or a database.

    The database's tables are created under a lock, so workers starting together on a fresh
    database all succeed; SQLite waits for locks held by other workers instead of failing.
    Once opened, the storage retries calls that fail on a lost connection (a restarted
    server) for `reconnect_s` seconds (`ResilientStorage`).

    Args:
        url: `sqlite:///file.db`, `postgresql://user@host/db`, `mysql://user@host/db` (with
            `${NAME}` for environment variables, e.g. the password), `journal:///path/x.log`,
            or None for a storage in this process's memory.
        create: make a missing SQLite or journal file (and its folder); without it, a study
            that never ran is an error and nothing is written (`status`, `pareto`).
        reconnect_s: seconds a call keeps retrying an unreachable storage.

    Raises:
        StudyRunError: the storage cannot be opened or created, its driver is not installed
            (the message names the package), or a variable of the URL is not set.
    """
    if url is None:
        return ResilientStorage(
            optuna.storages.InMemoryStorage(), url="memory", mutex=ProcessMutex()
        )
    parsed = StorageUrl.parse(url)
    if parsed.backend == "journal":
        return _journal_storage(parsed, create=create, reconnect_s=reconnect_s)
    sqlite = parsed.backend == "sqlite"
    file: Path | None = None
    if sqlite and url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        file = Path(url.removeprefix("sqlite:///"))
        if not create and not file.exists():
            raise StudyRunError(f"{file}: no such study database: run the study first")
        _make_folder(file.parent)
    connect = parsed.sqlalchemy_url()
    # A server restart breaks pooled connections: the first call on one fails, SQLAlchemy
    # drops the pool, and ResilientStorage retries on fresh ones (cheaper than a ping per call).
    kwargs: dict[str, Any] = {"connect_args": {"timeout": 60}} if sqlite else {}
    try:
        rdb = _open_rdb(connect, kwargs, parsed.backend, file)
        if sqlite:
            _tune_sqlite(rdb)
    except StudyRunError:
        raise
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy and drivers raise many kinds
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise StudyRunError(
            f"storage {parsed.display}: cannot open: {redact_url(reason)}"
        ) from None
    return wrap_storage(rdb, url=url, reconnect_s=reconnect_s)


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StudyRunError(
            f"{folder}: cannot create the storage's folder (storage.url, or study.output "
            f"for the default SQLite file): {exc.strerror}"
        ) from None


def _open_rdb(url: str, kwargs: dict[str, Any], backend: str, file: Path | None) -> RDBStorage:
    """`RDBStorage(url)`, its tables created by one process at a time."""
    from sqlalchemy import create_engine

    if backend == "sqlite" and file is None:
        return RDBStorage(url, engine_kwargs=kwargs)
    engine = create_engine(url, **kwargs)
    try:
        with schema_lock(engine, backend, file):
            return RDBStorage(url, engine_kwargs=kwargs)
    finally:
        engine.dispose()


def _journal_storage(parsed: StorageUrl, *, create: bool, reconnect_s: float) -> ResilientStorage:
    """Optuna's journal file storage, for workers sharing a file system without a server."""
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    path = parsed.journal_path
    if not create and not path.exists():
        raise StudyRunError(f"{path}: no such journal file: run the study first")
    _make_folder(path.parent)
    try:
        storage = JournalStorage(JournalFileBackend(str(path)))
    except (OSError, ValueError) as exc:
        raise StudyRunError(f"storage {parsed.display}: cannot open: {exc}") from None
    return ResilientStorage(
        storage, url=parsed.text, mutex=LockFileMutex(path), reconnect_s=reconnect_s
    )


def _tune_sqlite(storage: RDBStorage) -> None:
    """Write-ahead log and NORMAL sync: commits 5-10x faster, still safe when a process dies.

    Only a power loss may drop the last commits. WAL needs a local file system: workers on
    several machines should share a PostgreSQL database or a journal file instead.
    """
    from sqlalchemy import event

    def pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 - SQLAlchemy hook
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    event.listen(storage.engine, "connect", pragmas)
    storage.engine.dispose()  # connections made before the hook are replaced


def wrap_storage(
    storage: BaseStorage, *, url: str | None = None, reconnect_s: float = RECONNECT_S
) -> ResilientStorage:
    """An Optuna storage (given from Python, or opened by `make_storage`) with the study lock
    its backend offers: a PostgreSQL advisory lock, a MySQL named lock, `flock` beside an
    SQLite file, the journal's lock file; other kinds get a lock of this process only.

    Args:
        storage: the storage.
        url: how messages name it (default: its own URL, or its type).
        reconnect_s: how long calls retry an unreachable server (seconds).
    """
    if isinstance(storage, ResilientStorage):
        return storage
    url = url or str(getattr(storage, "url", type(storage).__name__))
    mutex: StudyMutex = ProcessMutex()
    if isinstance(storage, RDBStorage):
        dialect = storage.engine.dialect.name
        if dialect == "postgresql":
            mutex = PostgresMutex(storage.engine, reconnect_s=reconnect_s)
        elif dialect == "mysql":
            mutex = MysqlMutex(storage.engine)
        elif dialect == "sqlite" and storage.engine.url.database not in (None, "", ":memory:"):
            mutex = FlockMutex(Path(str(storage.engine.url.database)).absolute())
        storage = optuna.storages.get_storage(storage)
    else:
        backend = getattr(storage, "_backend", None)
        path = getattr(backend, "_file_path", None)
        if path is not None:
            mutex = LockFileMutex(Path(path))
            url = f"journal://{path}"
    return ResilientStorage(storage, url=url, mutex=mutex, reconnect_s=reconnect_s)


def study_mutex(study: optuna.Study) -> StudyMutex:
    """The lock the workers of `study`'s storage share (`StudyMutex.hold(study_name)`)."""
    storage = study._storage  # noqa: SLF001 - the storage a study was opened on
    if isinstance(storage, ResilientStorage):
        return storage.mutex
    return _PROCESS_MUTEX


_PROCESS_MUTEX = ProcessMutex()


def open_study(
    config: StudyConfig, storage: BaseStorage, sampler: BaseSampler | None = None
) -> optuna.Study:
    """Create the study, or load it and check it was created from the same study definition.

    Safe when many workers start together: one creates it, the others load it, and its
    identity is recorded once (under the study lock).

    Raises:
        StudyRunError: the stored study has other objectives, space or workload.
    """
    if not isinstance(storage, ResilientStorage):
        storage = wrap_storage(storage)
    study = optuna.create_study(
        storage=storage,
        study_name=config.study.name,
        directions=list(config.directions),
        sampler=sampler,
        load_if_exists=True,
    )
    identity = config.identity_hash()
    stored = records.study_identity(study)
    if stored is None:
        with study_mutex(study).hold(study.study_name):
            stored = records.study_identity(study)
            if stored is None:
                records.set_study_identity(
                    study, identity, config.objective_names, config.study.seed
                )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    study.set_metric_names(list(config.objective_names))
                stored = identity
    if stored != identity:
        where = getattr(storage, "url", "memory")
        raise StudyRunError(
            f"study {config.study.name!r} in {where} was created from another definition "
            f"(identity {stored}, this file {identity}): only budget, optimizer "
            "and storage may change on resume; give the study a new name"
        )
    return study
