"""Exhaustive search: every point of a small space once, in a seeded order."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from optuna.samplers import BaseSampler, RandomSampler
from pydantic import Field

from dse.optimizers._registry import OptimizerSettingsError, register_optimizer
from dse.optimizers._settings import OptimizerSettings
from dse.storage import records

if TYPE_CHECKING:
    from collections.abc import Sequence

    import optuna
    from optuna.distributions import BaseDistribution
    from optuna.trial import FrozenTrial, TrialState

    from dse.optimizers._registry import ExactObjectives
    from search_spaces import SearchSpace

logger = logging.getLogger(__name__)


class ExhaustiveSampler(BaseSampler):
    """Proposes each point of a finite space once, in a seeded random order.

    Unlike Optuna's GridSampler it tracks visited points by their parameters, not by grid
    ids, so enqueued points (warm start, retries) count as visited, a resumed run with a new
    seed still skips what is stored, and no `study.stop()` is needed in an ask/tell loop.
    Once every point has been proposed it proposes them again in the same order; the study
    loop does not score a configuration twice and stops after a run of such repeats.

    Args:
        names: the variables, in a fixed order.
        values: every value of each variable (`Variable.values()`).
        seed: fixes the order of the points.
    """

    def __init__(
        self, names: Sequence[str], values: Sequence[Sequence[Any]], *, seed: int | None = None
    ) -> None:
        self.names = tuple(names)
        self.values = tuple(tuple(v) for v in values)
        self.seed = seed
        self._radices = [len(v) for v in self.values]
        self._order = np.random.default_rng(seed).permutation(int(np.prod(self._radices)))
        self._visited: set[tuple[Any, ...]] = set()
        self._scanned = 0
        self._cursor = 0
        self._fallback = RandomSampler(seed=seed)

    def _point(self, index: int) -> tuple[Any, ...]:
        """The point at mixed-radix `index` (the last variable varies fastest)."""
        point = []
        for radix, values in zip(reversed(self._radices), reversed(self.values), strict=True):
            index, digit = divmod(index, radix)
            point.append(values[digit])
        return tuple(reversed(point))

    def _next_unvisited(self, study: optuna.Study) -> tuple[Any, ...]:
        trials = study.get_trials(deepcopy=False)
        for t in trials[self._scanned :]:
            if all(n in t.params for n in self.names):
                self._visited.add(tuple(t.params[n] for n in self.names))
        self._scanned = len(trials)
        size = len(self._order)
        for _ in range(size):
            point = self._point(int(self._order[self._cursor % size]))
            self._cursor += 1
            if point not in self._visited:
                return point
        logger.warning("every point of the space has been proposed; proposing them again")
        return self._point(int(self._order[self._cursor % size]))

    def infer_relative_search_space(
        self, study: optuna.Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        search_space: dict[str, BaseDistribution],
    ) -> dict[str, Any]:
        return {}

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._pending = None if records.is_enqueued(trial) else self._next_unvisited(study)

    def sample_independent(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        if self._pending is None or param_name not in self.names:
            return self._fallback.sample_independent(study, trial, param_name, param_distribution)
        return self._pending[self.names.index(param_name)]

    def after_trial(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        if trial.params:
            self._visited.add(tuple(trial.params.get(n) for n in self.names))


class GridSettings(OptimizerSettings):
    """Every point of the space once, in a seeded order; refuses spaces over `max_size`."""

    kind: Literal["grid"] = "grid"
    max_size: Annotated[int, Field(ge=1)] = 100_000


@register_optimizer("grid", GridSettings)
def make_sampler(
    settings: Any, space: SearchSpace, seed: int, exact: ExactObjectives | None = None
) -> ExhaustiveSampler:
    """Every point of the space, for spaces small enough to enumerate.

    Raises:
        OptimizerSettingsError: the space has more points than `max_size`.
    """
    size = space.size()
    if size > settings.max_size:
        raise OptimizerSettingsError(
            "max_size",
            f"the search space has {size:,} points, over the limit of "
            f"{settings.max_size:,}; narrow the space or raise max_size",
        )
    if settings.budget > size:
        logger.warning(
            "budget %d exceeds the space's %d points: the study stops once all are scored",
            settings.budget,
            size,
        )
    return ExhaustiveSampler(
        [v.name for v in space.variables], [v.values() for v in space.variables], seed=seed
    )
