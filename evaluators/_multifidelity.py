"""Scoring by a calibrated proxy, with exact scores spent only to calibrate and check it.

Exact scoring is what limits how many configurations a study can afford. This evaluator
scores the first `calibration_trials` configurations exactly, fits a `CalibratedProxy` on
them, and from then on answers with the calibrated proxy, except every `refresh_every`-th
configuration, which is scored exactly again to refit and keep measuring fidelity. When the
held-out Spearman correlation falls under `fidelity_threshold`, the proxy is not trusted any
more: a warning is logged and every later configuration is scored exactly.

Which configurations are scored exactly depends only on their position in the sequence of
distinct configurations scored, so a resumed study that replays its stored trials through
`record` rebuilds the very same calibration.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from evaluators._base import Evaluator, Score
from evaluators._calibrated import CalibratedProxy
from evaluators._errors import ProxyError

if TYPE_CHECKING:
    from evaluators._accuracy import AccuracyEvaluator
    from evaluators._configuration import Configuration
    from evaluators._proxy import Proxy

__all__ = ["ProxyEvaluator"]

logger = logging.getLogger(__name__)


class ProxyEvaluator(Evaluator):
    """An accuracy evaluator driven by a proxy, calibrated online on exact scores.

    Args:
        proxy: the proxy (a degradation measure).
        exact: the exact evaluator used for calibration points and after a fallback.
        calibration_trials: distinct configurations scored exactly before the proxy is used
            (the calibration set; >= 3).
        refresh_every: after calibration, every n-th configuration is scored exactly too and
            the calibration refitted (0: never).
        fidelity_threshold: held-out Spearman correlation under which the proxy is dropped
            and exact scoring used from then on.
        regression: `isotonic` or `linear`, see `CalibratedProxy`.

    Attributes:
        calibrator_: the last fitted `CalibratedProxy`, or None before calibration.
        fallback_at_: the position at which scoring fell back to exact, or None.
        scored_: distinct configurations scored (or replayed) so far.
        exact_scorings_: how many of them were scored exactly.
        history_: (position, fidelity dict) of every fit, in order.
    """

    def __init__(
        self,
        proxy: Proxy,
        exact: AccuracyEvaluator,
        *,
        calibration_trials: int = 20,
        refresh_every: int = 25,
        fidelity_threshold: float = 0.8,
        regression: str = "isotonic",
    ) -> None:
        self.proxy = proxy
        self.exact = exact
        self.calibration_trials = calibration_trials
        self.refresh_every = refresh_every
        self.fidelity_threshold = fidelity_threshold
        self.regression = regression
        if calibration_trials < 3:
            raise ProxyError(f"calibration_trials: must be >= 3, got {calibration_trials}")
        if refresh_every < 0:
            raise ProxyError(f"refresh_every: must be >= 0, got {refresh_every}")
        CalibratedProxy(regression)._new_model()  # noqa: SLF001 - fail early on a bad name
        self.calibrator_: CalibratedProxy | None = None
        self.fallback_at_: int | None = None
        self.scored_ = 0
        self.exact_scorings_ = 0
        self.history_: list[tuple[int, dict[str, float]]] = []
        self._points: list[tuple[float, float]] = []
        self._scores: dict[str, Score] = {}

    @property
    def fidelity_label(self) -> str:
        """The `fidelity` of a proxy score, e.g. `proxy:normalized_inertia`."""
        return f"proxy:{self.proxy.name}"

    def reference(self) -> Score:
        """The float model's exact accuracy on the exact evaluator's samples."""
        return self.exact.reference()

    def needs_exact(self, position: int) -> bool:
        """Whether the configuration at `position` (0-based, distinct ones) is scored exactly."""
        if self.fallback_at_ is not None or position < self.calibration_trials:
            return True
        if self.refresh_every == 0:
            return False
        return (position - self.calibration_trials + 1) % self.refresh_every == 0

    def score(self, configuration: Configuration) -> Score:
        """Score a configuration; a configuration seen before gets the same score again."""
        digest = configuration.digest()
        hit = self._scores.get(digest)
        if hit is not None:
            return hit
        value = float(self.proxy.value(configuration))
        if self.needs_exact(self.scored_) or self.calibrator_ is None:
            exact = self.exact.score(configuration)
            score = Score(
                accuracy=exact.accuracy,
                fidelity=exact.fidelity,
                samples=exact.samples,
                proxy_value=value,
                exact_accuracy=exact.accuracy,
            )
        else:
            predicted = float(self.calibrator_.predict([value])[0])
            score = Score(accuracy=predicted, fidelity=self.fidelity_label, proxy_value=value)
        self.record(digest, score)
        return score

    def record(self, digest: str, score: Score) -> ProxyEvaluator:
        """Take a score into the calibration state, as `score` does (also to replay a study).

        A resumed study calls this for its stored trials, in trial order, with their recorded
        `proxy_value` and `exact_accuracy`; the calibration then is the one the first run had.

        Returns:
            self.
        """
        if digest in self._scores:
            return self
        self._scores[digest] = score
        position = self.scored_
        self.scored_ += 1
        if score.exact_accuracy is None or score.proxy_value is None:
            return self
        self.exact_scorings_ += 1
        self._points.append((float(score.proxy_value), float(score.exact_accuracy)))
        if position >= self.calibration_trials - 1:
            self._refit(position)
        return self

    def _refit(self, position: int) -> None:
        values, exact = zip(*self._points, strict=True)
        self.calibrator_ = CalibratedProxy(self.regression).fit(values, exact)
        fidelity = self.calibrator_.fidelity()
        self.history_.append((position, fidelity))
        if self.fallback_at_ is None and fidelity["spearman"] < self.fidelity_threshold:
            self.fallback_at_ = position + 1
            logger.warning(
                "proxy %s: held-out Spearman %.3f on %d exact scores is under the threshold "
                "%.3f; scoring exactly from configuration %d on",
                self.proxy.name,
                fidelity["spearman"],
                fidelity["n"],
                self.fidelity_threshold,
                self.fallback_at_,
            )

    def summary(self) -> dict[str, Any]:
        """What a fidelity report needs: the proxy, its fidelity, the exact scorings spent."""
        return {
            "proxy": self.proxy.name,
            "regression": self.regression,
            "calibration_trials": self.calibration_trials,
            "refresh_every": self.refresh_every,
            "fidelity_threshold": self.fidelity_threshold,
            "scored": self.scored_,
            "exact_scorings": self.exact_scorings_,
            "fell_back": self.fallback_at_ is not None,
            "fallback_at": self.fallback_at_,
            "fidelity": None if self.calibrator_ is None else self.calibrator_.fidelity(),
            "history": [{"position": p, **f} for p, f in self.history_],
        }
