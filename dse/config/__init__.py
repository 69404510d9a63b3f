"""The study.yaml schema and its loader."""

from dse.config._layers import resolve_layers
from dse.config._loader import describe_validation_error, load_study
from dse.config._schema import (
    CONSTRAINT_METRICS,
    OBJECTIVE_DIRECTIONS,
    ActivationSpace,
    CodebookSection,
    Constraint,
    LayerRule,
    Objective,
    SearchSpaceSection,
    StudyConfig,
    WeightSpace,
)

__all__ = [
    "CONSTRAINT_METRICS",
    "OBJECTIVE_DIRECTIONS",
    "ActivationSpace",
    "CodebookSection",
    "Constraint",
    "LayerRule",
    "Objective",
    "SearchSpaceSection",
    "StudyConfig",
    "WeightSpace",
    "describe_validation_error",
    "load_study",
    "resolve_layers",
]
