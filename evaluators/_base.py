"""The evaluator interface: a pure function from a Configuration to a Score."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evaluators._configuration import Configuration


@dataclass(frozen=True)
class Score:
    """An accuracy and how it was obtained.

    Attributes:
        accuracy: top-1 accuracy in [0, 1] (or a proxy's estimate of it).
        fidelity: how it was measured, e.g. `exact:validation` or `proxy:normalized_inertia`.
        samples: how many samples were scored (0 for a proxy).
        proxy_value: the proxy's raw value (a degradation, lower is better), when one was
            computed; recorded so that a resumed study can refit its calibration.
        exact_accuracy: the exact accuracy, when one was measured beside (or as) the score.
    """

    accuracy: float
    fidelity: str
    samples: int = 0
    proxy_value: float | None = None
    exact_accuracy: float | None = None


class Evaluator(ABC):
    """Scores configurations of one workload.

    Contract: `score` is a pure function of (workload, configuration); any cache is keyed by
    its inputs, so the same configuration always gets the same score, in any order, in any
    process. It never modifies the workload's model.
    """

    @abstractmethod
    def score(self, configuration: Configuration) -> Score:
        """Score one configuration."""
