"""Opening a study's Optuna storage, checking it is the same study, recovering dead trials."""

from __future__ import annotations

import logging
import os
import socket
import warnings
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import optuna
from optuna.storages import BaseStorage, RDBStorage
from optuna.trial import TrialState

from dse._errors import StudyRunError
from dse.storage import _records as records

if TYPE_CHECKING:
    from optuna.samplers import BaseSampler

    from dse.config import StudyConfig

logger = logging.getLogger(__name__)

UNTAGGED_GRACE_S = 10.0
"""Seconds a RUNNING trial without a worker tag is presumed alive: its worker tags it right
after creating it (`WorkerTaggingSampler.before_trial`), so one untagged for longer is dead."""


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
    """The configured URL, or SQLite in the study's folder."""
    if config.storage.url:
        return config.storage.url
    return f"sqlite:///{(study_folder(config) / 'study.db').resolve()}"


def worker_id() -> str:
    """`host:pid` of this process, recorded on every trial it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def make_storage(url: str | None, *, create: bool = True) -> BaseStorage:
    """A storage for `url`: in memory for None, else an RDB storage (SQLite waits for locks
    held by other workers instead of failing).

    Args:
        url: an SQLAlchemy URL, or None for a storage in this process's memory.
        create: make a missing SQLite file (and its folder); without it, a study that never
            ran is an error and nothing is written (`status`, `pareto`).

    Raises:
        StudyRunError: the storage cannot be opened or created.
    """
    if url is None:
        return optuna.storages.InMemoryStorage()
    sqlite = url.startswith("sqlite")
    if sqlite and url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        file = Path(url.removeprefix("sqlite:///"))
        if not create and not file.exists():
            raise StudyRunError(f"{file}: no such study database: run the study first")
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StudyRunError(
                f"{file.parent}: cannot create the study folder (study.output): {exc.strerror}"
            ) from None
    kwargs = {"connect_args": {"timeout": 60}} if sqlite else {}
    try:
        storage = RDBStorage(url, engine_kwargs=kwargs)
        if sqlite:
            _tune_sqlite(storage)
        return storage
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy and drivers raise many kinds
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise StudyRunError(f"storage {url}: cannot open: {reason}") from None


def _tune_sqlite(storage: RDBStorage) -> None:
    """Write-ahead log and NORMAL sync: commits 5-10x faster, still safe when a process dies.

    Only a power loss may drop the last commits. WAL needs a local file system: workers on
    several machines should share a PostgreSQL or MySQL storage instead.
    """
    from sqlalchemy import event

    def pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 - SQLAlchemy hook
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    event.listen(storage.engine, "connect", pragmas)
    storage.engine.dispose()  # connections made before the hook are replaced


def open_study(
    config: StudyConfig, storage: BaseStorage, sampler: BaseSampler | None = None
) -> optuna.Study:
    """Create the study, or load it and check it was created from the same study definition.

    Raises:
        StudyRunError: the stored study has other objectives, space or workload.
    """
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
        records.set_study_identity(study, identity, config.objective_names, config.study.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names(list(config.objective_names))
    elif stored != identity:
        where = getattr(storage, "url", "memory")
        raise StudyRunError(
            f"study {config.study.name!r} in {where} was created from another definition "
            f"(identity {stored}, this file {identity}): only budget, optimizer "
            "and storage may change on resume; give the study a new name"
        )
    return study


def _alive(worker: str) -> bool:
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname():
        return True  # another machine's worker: trust it
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def recover_stale_trials(study: optuna.Study) -> int:
    """Mark trials left RUNNING by dead local workers as failed, and queue them again.

    A worker killed mid-trial (SIGKILL, power loss) leaves its trial RUNNING forever; its point
    is enqueued so the retry scores the same configuration.

    Returns:
        How many trials were recovered.
    """
    recovered = 0
    now = datetime.now()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = records.worker(trial)
        if worker is None:
            # A live worker tags its trial right after asking: give it time to do so.
            started = trial.datetime_start or now
            if (now - started).total_seconds() < UNTAGGED_GRACE_S:
                continue
        elif _alive(worker):
            continue
        if not records.fail_abandoned(study, trial, "worker died (interrupted)"):
            continue  # another worker recovered it (or its own worker just finished it)
        if trial.params:
            records.enqueue(study, trial.params, retry_of=trial.number)
        recovered += 1
    if recovered:
        logger.warning("recovered %d trial(s) left running by a dead worker", recovered)
    return recovered
