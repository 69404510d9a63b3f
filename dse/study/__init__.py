"""Running studies: building a problem, the ask/tell loop, `minimize` and `run_study`."""

from dse.study._build import build_problem, load_workload, output_dir
from dse.study._minimize import collect_result, minimize
from dse.study._optimize import LoopState, derive_seed, optimize, reference_point
from dse.study._problem import Evaluation, Problem
from dse.study._runner import run_study
from dse.study._sensitivity import SensitivityRun, run_sensitivity

__all__ = [
    "Evaluation",
    "LoopState",
    "Problem",
    "SensitivityRun",
    "build_problem",
    "collect_result",
    "derive_seed",
    "load_workload",
    "minimize",
    "optimize",
    "output_dir",
    "reference_point",
    "run_sensitivity",
    "run_study",
]
