"""Storage of studies: opening Optuna storages (databases, journal files, memory), the one
mapping of trials to `TrialRecord`s, the lock workers share, their heartbeats and the recovery
of trials whose worker is gone."""

from dse.storage import _records as records
from dse.storage._liveness import (
    Heartbeat,
    Liveness,
    StaleTrials,
    WorkerState,
    local_process_gone,
    recover,
    recover_trial,
    register_worker,
    worker_states,
)
from dse.storage._lock import StudyMutex
from dse.storage._records import read_records, to_record
from dse.storage._resilient import RECONNECT_S, ResilientStorage, is_transient
from dse.storage._storage import (
    UNTAGGED_GRACE_S,
    make_storage,
    open_study,
    recover_stale_trials,
    storage_url,
    study_folder,
    study_mutex,
    worker_id,
    wrap_storage,
)
from dse.storage._urls import BACKENDS, StorageUrl, redact_url
from dse.storage._worker import WorkerTaggingSampler

__all__ = [
    "BACKENDS",
    "RECONNECT_S",
    "UNTAGGED_GRACE_S",
    "Heartbeat",
    "Liveness",
    "ResilientStorage",
    "StaleTrials",
    "StorageUrl",
    "StudyMutex",
    "WorkerState",
    "WorkerTaggingSampler",
    "is_transient",
    "local_process_gone",
    "make_storage",
    "open_study",
    "read_records",
    "records",
    "recover",
    "recover_stale_trials",
    "recover_trial",
    "redact_url",
    "register_worker",
    "storage_url",
    "study_folder",
    "study_mutex",
    "to_record",
    "worker_id",
    "worker_states",
    "wrap_storage",
]
