"""The study.yaml schema and its loader."""

from dse.config._layers import resolve_layers
from dse.config._loader import describe_validation_error, load_study, validate_settings
from dse.config._plugins import ENTRY_POINT_GROUP, load_plugins
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
    "ENTRY_POINT_GROUP",
    "load_plugins",
    "validate_settings",
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
