"""The proxy interface and its registry: cheap stand-ins for exact accuracy.

A proxy returns a *degradation*: 0 for the float model, larger when the approximation hurts
more. It never claims to be an accuracy; `CalibratedProxy` maps it to one from a few exact
scores, and `ProxyEvaluator` turns that into an `Evaluator`. Keeping the two apart lets the
fidelity of every proxy be measured the same way, on the same exact scores.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from evaluators._errors import ProxyError

if TYPE_CHECKING:
    from evaluators._configuration import Configuration
    from evaluators._workload import Workload

__all__ = ["Proxy", "available_proxies", "get_proxy", "register_proxy"]


class Proxy(ABC):
    """A cheap degradation measure of a configuration; lower is better, 0 for float32.

    Contract: `value` is a pure function of (workload, configuration); caches are keyed by its
    inputs (per layer and format), so a study pays for each layer choice once and every later
    configuration costs a few dictionary look-ups. It never modifies the workload's model.

    Args:
        workload: the float model and its data.
        calibration_samples: training samples the proxy may run the model on (activation
            statistics); proxies that read weights only ignore it.
        options: the proxy's own settings, an instance of its `settings_model` (study.yaml's
            `evaluator.options`, validated), or None for a proxy without any.

    Attributes:
        name: the registered name (set by `register_proxy`).
        settings_model: a dataclass of the proxy's own settings, or None (set by
            `register_proxy`).
    """

    name: ClassVar[str] = ""
    settings_model: ClassVar[type | None] = None

    def __init__(
        self, workload: Workload, *, calibration_samples: int = 256, options: Any = None
    ) -> None:
        self.workload = workload
        self.calibration_samples = calibration_samples
        self.options = options

    @abstractmethod
    def value(self, configuration: Configuration) -> float:
        """The degradation of `configuration` (dimensionless, >= 0 for the built-in ones)."""


_P = TypeVar("_P", bound=type[Proxy])
_PROXIES: dict[str, type[Proxy]] = {}


def register_proxy(name: str, settings_model: type | None = None) -> Callable[[_P], _P]:
    """Class decorator registering a `Proxy` under `name` (what study.yaml's `kind` says).

    Args:
        name: the name study.yaml's `evaluator.kind` gives.
        settings_model: a dataclass of the proxy's own settings; study.yaml's
            `evaluator.options` is validated into it and passed as `options`.

    Raises:
        ProxyError: the name is taken by another class, or `settings_model` is not a
            dataclass.
    """
    if settings_model is not None and not dataclasses.is_dataclass(settings_model):
        raise ProxyError(f"proxy {name!r}: settings_model must be a dataclass")

    def register(cls: _P) -> _P:
        if name in _PROXIES and _PROXIES[name] is not cls:
            raise ProxyError(f"proxy {name!r}: already registered by {_PROXIES[name].__name__}")
        cls.name = name
        cls.settings_model = settings_model
        _PROXIES[name] = cls
        return cls

    return register


def get_proxy(name: str) -> type[Proxy]:
    """The proxy class registered under `name`.

    Raises:
        ProxyError: no proxy has that name; the message lists those that do.
    """
    try:
        return _PROXIES[name]
    except KeyError:
        raise ProxyError(f"proxy: expected one of {available_proxies()}, got {name!r}") from None


def available_proxies() -> list[str]:
    """The registered proxy names, sorted."""
    return sorted(_PROXIES)
