"""Multi-objective TPE (Ozaki et al., 2020) through Optuna's sampler."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from optuna.samplers import TPESampler

from dse.optimizers._registry import register_optimizer

if TYPE_CHECKING:
    from dse.optimizers._registry import ExactObjectives
    from search_spaces import SearchSpace


@register_optimizer("tpe")
def make_sampler(
    settings: Any, space: SearchSpace, seed: int, exact: ExactObjectives | None = None
) -> TPESampler:
    """MOTPE: density models of the good and bad trials, split by non-domination rank.

    `multivariate` models the variables jointly, which matters here: a layer's bits only
    count when its kind is `fixed`. Its cost per proposal stays in milliseconds at thousands
    of trials. Constraints are read from `trial.set_constraint`.
    """
    return TPESampler(
        n_startup_trials=settings.n_startup_trials,
        n_ei_candidates=settings.n_ei_candidates,
        multivariate=True,
        seed=seed,
    )
