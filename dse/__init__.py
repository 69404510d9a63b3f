"""dse: multi-objective design-space exploration of approximate CNN accelerators for FPGAs.

From Python, a trained torch model and data in memory (see docs/library.md):

    from dse import Problem, minimize
    problem = Problem.from_model(model, validation=DataSplit(x, y))
    result = minimize(problem, "nsga2", budget=100)
    result.front.points  # objective values and the Configuration of each point

From a study file, what `python -m dse run study.yaml` does:

    from dse import load_study, run_study
    result = run_study(load_study("study.yaml"), "study.yaml")
"""

from dse._errors import DseError, SettingsError, StudyFileError, StudyRunError
from dse.config import StudyConfig, load_study
from dse.study import Problem, minimize, run_study
from results import FrontPoint, ParetoFront, StudyResult, TrialRecord

__all__ = [
    "DseError",
    "FrontPoint",
    "ParetoFront",
    "Problem",
    "SettingsError",
    "StudyConfig",
    "StudyFileError",
    "StudyResult",
    "StudyRunError",
    "TrialRecord",
    "load_study",
    "minimize",
    "run_study",
]
