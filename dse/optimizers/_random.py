"""Random search: the baseline every other optimizer must beat."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from optuna.samplers import RandomSampler

from dse.optimizers._registry import register_optimizer

if TYPE_CHECKING:
    from dse.optimizers._registry import ExactObjectives
    from search_spaces import SearchSpace


@register_optimizer("random")
def make_sampler(
    settings: Any, space: SearchSpace, seed: int, exact: ExactObjectives | None = None
) -> RandomSampler:
    """Uniform sampling of every variable (log-uniform for cluster counts)."""
    return RandomSampler(seed=seed)
