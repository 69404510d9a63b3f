"""Optimizers: registered factories of Optuna samplers, each with its settings model,
selected by `optimizer.kind`."""

from dse.optimizers import (  # noqa: F401 - registration
    _bayesian,
    _grid,
    _hybrid,
    _nsga2,
    _nsga3,
    _random,
    _tpe,
)
from dse.optimizers._bayesian import BayesianSettings
from dse.optimizers._grid import ExhaustiveSampler, GridSettings
from dse.optimizers._hybrid import HybridSampler, HybridSettings, SeededNSGAIISampler
from dse.optimizers._nsga2 import NsgaIISettings
from dse.optimizers._nsga3 import NsgaIIISettings
from dse.optimizers._random import RandomSettings
from dse.optimizers._registry import (
    ExactObjectives,
    OptimizerSettingsError,
    SamplerFactory,
    UnknownOptimizerError,
    available_optimizers,
    get_optimizer,
    optimizer_settings,
    register_optimizer,
)
from dse.optimizers._settings import (
    GeneticSettings,
    OptimizerSettings,
    PopulationSize,
    population_size,
)
from dse.optimizers._tpe import TpeSettings

__all__ = [
    "BayesianSettings",
    "ExactObjectives",
    "ExhaustiveSampler",
    "GeneticSettings",
    "GridSettings",
    "HybridSampler",
    "HybridSettings",
    "NsgaIIISettings",
    "NsgaIISettings",
    "OptimizerSettings",
    "OptimizerSettingsError",
    "PopulationSize",
    "RandomSettings",
    "SamplerFactory",
    "SeededNSGAIISampler",
    "TpeSettings",
    "UnknownOptimizerError",
    "available_optimizers",
    "get_optimizer",
    "optimizer_settings",
    "population_size",
    "register_optimizer",
]
