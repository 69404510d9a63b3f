"""Calibrating a proxy to accuracy from a few exact scores, and measuring how well it fits.

A proxy's value is a degradation on its own scale; an optimizer comparing it with hardware
objectives needs an accuracy. A monotone (isotonic) regression maps one to the other without
assuming a shape, and its fidelity is measured on held-out exact scores (K-fold
cross-validation), never on the scores it was fitted on: a study trusts the proxy only as far
as that measure allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy.stats import kendalltau, spearmanr
from sklearn.exceptions import NotFittedError
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold

from evaluators._errors import ProxyError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["REGRESSIONS", "CalibratedProxy", "fidelity_metrics"]

REGRESSIONS = ("isotonic", "linear")
"""How a proxy is mapped to accuracy: `isotonic` (monotone, any shape) or `linear` (in the log
of the proxy)."""

_TIE_BREAK = 1e-6  # accuracy units: the most a tie-breaker may move a prediction


def _correlation(value: float) -> float:
    """A rank correlation, 0 where undefined (constant inputs: no evidence either way)."""
    return 0.0 if value is None or not np.isfinite(value) else float(value)


def fidelity_metrics(predicted: ArrayLike, exact: ArrayLike) -> dict[str, float]:
    """Spearman and Kendall rank correlations, R^2 and MAE of predictions against exact scores.

    Args:
        predicted: predicted accuracies (or any score where higher means better).
        exact: the exact accuracies of the same configurations.

    Returns:
        `spearman`, `kendall` (in [-1, 1]; 0 when undefined), `r2` (1 is perfect; may be very
        negative for uncalibrated scales) and `mae` (accuracy units), plus `n`.

    Example:
        >>> m = fidelity_metrics([0.9, 0.5, 0.1], [0.95, 0.6, 0.2])
        >>> m["spearman"], m["kendall"], round(m["mae"], 3)
        (1.0, 1.0, 0.083)
    """
    p = np.asarray(predicted, dtype=float).ravel()
    y = np.asarray(exact, dtype=float).ravel()
    if p.shape != y.shape:
        raise ProxyError(f"fidelity: predicted has {p.size} values, exact {y.size}")
    n = int(p.size)
    if n < 2:
        return {"spearman": 0.0, "kendall": 0.0, "r2": 0.0, "mae": float("nan"), "n": n}
    constant = np.ptp(p) == 0 or np.ptp(y) == 0
    spearman = 0.0 if constant else _correlation(spearmanr(p, y).statistic)
    kendall = 0.0 if constant else _correlation(kendalltau(p, y).statistic)
    total = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum((y - p) ** 2)) / total if total > 0 else 0.0
    return {
        "spearman": spearman,
        "kendall": kendall,
        "r2": r2,
        "mae": float(np.mean(np.abs(y - p))),
        "n": n,
    }


class CalibratedProxy:
    """A monotone map from proxy values (degradations) to accuracies, with its fidelity.

    Args:
        regression: `isotonic` (non-increasing step function, the default) or `linear` (a line
            in log10 of the proxy), both clipped to [0, 1].
        cv: folds of the cross-validation measuring fidelity (fewer when there are fewer
            points).

    Attributes:
        model_: the fitted scikit-learn regressor (on all points).
        spearman_: held-out Spearman correlation of predictions with exact accuracies.
        kendall_: held-out Kendall correlation.
        r2_: held-out R^2.
        mae_: held-out mean absolute error (accuracy units).
        n_samples_: how many exact scores it was fitted on.
        held_out_: the out-of-fold predictions, one per fitted point.

    Example:
        >>> cal = CalibratedProxy().fit([0.0, 0.1, 0.2, 0.4, 0.8, 1.6], [.97, .95, .9, .8, .5, .2])
        >>> round(float(cal.predict([0.3])[0]), 2), cal.spearman_
        (0.85, 1.0)
    """

    def __init__(self, regression: str = "isotonic", *, cv: int = 5) -> None:
        self.regression = regression
        self.cv = cv

    def _new_model(self) -> IsotonicRegression | LinearRegression:
        if self.regression == "isotonic":
            return IsotonicRegression(increasing=False, y_min=0.0, y_max=1.0, out_of_bounds="clip")
        if self.regression == "linear":
            return LinearRegression()
        raise ProxyError(
            f"calibration regression: expected one of {list(REGRESSIONS)}, got {self.regression!r}"
        )

    def _features(self, values: np.ndarray) -> np.ndarray:
        if self.regression == "linear":
            return np.log10(np.maximum(values, 0.0) + 1e-12).reshape(-1, 1)
        return values

    def _fit_predict(
        self, x_fit: np.ndarray, y_fit: np.ndarray, x: np.ndarray, scale: float
    ) -> tuple[IsotonicRegression | LinearRegression, np.ndarray]:
        model = self._new_model().fit(self._features(x_fit), y_fit)
        return model, self._predict_with(model, x, scale)

    def _predict_with(
        self, model: IsotonicRegression | LinearRegression, x: np.ndarray, scale: float
    ) -> np.ndarray:
        base = np.clip(model.predict(self._features(x)), 0.0, 1.0)
        # Isotonic steps are flat: break their ties by the proxy, so that an optimizer still
        # sees the proxy's order inside a step (moves a prediction by at most _TIE_BREAK).
        return base - _TIE_BREAK * (x / (np.abs(x) + scale))

    def fit(self, proxy_values: ArrayLike, exact_scores: ArrayLike) -> CalibratedProxy:
        """Fit on (proxy value, exact accuracy) pairs and measure held-out fidelity.

        Raises:
            ProxyError: fewer than 2 points, mismatched lengths or non-finite values.
        """
        x = np.asarray(proxy_values, dtype=float).ravel()
        y = np.asarray(exact_scores, dtype=float).ravel()
        if x.shape != y.shape or x.size < 2:
            raise ProxyError(
                f"calibration: needs >= 2 (proxy, exact) pairs of equal length, got {x.size} "
                f"proxy values and {y.size} exact scores"
            )
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise ProxyError("calibration: proxy values and exact scores must be finite")
        self._new_model()  # checks `regression` before any work
        folds = min(self.cv, x.size)
        # The tie-break scale uses proxy values only (no labels): the same in every fold.
        scale = float(np.median(np.abs(x))) or 1.0
        held_out = np.empty_like(y)
        for train, test in KFold(folds, shuffle=True, random_state=0).split(x):
            _, held_out[test] = self._fit_predict(x[train], y[train], x[test], scale)
        metrics = fidelity_metrics(held_out, y)
        self.model_, _ = self._fit_predict(x, y, x, scale)
        self.scale_ = scale
        self.held_out_ = held_out
        self.spearman_ = metrics["spearman"]
        self.kendall_ = metrics["kendall"]
        self.r2_ = metrics["r2"]
        self.mae_ = metrics["mae"]
        self.n_samples_ = int(x.size)
        return self

    def predict(self, proxy_values: ArrayLike | Sequence[float]) -> np.ndarray:
        """Calibrated accuracies of proxy values.

        Raises:
            NotFittedError: before `fit`.
        """
        if not hasattr(self, "model_"):
            raise NotFittedError("CalibratedProxy: call fit(proxy_values, exact_scores) first")
        x = np.asarray(proxy_values, dtype=float).ravel()
        return self._predict_with(self.model_, x, self.scale_)

    def fidelity(self) -> dict[str, float]:
        """The held-out fidelity measures as a dict (`spearman`, `kendall`, `r2`, `mae`, `n`)."""
        if not hasattr(self, "model_"):
            raise NotFittedError("CalibratedProxy: call fit(proxy_values, exact_scores) first")
        return {
            "spearman": self.spearman_,
            "kendall": self.kendall_,
            "r2": self.r2_,
            "mae": self.mae_,
            "n": self.n_samples_,
        }
