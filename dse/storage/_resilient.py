"""The storage dse opens: Optuna's, with connection losses waited out and the study lock."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Container, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from optuna.storages import BaseStorage

from dse._errors import StudyRunError
from dse.storage._urls import redact_url

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution
    from optuna.study import StudyDirection
    from optuna.study._frozen import FrozenStudy
    from optuna.trial import FrozenTrial, TrialState

    from dse.storage._lock import StudyMutex

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

RECONNECT_S = 600.0
"""Default seconds a worker keeps retrying an unreachable storage before it gives up."""


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) is a lost or refused connection, worth retrying.

    SQLAlchemy's `OperationalError`, `InterfaceError` and `DisconnectionError` (a server
    restarting, a dropped connection, SQLite's "database is locked"), and I/O errors of a
    journal file on a network file system (a stale NFS handle), not a missing permission.
    """
    from sqlalchemy import exc as sa

    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, sa.OperationalError | sa.InterfaceError | sa.DisconnectionError):
            return True
        if isinstance(error, OSError) and not isinstance(
            error, PermissionError | FileNotFoundError | IsADirectoryError
        ):
            return True
        error = error.__cause__ or error.__context__
    return False


def retry_transient(call: Callable[[], _T], patience_s: float, what: str) -> _T:
    """`call()`, retried with a growing pause while it fails on a lost or refused connection
    (`is_transient`), for up to `patience_s` seconds in all.

    Raises:
        StudyRunError: still failing after `patience_s` seconds (names `what` and the reason).
    """
    deadline: float | None = None
    pause = 0.25
    while True:
        try:
            result = call()
        except Exception as exc:
            if not is_transient(exc):
                raise
            now = time.monotonic()
            lines = str(getattr(exc, "orig", None) or exc.__cause__ or exc).strip().splitlines()
            reason = redact_url(lines[0]) if lines else type(exc).__name__
            if deadline is None:
                deadline = now + patience_s
                logger.warning(
                    "%s unreachable (%s); retrying for up to %.0f s", what, reason, patience_s
                )
            if now >= deadline:
                raise StudyRunError(
                    f"{what}: unreachable for {patience_s:.0f} s (storage.reconnect_s): {reason}"
                ) from None
            time.sleep(min(pause, max(0.0, deadline - now)))
            pause = min(pause * 2, 5.0)
            continue
        if deadline is not None:
            logger.warning("%s reachable again", what)
        return result


class ResilientStorage(BaseStorage):
    """An Optuna storage that waits out connection losses, with the study lock of its backend.

    Every call that fails on a lost or refused connection (`is_transient`: a PostgreSQL
    restart, a network outage, a stale NFS handle) is retried with a growing pause, up to
    `reconnect_s` seconds in all, then fails with `StudyRunError`. Reads and attribute writes
    are idempotent; a trial creation whose reply was lost may leave a trial nobody owns, which
    the heartbeat check fails later (`dse.storage.StaleTrials`).

    Args:
        storage: the Optuna storage (RDB, journal, in memory).
        url: where it lives, for messages (shown with its password redacted).
        mutex: the lock workers of this storage share (`dse.storage.StudyMutex`).
        reconnect_s: how long a call keeps retrying (seconds).
    """

    def __init__(
        self,
        storage: BaseStorage,
        *,
        url: str,
        mutex: StudyMutex,
        reconnect_s: float = RECONNECT_S,
    ) -> None:
        self.storage = storage
        self.url = redact_url(url)
        self.mutex = mutex
        self.reconnect_s = reconnect_s

    def _retry(self, call: Callable[[], _T]) -> _T:
        return retry_transient(call, self.reconnect_s, f"storage {self.url}")

    # --- studies ---------------------------------------------------------------------------

    def create_new_study(
        self, directions: Sequence[StudyDirection], study_name: str | None = None
    ) -> int:
        return self._retry(lambda: self.storage.create_new_study(directions, study_name))

    def delete_study(self, study_id: int) -> None:
        self._retry(lambda: self.storage.delete_study(study_id))

    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None:
        self._retry(lambda: self.storage.set_study_user_attr(study_id, key, value))

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        self._retry(lambda: self.storage.set_study_system_attr(study_id, key, value))

    def get_study_id_from_name(self, study_name: str) -> int:
        return self._retry(lambda: self.storage.get_study_id_from_name(study_name))

    def get_study_name_from_id(self, study_id: int) -> str:
        return self._retry(lambda: self.storage.get_study_name_from_id(study_id))

    def get_study_directions(self, study_id: int) -> list[StudyDirection]:
        return self._retry(lambda: self.storage.get_study_directions(study_id))

    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]:
        return self._retry(lambda: self.storage.get_study_user_attrs(study_id))

    def get_study_system_attrs(self, study_id: int) -> dict[str, Any]:
        return self._retry(lambda: self.storage.get_study_system_attrs(study_id))

    def get_all_studies(self) -> list[FrozenStudy]:
        return self._retry(self.storage.get_all_studies)

    # --- trials ----------------------------------------------------------------------------

    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        return self._retry(lambda: self.storage.create_new_trial(study_id, template_trial))

    def set_trial_param(
        self,
        trial_id: int,
        param_name: str,
        param_value_internal: float,
        distribution: BaseDistribution,
    ) -> None:
        self._retry(
            lambda: self.storage.set_trial_param(
                trial_id, param_name, param_value_internal, distribution
            )
        )

    def get_trial_id_from_study_id_trial_number(self, study_id: int, trial_number: int) -> int:
        return self._retry(
            lambda: self.storage.get_trial_id_from_study_id_trial_number(study_id, trial_number)
        )

    def set_trial_state_values(
        self, trial_id: int, state: TrialState, values: Sequence[float] | None = None
    ) -> bool:
        return self._retry(lambda: self.storage.set_trial_state_values(trial_id, state, values))

    def set_trial_intermediate_value(
        self, trial_id: int, step: int, intermediate_value: float
    ) -> None:
        self._retry(
            lambda: self.storage.set_trial_intermediate_value(trial_id, step, intermediate_value)
        )

    def set_trial_user_attr(self, trial_id: int, key: str, value: Any) -> None:
        self._retry(lambda: self.storage.set_trial_user_attr(trial_id, key, value))

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        self._retry(lambda: self.storage.set_trial_system_attr(trial_id, key, value))

    def get_trial(self, trial_id: int) -> FrozenTrial:
        return self._retry(lambda: self.storage.get_trial(trial_id))

    def get_all_trials(
        self,
        study_id: int,
        deepcopy: bool = True,
        states: Container[TrialState] | None = None,
    ) -> list[FrozenTrial]:
        return self._retry(lambda: self.storage.get_all_trials(study_id, deepcopy, states))

    def get_n_trials(
        self, study_id: int, state: tuple[TrialState, ...] | TrialState | None = None
    ) -> int:
        return self._retry(lambda: self.storage.get_n_trials(study_id, state))

    def get_best_trial(self, study_id: int) -> FrozenTrial:
        return self._retry(lambda: self.storage.get_best_trial(study_id))

    def remove_session(self) -> None:
        self.storage.remove_session()
