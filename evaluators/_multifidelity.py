"""Scoring by a calibrated proxy, with exact scores spent only to calibrate and check it.

Exact scoring is what limits how many configurations a study can afford. This evaluator is
fitted on a calibration design (configurations chosen before the search, e.g. the study's
baselines and random points of its space): it scores them exactly, fits a `CalibratedProxy`,
and from then on answers with the calibrated proxy. A fixed share of the other configurations
(1 in `refresh_every`, chosen by their digest) is scored exactly too, as checks whose fidelity
the study reports. When the calibration's held-out Spearman correlation is under
`fidelity_threshold`, the proxy is not trusted: every configuration is scored exactly.

Every decision is a function of the configuration and the fitted design, never of what was
scored before: a configuration gets the same score in any order, in any process and in any
worker of a shared study (the evaluator contract). A study's calibration is therefore fixed
when it is fitted; later checks measure the proxy, they do not refit it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sklearn.exceptions import NotFittedError
from tqdm import tqdm

from evaluators._base import Evaluator, Score
from evaluators._calibrated import CalibratedProxy
from evaluators._errors import ProxyError

if TYPE_CHECKING:
    from evaluators._accuracy import AccuracyEvaluator
    from evaluators._configuration import Configuration
    from evaluators._proxy import Proxy

__all__ = ["ProxyEvaluator", "is_check"]

logger = logging.getLogger(__name__)


def is_check(digest: str, refresh_every: int) -> bool:
    """Whether the configuration of `digest` is one of the exactly scored checks: 1 in
    `refresh_every` configurations, chosen by the low bits of the digest (0: none).

    Example:
        >>> is_check("00000000000000a0", 16), is_check("00000000000000a1", 16)
        (True, False)
    """
    return refresh_every > 0 and int(digest, 16) % refresh_every == 0


class ProxyEvaluator(Evaluator):
    """An accuracy evaluator driven by a proxy calibrated on a fixed design of exact scores.

    Args:
        proxy: the proxy (a degradation measure).
        exact: the exact evaluator used for the design, the checks and after a fallback.
        calibration_trials: design configurations scored exactly to fit the calibration
            (the first distinct ones `fit` is given; >= 3).
        refresh_every: 1 in this many other configurations is scored exactly as a check of
            the proxy (0: none).
        fidelity_threshold: held-out Spearman correlation of the calibration under which the
            proxy is not used and every configuration is scored exactly.
        regression: `isotonic` or `linear`, see `CalibratedProxy`.

    Attributes:
        calibrator_: the fitted `CalibratedProxy`.
        design_: exact accuracy of each design configuration, by digest.
        fell_back_: whether the calibration was under the threshold (all scores exact).
        exact_scorings_: exact scorings this evaluator performed (design points given as
            known scores not counted).

    Example:
        >>> evaluator = ProxyEvaluator(proxy, exact).fit(design)  # doctest: +SKIP
        >>> evaluator.score(configuration).fidelity  # doctest: +SKIP
        'proxy:normalized_inertia'
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
        self.exact_scorings_ = 0
        self._scores: dict[str, Score] = {}

    @property
    def fidelity_label(self) -> str:
        """The `fidelity` of a proxy score, e.g. `proxy:normalized_inertia`."""
        return f"proxy:{self.proxy.name}"

    @property
    def fitted(self) -> bool:
        return hasattr(self, "calibrator_")

    def reference(self) -> Score:
        """The float model's exact accuracy on the exact evaluator's samples."""
        return self.exact.reference()

    def fit(
        self,
        design: Iterable[Configuration],
        known: Mapping[str, float] | None = None,
    ) -> ProxyEvaluator:
        """Score the design exactly and fit the calibration.

        Args:
            design: calibration configurations; the first `calibration_trials` distinct ones
                are used.
            known: exact accuracies already measured, by digest (a resumed study's stored
                trials): not scored again.

        Returns:
            self.

        Raises:
            ProxyError: fewer than 3 distinct design configurations.
        """
        known = known or {}
        chosen: dict[str, Configuration] = {}
        for configuration in design:
            chosen.setdefault(configuration.digest(), configuration)
            if len(chosen) == self.calibration_trials:
                break
        if len(chosen) < 3:
            raise ProxyError(
                f"calibration: needs at least 3 distinct configurations, got {len(chosen)}"
            )
        self.design_: dict[str, float] = {}
        values, exact = [], []
        bar = tqdm(
            chosen.items(), desc="calibrating the proxy", unit="point", leave=False, disable=None
        )
        for digest, configuration in bar:
            if digest in known:
                accuracy = float(known[digest])
            else:
                accuracy = self.exact.score(configuration).accuracy
                self.exact_scorings_ += 1
            self.design_[digest] = accuracy
            values.append(float(self.proxy.value(configuration)))
            exact.append(accuracy)
        self.calibrator_ = CalibratedProxy(self.regression).fit(values, exact)
        fidelity = self.calibrator_.fidelity()
        self.fell_back_ = fidelity["spearman"] < self.fidelity_threshold
        if self.fell_back_:
            logger.warning(
                "proxy %s: held-out Spearman %.3f on %d exact scores is under the threshold "
                "%.3f; every configuration is scored exactly",
                self.proxy.name,
                fidelity["spearman"],
                fidelity["n"],
                self.fidelity_threshold,
            )
        return self

    def needs_exact(self, configuration: Configuration) -> bool:
        """Whether `configuration` is scored exactly: a design point, a check, or every one
        after a fallback.

        Raises:
            NotFittedError: before `fit`.
        """
        self._check_fitted()
        digest = configuration.digest()
        return self.fell_back_ or digest in self.design_ or is_check(digest, self.refresh_every)

    def score(self, configuration: Configuration) -> Score:
        """Score a configuration: the same score whatever was scored before.

        Raises:
            NotFittedError: before `fit`.
        """
        self._check_fitted()
        digest = configuration.digest()
        hit = self._scores.get(digest)
        if hit is not None:
            return hit
        value = float(self.proxy.value(configuration))
        if self.needs_exact(configuration):
            if digest in self.design_:
                accuracy, fidelity, samples = self.design_[digest], self.exact.fidelity, 0
            else:
                exact = self.exact.score(configuration)
                self.exact_scorings_ += 1
                accuracy, fidelity, samples = exact.accuracy, exact.fidelity, exact.samples
            score = Score(
                accuracy=accuracy,
                fidelity=fidelity,
                samples=samples,
                proxy_value=value,
                exact_accuracy=accuracy,
            )
        else:
            predicted = float(self.calibrator_.predict([value])[0])
            score = Score(accuracy=predicted, fidelity=self.fidelity_label, proxy_value=value)
        self._scores[digest] = score
        return score

    def _check_fitted(self) -> None:
        if not self.fitted:
            raise NotFittedError("ProxyEvaluator: call fit(design) before scoring")

    def summary(self) -> dict[str, Any]:
        """What a fidelity report needs: the proxy, its fidelity, the exact scorings spent."""
        fitted = self.fitted
        return {
            "proxy": self.proxy.name,
            "regression": self.regression,
            "calibration_trials": self.calibration_trials,
            "refresh_every": self.refresh_every,
            "fidelity_threshold": self.fidelity_threshold,
            "exact_scorings": self.exact_scorings_,
            "fell_back": bool(fitted and self.fell_back_),
            "fallback_at": 0 if fitted and self.fell_back_ else None,
            "fidelity": self.calibrator_.fidelity() if fitted else None,
        }
