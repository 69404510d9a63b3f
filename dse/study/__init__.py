"""Running studies: setup, the ask/tell loop, storage and the result record."""

from dse.study._optimize import LoopState, derive_seed, optimize
from dse.study._problem import Evaluation, Problem
from dse.study._rescore import RESCORED_ATTR, rescore_front, rescored_table
from dse.study._result import StudyResult
from dse.study._runner import collect_result, run_study
from dse.study._sensitivity import SensitivityRun, run_sensitivity
from dse.study._setup import StudySetup, build_setup
from dse.study._storage import make_storage, open_study, recover_stale_trials, storage_url

__all__ = [
    "RESCORED_ATTR",
    "Evaluation",
    "LoopState",
    "Problem",
    "SensitivityRun",
    "StudyResult",
    "StudySetup",
    "build_setup",
    "collect_result",
    "derive_seed",
    "make_storage",
    "open_study",
    "optimize",
    "recover_stale_trials",
    "rescore_front",
    "rescored_table",
    "run_sensitivity",
    "run_study",
    "storage_url",
]
