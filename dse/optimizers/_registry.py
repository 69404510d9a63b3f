"""Optimizers by name: each a factory of an Optuna sampler for a study's space and seed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from dse._errors import DseError
from dse.optimizers._settings import OptimizerSettings

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

_REGISTRY: dict[str, tuple[SamplerFactory, type[OptimizerSettings]]] = {}


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


def register_optimizer(
    name: str, settings: type[OptimizerSettings]
) -> Callable[[SamplerFactory], SamplerFactory]:
    """Register a sampler factory and its settings model under `name` (decorator).

    study.yaml's `optimizer` section with `kind: <name>` is validated by `settings` (a
    subclass of `OptimizerSettings` whose `kind` field is `Literal["<name>"]`), then given to
    the factory. A plugin registers the same way, from a module that study.yaml's `plugins`
    names or a `dse.plugins` entry point (see `dse.config.load_plugins`).

    Raises:
        OptimizerSettingsError: `settings` is not an `OptimizerSettings` subclass, or
            another factory already holds the name.
    """
    if not (isinstance(settings, type) and issubclass(settings, OptimizerSettings)):
        raise OptimizerSettingsError("kind", f"{name!r}: settings must subclass OptimizerSettings")

    def decorate(factory: SamplerFactory) -> SamplerFactory:
        held = _REGISTRY.get(name)
        if held is not None and held[0] is not factory:
            raise OptimizerSettingsError(
                "kind", f"{name!r} is already registered by {held[0].__module__}"
            )
        _REGISTRY[name] = (factory, settings)
        return factory

    return decorate


def _entry(name: str) -> tuple[SamplerFactory, type[OptimizerSettings]]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownOptimizerError(
            f"unknown optimizer {name!r}; expected one of: {', '.join(available_optimizers())}"
        ) from None


def get_optimizer(name: str) -> SamplerFactory:
    """The factory registered under `name`.

    Raises:
        UnknownOptimizerError: listing the registered names.
    """
    return _entry(name)[0]


def optimizer_settings(name: str) -> type[OptimizerSettings]:
    """The settings model registered under `name`.

    Raises:
        UnknownOptimizerError: listing the registered names.
    """
    return _entry(name)[1]


def available_optimizers() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))
