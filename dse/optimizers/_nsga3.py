"""NSGA-III (Deb and Jain, 2014) through Optuna's sampler, driven by ask/tell."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Annotated, Any, Literal

import optuna
from optuna.samplers import NSGAIIISampler
from pydantic import Field

from dse.optimizers._registry import register_optimizer
from dse.optimizers._settings import GeneticSettings, population_size

if TYPE_CHECKING:
    from dse.optimizers._registry import ExactObjectives
    from search_spaces import SearchSpace


class NsgaIIISettings(GeneticSettings):
    """NSGA-III: NSGA-II's survival by reference directions, for 3 or more objectives."""

    kind: Literal["nsga3"] = "nsga3"
    dividing_parameter: Annotated[int, Field(ge=1, le=100)] = 3


@register_optimizer("nsga3", NsgaIIISettings)
def make_sampler(
    settings: Any, space: SearchSpace, seed: int, exact: ExactObjectives | None = None
) -> NSGAIIISampler:
    """NSGA-III with the section's population, variation rates and reference directions.

    Survival by niches around Das-Dennis reference directions (`dividing_parameter`
    divisions per objective) keeps a spread front with 3 or more objectives, where NSGA-II's
    crowding distance loses its meaning. Like NSGA-II it keeps its generations in the
    study's storage, so resume and many workers work, and reads `trial.set_constraint`.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return NSGAIIISampler(
            population_size=population_size(settings),
            mutation_prob=settings.mutation_prob,
            crossover_prob=settings.crossover_prob,
            dividing_parameter=settings.dividing_parameter,
            seed=seed,
        )
