"""Optimizers: registered factories of Optuna samplers, selected by `optimizer.kind`."""

from dse.optimizers import _nsga2, _random  # noqa: F401 - registration
from dse.optimizers._registry import (
    SamplerFactory,
    UnknownOptimizerError,
    available_optimizers,
    get_optimizer,
    register_optimizer,
)

__all__ = [
    "SamplerFactory",
    "UnknownOptimizerError",
    "available_optimizers",
    "get_optimizer",
    "register_optimizer",
]
