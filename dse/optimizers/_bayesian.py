"""Multi-objective Bayesian optimization: Gaussian processes with a log-EHVI acquisition."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Annotated, Any, Literal

import optuna
from optuna.samplers import BaseSampler, GPSampler, RandomSampler
from pydantic import Field

from dse.optimizers._cost_aware import CostAwareSampler
from dse.optimizers._registry import OptimizerSettingsError, register_optimizer
from dse.optimizers._settings import GpBackend, OptimizerSettings

if TYPE_CHECKING:
    from dse.optimizers._registry import ExactObjectives
    from search_spaces import SearchSpace


def gp_sampler(n_startup_trials: int, seed: int) -> GPSampler:
    """Optuna's GPSampler for a deterministic objective (no noise term to learn).

    Evaluations of a configuration are pure functions of it, so the noise variance is fixed
    at its floor: the model interpolates the trials instead of smoothing them. The first
    `n_startup_trials` points are uniform random. Multi-objective studies use log-EHVI
    (qLogEHVI with running trials from other workers), constrained ones its constrained form
    over `trial.set_constraint` values.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return GPSampler(
            seed=seed,
            n_startup_trials=n_startup_trials,
            independent_sampler=RandomSampler(seed=seed),
            deterministic_objective=True,
            warn_independent_sampling=False,
        )


class BayesianSettings(OptimizerSettings):
    """Multi-objective Gaussian-process optimization by expected hypervolume improvement."""

    kind: Literal["bayesian"] = "bayesian"
    n_startup_trials: Annotated[int, Field(ge=1)] = 10
    backend: GpBackend = "cost_aware"


@register_optimizer("bayesian", BayesianSettings)
def make_sampler(
    settings: Any, space: SearchSpace, seed: int, exact: ExactObjectives | None = None
) -> BaseSampler:
    """Gaussian-process optimization: few scorings, a cost per proposal that grows with trials.

    Raises:
        OptimizerSettingsError: `backend: botorch` without botorch and optuna-integration.
    """
    return bayesian_sampler(settings.backend, space, seed, exact, settings.n_startup_trials)


def bayesian_sampler(
    backend: str,
    space: SearchSpace,
    seed: int,
    exact: ExactObjectives | None,
    n_startup_trials: int,
) -> BaseSampler:
    """The GP sampler of a `backend` (see the `bayesian` optimizer's settings)."""
    if backend == "cost_aware":
        return CostAwareSampler(space, exact, n_startup_trials=n_startup_trials, seed=seed)
    if backend == "botorch":
        return _botorch_sampler(n_startup_trials, seed)
    return gp_sampler(n_startup_trials, seed)


def _botorch_sampler(n_startup_trials: int, seed: int) -> BaseSampler:
    """BoTorch's qLogNEHVI (optuna-integration's default for 2-4 objectives)."""
    try:
        from optuna_integration import BoTorchSampler
    except ImportError:
        raise OptimizerSettingsError(
            "backend",
            "'botorch' needs the packages botorch and optuna-integration; "
            "install them or use backend: cost_aware or optuna",
        ) from None
    return BoTorchSampler(n_startup_trials=n_startup_trials, seed=seed)
