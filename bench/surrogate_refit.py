"""Cost of the Bayesian sampler's GP hyperparameter refits at a 500-trial study's scale.

Run ``python bench/surrogate_refit.py [--trials 250] [--inputs 150]``; prints a markdown table.
The GP is the sampler's (`dse.optimizers._surrogate`: Matérn-5/2, one length scale per input,
a white-noise floor), fitted on a synthetic objective of the study's shape: ``--trials`` rows
(MAX_FIT_POINTS, the most a refit uses) of ``--inputs`` encoded inputs in [0, 1] (the example
study's space encodes to about 150), a value that depends on a tenth of them through a tanh,
plus 1 % noise; seed 0. Rows, side by side in one process:

* first fit: unit length scales plus one random start, L-BFGS to convergence, on 80 % of the
  rows (the fit a refit starts from);
* refit, before: from the first fit's optimum plus one random start, both to convergence;
* refit from the first fit's optimum alone, to convergence;
* refit, now: from the first fit's optimum plus one random start, each stopped after
  REFIT_ITERATIONS.

Each row: seconds, L-BFGS iterations, log marginal likelihood on the rows (higher is better).
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from dse.optimizers._surrogate import (  # noqa: E402
    REFIT_ITERATIONS,
    _capped_lbfgs,
    initial_kernel,
)


def _fit(kernel, x, y, *, max_iterations: int | None, restarts: int):
    """A GP fitted as the sampler fits it: scikit-learn's own L-BFGS to convergence
    (`max_iterations` None, a first fit) or `_capped_lbfgs` stopped after `max_iterations`;
    L-BFGS iterations counted by wrapping scipy's `minimize`."""
    iterations: list[int] = []
    minimize = scipy.optimize.minimize

    def counted(*args, **kwargs):
        result = minimize(*args, **kwargs)
        iterations.append(int(result.nit))
        return result

    optimizer = (
        "fmin_l_bfgs_b"
        if max_iterations is None
        else functools.partial(_capped_lbfgs, max_iterations=max_iterations)
    )
    scipy.optimize.minimize = counted
    try:
        start = time.perf_counter()
        gp = GaussianProcessRegressor(
            kernel,
            normalize_y=True,
            optimizer=optimizer,
            n_restarts_optimizer=restarts,
            random_state=0,
        ).fit(x, y)
        seconds = time.perf_counter() - start
    finally:
        scipy.optimize.minimize = minimize
    return gp, seconds, "+".join(map(str, iterations))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=250)
    parser.add_argument("--inputs", type=int, default=150)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random((args.trials, args.inputs))
    weights = rng.standard_normal(args.inputs) * (rng.random(args.inputs) < 0.1)
    y = np.tanh(x @ weights) + 0.01 * rng.standard_normal(args.trials)
    kernel = initial_kernel(args.inputs)
    first = int(0.8 * args.trials)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp, seconds, its = _fit(kernel, x[:first], y[:first], max_iterations=None, restarts=1)
        rows.append(
            (f"first fit ({first} trials)", seconds, its, gp.log_marginal_likelihood_value_)
        )
        warm = gp.kernel_
        for name, cap, restarts in (
            ("refit, warm + random start, to convergence (before)", None, 1),
            ("refit, warm alone, to convergence", None, 0),
            (f"refit, warm + random start, <= {REFIT_ITERATIONS} each (now)", REFIT_ITERATIONS, 1),
        ):
            gp, seconds, its = _fit(warm, x, y, max_iterations=cap, restarts=restarts)
            rows.append((name, seconds, its, gp.log_marginal_likelihood_value_))
    print(f"GP hyperparameter fits, {args.trials} trials x {args.inputs} inputs\n")
    print("| fit | s | L-BFGS iterations | log marginal likelihood |")
    print("|---|---|---|---|")
    for name, seconds, its, lml in rows:
        print(f"| {name} | {seconds:.1f} | {its} | {lml:.2f} |")


if __name__ == "__main__":
    main()
