"""dse: multi-objective design-space exploration of approximate CNN accelerators for FPGAs.

Typical use is the command line, `python -m dse run study.yaml`; the same steps are public here:

    from dse import load_study, run_study
    result = run_study(load_study("study.yaml"), "study.yaml")
    print(result.front_table())
"""

from dse._errors import DseError, StudyFileError, StudyRunError
from dse.config import StudyConfig, load_study
from dse.results import ParetoFront
from dse.study import StudyResult, run_study

__all__ = [
    "DseError",
    "ParetoFront",
    "StudyConfig",
    "StudyFileError",
    "StudyResult",
    "StudyRunError",
    "load_study",
    "run_study",
]
