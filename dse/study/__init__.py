"""Running studies: building a problem, the one-time work, the ask/tell loop, `minimize`,
`run_study` and local worker processes."""

from dse.study._build import build_problem, load_workload, output_dir
from dse.study._init import InitResult, init_study
from dse.study._minimize import collect_result, minimize
from dse.study._optimize import LoopState, derive_seed, optimize, reference_point
from dse.study._points import warm_start_points
from dse.study._problem import Evaluation, Problem
from dse.study._runner import run_study
from dse.study._sensitivity import SensitivityRun, run_sensitivity
from dse.study._signals import StopSignal, WorkerStopped
from dse.study._workers import (
    WorkersResult,
    WorkerSummary,
    finish_study,
    run_worker,
    run_worker_job,
    run_workers,
)

__all__ = [
    "Evaluation",
    "InitResult",
    "LoopState",
    "Problem",
    "SensitivityRun",
    "StopSignal",
    "WorkerStopped",
    "WorkerSummary",
    "WorkersResult",
    "build_problem",
    "collect_result",
    "derive_seed",
    "finish_study",
    "init_study",
    "load_workload",
    "minimize",
    "optimize",
    "output_dir",
    "reference_point",
    "run_sensitivity",
    "run_study",
    "run_worker",
    "run_worker_job",
    "run_workers",
    "warm_start_points",
]
