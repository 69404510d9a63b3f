"""Optimizers by name: each a factory of an Optuna sampler for a study's space and seed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from dse._errors import DseError

if TYPE_CHECKING:
    from optuna.samplers import BaseSampler

    from evaluators import Configuration
    from search_spaces import SearchSpace


class ExactObjectives(Protocol):
    """The objectives of a study that are computed, not scored (the hardware model's)."""

    def exact_values(self, configuration: Configuration) -> tuple[tuple[float | None, ...], bool]:
        """Each objective's value, `None` where it must be scored (accuracy), and whether the
        constraints on computed metrics hold."""
        ...


SamplerFactory = Callable[[Any, "SearchSpace", int, "ExactObjectives | None"], "BaseSampler"]
"""`make_sampler(settings, space, seed, exact) -> BaseSampler`; settings is the optimizer
section, `exact` computes the objectives that need no scoring (None: model them all)."""

_REGISTRY: dict[str, SamplerFactory] = {}


class UnknownOptimizerError(DseError, KeyError):
    """No optimizer of that name is registered."""

    def __str__(self) -> str:
        return str(self.args[0])


class OptimizerSettingsError(DseError, ValueError):
    """An optimizer cannot run with its settings on this space.

    Args:
        field: the `optimizer` key at fault (e.g. `max_size`), for `optimizer.<field>`.
        reason: what is wrong and what would fit.
    """

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"optimizer.{field}: {reason}")


def register_optimizer(name: str) -> Callable[[SamplerFactory], SamplerFactory]:
    """Register a sampler factory under `name` (decorator)."""

    def decorate(factory: SamplerFactory) -> SamplerFactory:
        _REGISTRY[name] = factory
        return factory

    return decorate


def get_optimizer(name: str) -> SamplerFactory:
    """The factory registered under `name`.

    Raises:
        UnknownOptimizerError: listing the registered names.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownOptimizerError(
            f"unknown optimizer {name!r}; expected one of: {', '.join(available_optimizers())}"
        ) from None


def available_optimizers() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def population_size(settings: Any) -> int:
    """The genetic samplers' population: `settings.population_size`, or from the budget if `auto`.

    `auto` is `budget // 10` clamped into [8, 50]: about ten generations whatever the budget,
    which a fixed 20 gives only from 200 evaluations on. A resumed study with a larger budget
    continues with the larger population.
    """
    if settings.population_size != "auto":
        return int(settings.population_size)
    return min(max(settings.budget // 10, 8), 50)
