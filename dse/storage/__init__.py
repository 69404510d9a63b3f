"""Storage of studies: opening Optuna storages, the one mapping of trials to `TrialRecord`s,
and which worker owns a trial."""

from dse.storage import _records as records
from dse.storage._records import read_records, to_record
from dse.storage._storage import (
    UNTAGGED_GRACE_S,
    make_storage,
    open_study,
    recover_stale_trials,
    storage_url,
    study_folder,
    worker_id,
)
from dse.storage._worker import WorkerTaggingSampler

__all__ = [
    "UNTAGGED_GRACE_S",
    "WorkerTaggingSampler",
    "make_storage",
    "open_study",
    "read_records",
    "records",
    "recover_stale_trials",
    "storage_url",
    "study_folder",
    "to_record",
    "worker_id",
]
