"""The proxy interface and its registry: cheap stand-ins for exact accuracy.

A proxy returns a *degradation*: 0 for the float model, larger when the approximation hurts
more. It never claims to be an accuracy; `CalibratedProxy` maps it to one from a few exact
scores, and `ProxyEvaluator` turns that into an `Evaluator`. Keeping the two apart lets the
fidelity of every proxy be measured the same way, on the same exact scores.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, TypeVar

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
    """

    name: ClassVar[str] = ""

    def __init__(self, workload: Workload, *, calibration_samples: int = 256) -> None:
        self.workload = workload
        self.calibration_samples = calibration_samples

    @abstractmethod
    def value(self, configuration: Configuration) -> float:
        """The degradation of `configuration` (dimensionless, >= 0 for the built-in ones)."""


_P = TypeVar("_P", bound=type[Proxy])
_PROXIES: dict[str, type[Proxy]] = {}


def register_proxy(name: str) -> Callable[[_P], _P]:
    """Class decorator registering a `Proxy` under `name` (what study.yaml's `kind` says)."""

    def register(cls: _P) -> _P:
        if name in _PROXIES and _PROXIES[name] is not cls:
            raise ProxyError(f"proxy {name!r}: already registered by {_PROXIES[name].__name__}")
        cls.name = name
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
