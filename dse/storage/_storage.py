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
from optuna.storages import RDBStorage
from optuna.trial import TrialState

from dse._errors import StudyRunError

if TYPE_CHECKING:
    from optuna.samplers import BaseSampler

    from dse.config import StudyConfig

logger = logging.getLogger(__name__)

WORKER_ATTR = "dse:worker"
RETRY_ATTR = "dse:retry_of"
UNTAGGED_GRACE_S = 10.0
"""Seconds a RUNNING trial without a worker tag is presumed alive: its worker tags it right
after creating it (`WorkerTaggingSampler.before_trial`), so one untagged for longer is dead."""


def storage_url(config: StudyConfig) -> str:
    """The configured URL, or SQLite in the study's folder."""
    if config.storage.url:
        return config.storage.url
    folder = Path(config.study.output) / config.study.name
    return f"sqlite:///{(folder / 'study.db').resolve()}"


def worker_id() -> str:
    """`host:pid` of this process, recorded on every trial it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def make_storage(url: str, *, create: bool = True) -> RDBStorage:
    """An RDB storage; SQLite waits for locks held by other workers instead of failing.

    Args:
        url: an SQLAlchemy URL.
        create: make a missing SQLite file (and its folder); without it, a study that never
            ran is an error and nothing is written (`status`, `pareto`).

    Raises:
        StudyRunError: the storage cannot be opened or created.
    """
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
    config: StudyConfig, storage: RDBStorage, sampler: BaseSampler | None = None
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
    attrs = study.user_attrs
    identity = config.identity_hash()
    if "identity_hash" not in attrs:
        study.set_user_attr("identity_hash", identity)
        study.set_user_attr("objectives", list(config.objective_names))
        study.set_user_attr("seed", config.study.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names(list(config.objective_names))
    elif attrs["identity_hash"] != identity:
        raise StudyRunError(
            f"study {config.study.name!r} in {storage.url} was created from another definition "
            f"(identity {attrs['identity_hash']}, this file {identity}): only budget, optimizer "
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
    storage = study._storage  # noqa: SLF001 - Optuna exposes no public state setter
    recovered = 0
    now = datetime.now()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = trial.user_attrs.get(WORKER_ATTR)
        if worker is None:
            # A live worker tags its trial right after asking: give it time to do so.
            started = trial.datetime_start or now
            if (now - started).total_seconds() < UNTAGGED_GRACE_S:
                continue
        elif _alive(worker):
            continue
        trial_id = trial._trial_id  # noqa: SLF001
        try:
            storage.set_trial_user_attr(trial_id, "fail_reason", "worker died (interrupted)")
            storage.set_trial_state_values(trial_id, TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another worker recovered it (or its own worker just finished it)
        if trial.params:
            study.enqueue_trial(trial.params, user_attrs={RETRY_ATTR: trial.number})
        recovered += 1
    if recovered:
        logger.warning("recovered %d trial(s) left running by a dead worker", recovered)
    return recovered
