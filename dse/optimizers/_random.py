"""Random search: the baseline every other optimizer must beat."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from optuna.samplers import RandomSampler

from dse.optimizers._registry import register_optimizer
from dse.optimizers._settings import OptimizerSettings

if TYPE_CHECKING:
    from dse.optimizers._registry import ExactObjectives
    from search_spaces import SearchSpace


class RandomSettings(OptimizerSettings):
    """Uniform random sampling: the baseline every optimizer must beat."""

    kind: Literal["random"] = "random"


@register_optimizer("random", RandomSettings)
def make_sampler(
    settings: Any, space: SearchSpace, seed: int, exact: ExactObjectives | None = None
) -> RandomSampler:
    """Uniform sampling of every variable (log-uniform for cluster counts)."""
    return RandomSampler(seed=seed)
