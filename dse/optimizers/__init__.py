"""Optimizers: registered factories of Optuna samplers, selected by `optimizer.kind`."""

from dse.optimizers import (  # noqa: F401 - registration
    _bayesian,
    _grid,
    _hybrid,
    _nsga2,
    _nsga3,
    _random,
    _tpe,
)
from dse.optimizers._grid import ExhaustiveSampler
from dse.optimizers._hybrid import PHASE_ATTR, HybridSampler, SeededNSGAIISampler
from dse.optimizers._registry import (
    OptimizerSettingsError,
    SamplerFactory,
    UnknownOptimizerError,
    available_optimizers,
    get_optimizer,
    population_size,
    register_optimizer,
)

__all__ = [
    "PHASE_ATTR",
    "ExhaustiveSampler",
    "HybridSampler",
    "OptimizerSettingsError",
    "SamplerFactory",
    "SeededNSGAIISampler",
    "UnknownOptimizerError",
    "available_optimizers",
    "get_optimizer",
    "population_size",
    "register_optimizer",
]
