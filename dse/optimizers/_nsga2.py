"""NSGA-II (Deb et al., 2002) through Optuna's sampler, driven by ask/tell."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from optuna.samplers import NSGAIISampler

from dse.optimizers._registry import register_optimizer
from dse.optimizers._settings import GeneticSettings, population_size

if TYPE_CHECKING:
    from dse.optimizers._registry import ExactObjectives
    from search_spaces import SearchSpace


class NsgaIISettings(GeneticSettings):
    """NSGA-II (Optuna's sampler) with its population and variation settings."""

    kind: Literal["nsga2"] = "nsga2"


@register_optimizer("nsga2", NsgaIISettings)
def make_sampler(
    settings: Any, space: SearchSpace, seed: int, exact: ExactObjectives | None = None
) -> NSGAIISampler:
    """NSGA-II with the section's population and variation rates.

    Optuna's sampler rather than pymoo's algorithm: it keeps its generations in the study's
    storage (trial system attributes), so a resumed run or a second worker carries on the same
    populations, which pymoo's in-memory state cannot. Constraints are read from each trial
    (`trial.set_constraint`): feasible trials dominate infeasible ones, which rank by total
    violation (Deb's constrained domination).
    """
    return NSGAIISampler(
        population_size=population_size(settings),
        mutation_prob=settings.mutation_prob,
        crossover_prob=settings.crossover_prob,
        seed=seed,
    )
