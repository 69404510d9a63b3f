"""Gaussian-process models of the objectives a study scores (accuracy), for a Bayesian sampler.

scikit-learn's GP regressor with a Matérn-5/2 kernel, one length scale per input, and a noise
floor near zero (scores are deterministic). Each objective is modeled on the scale that
predicts it best: its raw values, or the normal scores of their ranks.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.stats import norm

if TYPE_CHECKING:
    from sklearn.gaussian_process import GaussianProcessRegressor


MAX_FIT_POINTS = 250
"""Trials a hyperparameter fit uses at most (a random subset beyond)."""

REFIT_ITERATIONS = 50
"""L-BFGS iterations of each start of a hyperparameter refit (the first fit runs to convergence).

A first fit starts from unit length scales and from one random draw, each run to convergence
(about 500 iterations at 200 trials x 150 inputs). A refit starts from the last fit's optimum
and from one random draw, each stopped after this many iterations: at 250 trials x 150 inputs
the warm start converges in about 150 and, stopped at 50, loses 0.08-0.15 nats of log marginal
likelihood (of 115.88) for 40 % of the time (`python bench/surrogate_refit.py`,
docs/benchmarks.md). On the example study's own data, uncapped refits past 250 trials had cost
about 10 minutes each (2 scales x 2 starts). The random start is kept: without it the
sampler reached 0.85 of the known front's hypervolume in
`test_reaches_the_known_front_faster_than_random_search`, with it the test's 0.98 is met.
"""


class Surrogate:
    """One GP per scored objective, refitted as the trials grow: the state between proposals."""

    def __init__(self) -> None:
        self._kernels: dict[tuple[int, str], Any] = {}
        self._fitted_at: dict[int, int] = {}
        self._scale: dict[int, str] = {}

    def fit(
        self, objective: int, x: np.ndarray, values: np.ndarray, rng: np.random.Generator
    ) -> tuple[GaussianProcessRegressor, Warp]:
        """A GP of one objective, on raw values or on rank scores, whichever predicts better.

        Kernel hyperparameters are fitted by maximum likelihood, from the previous fit's, when
        the data has grown by a tenth (at least 5 points) since; in between, the GP conditions
        on the new points with the kernel it has (fitting dominates a proposal's cost
        otherwise). At each fit both scales are fitted and the one whose leave-one-out
        predictions rank the trials best is kept: accuracy with a cliff needs the rank scores,
        a smooth proxy loses by them.
        """
        warps: dict[str, Warp] = {"raw": Warp(values), "rank": RankWarp(values)}
        fitted_at = self._fitted_at.get(objective)
        if fitted_at is not None and len(x) < fitted_at + max(5, fitted_at // 10):
            scale = self._scale[objective]
            return self._gp(objective, scale, x, warps[scale].z, rng, refit=False), warps[scale]
        fits = {
            name: self._gp(objective, name, x, w.z, rng, refit=True) for name, w in warps.items()
        }
        scores = {name: _loo_rank_correlation(fits[name], w.z) for name, w in warps.items()}
        scale = max(scores, key=lambda name: scores[name])
        self._fitted_at[objective], self._scale[objective] = len(x), scale
        return fits[scale], warps[scale]

    def _gp(
        self,
        objective: int,
        scale: str,
        x: np.ndarray,
        y: np.ndarray,
        rng: np.random.Generator,
        *,
        refit: bool,
    ) -> GaussianProcessRegressor:
        """A Matérn-5/2 GP with one length scale per input, warm-started from the last fit."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor

        kernel = self._kernels.get((objective, scale))
        if kernel is None:
            kernel = initial_kernel(x.shape[1])
        seed = int(rng.integers(2**31))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if refit:
                # Hyperparameters from at most MAX_FIT_POINTS trials: the likelihood's gradient
                # costs n^2 x inputs memory and time; the GP then conditions on all of them.
                rows = np.arange(len(x))
                if len(x) > MAX_FIT_POINTS:
                    rows = np.random.default_rng(seed).choice(len(x), MAX_FIT_POINTS, False)
                warm = (objective, scale) in self._kernels
                fitted = GaussianProcessRegressor(
                    kernel,
                    normalize_y=True,
                    optimizer=_capped_lbfgs if warm else "fmin_l_bfgs_b",
                    n_restarts_optimizer=1,
                    random_state=seed,
                ).fit(x[rows], y[rows])
                kernel = self._kernels[(objective, scale)] = fitted.kernel_
                if len(rows) == len(x):
                    return fitted
            gp = GaussianProcessRegressor(kernel, normalize_y=True, optimizer=None)
            return gp.fit(x, y)


def initial_kernel(n_inputs: int) -> Any:
    """The kernel a first fit starts from: a constant times a Matérn-5/2 with unit length
    scales, one per input (bounds 1e-2..1e2, inputs encoded in [0, 1]), plus a white-noise
    floor near zero (scores are deterministic)."""
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    return ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
        np.ones(n_inputs), (1e-2, 1e2), nu=2.5
    ) + WhiteKernel(1e-6, (1e-9, 1e-3))


def _capped_lbfgs(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
    theta: np.ndarray,
    bounds: np.ndarray,
    max_iterations: int | None = None,
) -> tuple[np.ndarray, float]:
    """L-BFGS-B on the negative log marginal likelihood, at most `max_iterations` steps.

    The optimizer interface of scikit-learn's GP regressor: `objective(theta)` returns the
    value and its gradient at log-hyperparameters `theta`, shape (n_hyperparameters,), within
    `bounds`, shape (n_hyperparameters, 2); returns the best theta and its value.
    `max_iterations` None: REFIT_ITERATIONS (read at each call).
    """
    from scipy.optimize import minimize

    if max_iterations is None:
        max_iterations = REFIT_ITERATIONS
    result = minimize(
        objective,
        theta,
        method="L-BFGS-B",
        jac=True,
        bounds=bounds,
        options={"maxiter": max_iterations},
    )
    return result.x, float(result.fun)


class Warp:
    """The scale a GP models an objective on: here its raw values."""

    def __init__(self, values: np.ndarray) -> None:
        self.z = np.asarray(values, dtype=float)

    def inverse(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(z, dtype=float)

    def forward(self, value: float) -> float:
        """A value on the model's scale (for thresholds, e.g. a constraint's 0)."""
        return float(value)


class RankWarp(Warp):
    """Observed values as normal scores of their ranks, and back (a Gaussian copula).

    Accuracy falls off a cliff (a layer below some width collapses the network to chance):
    a GP fitted to raw values spends its length scales on the cliff and predicts nothing
    elsewhere. On rank scores the cliff is one step among others. Back-mapping interpolates
    the sorted observations and extrapolates beyond the best one along the slope of the best
    tenth, so a candidate may still be predicted better than anything seen.
    """

    def __init__(self, values: np.ndarray) -> None:
        from scipy.stats import rankdata

        n = len(values)
        self.z = norm.ppf((rankdata(values) - 0.5) / n)
        order = np.argsort(self.z, kind="stable")
        self._z, self._y = self.z[order], np.asarray(values, dtype=float)[order]
        above = np.flatnonzero(self._z > self._z[0])  # past ties with the best
        k = max(n // 10, int(above[0])) if above.size else 0
        dz = self._z[k] - self._z[0]
        self._slope = (self._y[k] - self._y[0]) / dz if dz > 0 else 0.0

    def forward(self, value: float) -> float:
        if self._y[-1] == self._y[0]:
            return float(self._z[0] if value < self._y[0] else self._z[-1])
        return float(np.interp(value, self._y, self._z))

    def inverse(self, z: np.ndarray) -> np.ndarray:
        y = np.interp(z, self._z, self._y)
        below = z < self._z[0]
        y[below] = self._y[0] + (z[below] - self._z[0]) * self._slope
        return y


def _loo_rank_correlation(gp: GaussianProcessRegressor, y: np.ndarray) -> float:
    """Spearman correlation of a fitted GP's leave-one-out predictions with its targets.

    Closed form (Rasmussen & Williams, eq. 5.12): the prediction for point i from all others
    is y_i - [K^-1 y]_i / [K^-1]_ii, on the GP's normalized scale, which ranks do not see.
    """
    from scipy.linalg import cho_solve
    from scipy.stats import spearmanr

    inverse = cho_solve((gp.L_, True), np.eye(len(gp.L_)))
    target = gp.y_train_.ravel()
    loo = target - gp.alpha_.ravel() / np.diag(inverse)
    if np.ptp(loo) == 0 or np.ptp(y) == 0:
        return -1.0
    return float(spearmanr(loo, y).statistic)
