"""Bayesian optimization first, then NSGA-II seeded with its trials once it stalls.

The Bayesian word-length work this follows used Bayesian optimization to find the region of
good configurations with few scorings, then a cheaper local search to fill it in. Here the
Gaussian process proposes until its hypervolume stops improving, and NSGA-II takes over with
the best of those trials as its first parents.
"""

from __future__ import annotations

import warnings
from collections import Counter
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import optuna
from optuna.samplers import BaseSampler, NSGAIISampler
from optuna.trial import TrialState
from pydantic import Field

from dse.optimizers._bayesian import bayesian_sampler
from dse.optimizers._registry import register_optimizer
from dse.optimizers._settings import GpBackend, OptimizerSettings, PopulationSize, population_size
from dse.storage import records
from results import data_reference, prefix_hypervolume

if TYPE_CHECKING:
    from collections.abc import Sequence

    from optuna.distributions import BaseDistribution
    from optuna.trial import FrozenTrial

    from dse.optimizers._registry import ExactObjectives
    from search_spaces import SearchSpace


class SeededNSGAIISampler(NSGAIISampler):
    """NSGA-II whose generation 0 is every complete trial it did not propose itself.

    Optuna's NSGA-II counts generations through a trial system attribute and ignores trials
    without it, so trials from another sampler would be wasted and its first generation drawn
    at random. Here they form generation 0: the first parents are their elite (non-dominated
    rank, then crowding distance), which is how the hybrid hands over its Bayesian trials.
    """

    def _seeded(self, trial: FrozenTrial) -> bool:
        return records.system_value(trial, self._get_generation_key()) is None

    def get_population(self, study: optuna.Study, generation: int) -> list[FrozenTrial]:
        population = super().get_population(study, generation)
        if generation == 0:
            done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            population = [t for t in done if self._seeded(t)] + population
        return population

    def get_trial_generation(self, study: optuna.Study, trial: FrozenTrial) -> int:
        key = self._get_generation_key()
        stored = records.system_value(trial, key)
        if stored is not None:
            return stored
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        counts = Counter(records.system_value(t, key, 0) for t in done)
        last = max(counts, default=0)
        assert self.population_size is not None
        generation = last if counts[last] < self.population_size else last + 1
        records.set_system_value(study, trial, key, generation)
        return generation


class HybridSampler(BaseSampler):
    """Delegates to a Bayesian sampler until its progress stalls, then to a genetic one.

    The phase of each new trial is a function of the stored trials only: NSGA-II once any
    trial was proposed by it; else after `switch_after` evaluated trials (complete, repeats of
    a scored configuration not counted, as the budget does not count them); else when the
    hypervolume of the first n complete trials exceeds that of the first n - `window` by less
    than `min_improvement` of itself (n >= `n_startup_trials` + `window`). A resumed run or a
    second worker therefore switches at the same trial. Hypervolumes use the study's stored
    reference point, or one past the worst values seen.

    Args:
        bayesian: proposes during the first phase.
        genetic: proposes afterwards; its generation 0 is every earlier trial.
        n_startup_trials: trials before the stall rule applies (besides the window).
        window: complete trials over which the improvement is measured.
        min_improvement: relative hypervolume gain below which the model has stalled (0: never).
        switch_after: complete trials after which the genetic phase starts regardless.
    """

    def __init__(
        self,
        bayesian: BaseSampler,
        genetic: SeededNSGAIISampler,
        *,
        n_startup_trials: int,
        window: int,
        min_improvement: float,
        switch_after: int,
    ) -> None:
        self.bayesian = bayesian
        self.genetic = genetic
        self.n_startup_trials = n_startup_trials
        self.window = window
        self.min_improvement = min_improvement
        self.switch_after = switch_after
        self._phases: dict[int, str] = {}

    def phase(self, study: optuna.Study) -> str:
        """`bayesian` or `nsga2`: which sampler proposes the next trial."""
        trials = study.get_trials(deepcopy=False)
        if any(records.phase(t) == "nsga2" for t in trials):
            return "nsga2"
        done = [records.to_record(t) for t in trials if records.is_evaluated(t)]
        n = len(done)
        if n >= self.switch_after:
            return "nsga2"
        if n < self.n_startup_trials + self.window:
            return "bayesian"
        directions = [d.name.lower() for d in study.directions]
        reference = records.reference_point(study) or data_reference(
            np.array([t.values for t in done]), directions
        )
        now = prefix_hypervolume(done, directions, reference, n)
        before = prefix_hypervolume(done, directions, reference, n - self.window)
        if now > 0 and now - before < self.min_improvement * now:
            return "nsga2"
        return "bayesian"

    def _sampler(self, trial: FrozenTrial) -> BaseSampler:
        phase = self._phases.get(trial._trial_id) or records.phase(trial)  # noqa: SLF001
        return self.genetic if phase == "nsga2" else self.bayesian

    def reseed_rng(self) -> None:
        self.bayesian.reseed_rng()
        self.genetic.reseed_rng()

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        phase = self.phase(study)
        self._phases[trial._trial_id] = phase  # noqa: SLF001
        records.set_phase(study, trial, "enqueued" if records.is_enqueued(trial) else phase)
        self._sampler(trial).before_trial(study, trial)

    def infer_relative_search_space(
        self, study: optuna.Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return self._sampler(trial).infer_relative_search_space(study, trial)

    def sample_relative(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        search_space: dict[str, BaseDistribution],
    ) -> dict[str, Any]:
        return self._sampler(trial).sample_relative(study, trial, search_space)

    def sample_independent(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        return self._sampler(trial).sample_independent(
            study, trial, param_name, param_distribution
        )

    def after_trial(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self._sampler(trial).after_trial(study, trial, state, values)
        self._phases.pop(trial._trial_id, None)  # noqa: SLF001


class HybridSettings(OptimizerSettings):
    """Bayesian optimization first, then NSGA-II seeded with its trials once it stalls.

    The switch happens at the first evaluated-trial count n >= `n_startup_trials` + `window`
    where the hypervolume of the first n trials exceeds that of the first n - `window` by less
    than `min_improvement` (relative), or at `switch_after` trials at the latest: the GP
    finds the front's shape with few scorings, the genetic search then fills it in at a cost
    per proposal that does not grow with the number of trials. `min_improvement` is 0 (the
    stall rule off) by default: on the search-efficiency benchmark the GP's hypervolume pauses
    for 20 evaluations long before it has converged, and switching there cost 0.06 of the true
    hypervolume at 200 evaluations (docs/benchmarks.md).
    """

    kind: Literal["hybrid"] = "hybrid"
    n_startup_trials: Annotated[int, Field(ge=1)] = 10
    backend: GpBackend = "cost_aware"
    window: Annotated[int, Field(ge=1)] = 20
    min_improvement: Annotated[float, Field(ge=0, le=1)] = 0.0
    switch_after: Annotated[int, Field(ge=1)] = 150
    population_size: PopulationSize = "auto"
    mutation_prob: Annotated[float, Field(ge=0, le=1)] | None = None
    crossover_prob: Annotated[float, Field(ge=0, le=1)] = 0.9


@register_optimizer("hybrid", HybridSettings)
def make_sampler(
    settings: Any, space: SearchSpace, seed: int, exact: ExactObjectives | None = None
) -> HybridSampler:
    """A GP sampler (`backend`) until its hypervolume stalls, then NSGA-II from its elite."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        genetic = SeededNSGAIISampler(
            population_size=population_size(settings),
            mutation_prob=settings.mutation_prob,
            crossover_prob=settings.crossover_prob,
            seed=seed,
        )
    return HybridSampler(
        bayesian_sampler(settings.backend, space, seed, exact, settings.n_startup_trials),
        genetic,
        n_startup_trials=settings.n_startup_trials,
        window=settings.window,
        min_improvement=settings.min_improvement,
        switch_after=settings.switch_after,
    )
