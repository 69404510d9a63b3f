"""The ask/tell loop: the only code that asks, evaluates and tells trials."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import optuna
from optuna.trial import TrialState

from dse._errors import StudyRunError
from dse.results import ParetoFront
from dse.study._problem import Problem
from dse.study._storage import WORKER_ATTR, worker_id

logger = logging.getLogger(__name__)

ProgressCallback = Callable[["LoopState"], None]


@dataclass
class LoopState:
    """Counts shown by the progress bar after each trial."""

    complete: int
    failed: int
    budget: int
    front_size: int
    last_reason: str = ""


def count_complete(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def optimize(
    study: optuna.Study,
    problem: Problem,
    budget: int,
    *,
    max_failures: int | None = None,
    on_trial: ProgressCallback | None = None,
) -> LoopState:
    """Run trials until `budget` trials are complete in the storage (across all workers).

    A trial that raises or yields a NaN is told FAILED with its reason and does not count; the
    loop stops with `StudyRunError` after `max_failures` failures in a row (default: 10 or the
    budget, whichever is larger), since something systematic is wrong then.
    """
    limit = max_failures if max_failures is not None else max(10, budget)
    distributions = problem.space.to_optuna()
    directions = [d.name.lower() for d in study.directions]
    trials = study.get_trials(deepcopy=False)
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    values = [list(t.values) for t in done]
    feasible = [all(c <= 0 for c in t.constraints.values()) for t in done]
    state = LoopState(
        complete=len(done),
        failed=sum(t.state == TrialState.FAIL for t in trials),
        budget=budget,
        front_size=len(ParetoFront.from_points(values, directions, feasible=feasible)),
    )
    in_a_row = 0
    worker = worker_id()
    while True:
        running = len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))
        if count_complete(study) + running >= budget:
            break
        trial = study.ask(distributions)
        trial.set_user_attr(WORKER_ATTR, worker)
        start = time.perf_counter()
        try:
            evaluation = problem.evaluate(trial.params)
        except KeyboardInterrupt:
            trial.set_user_attr("fail_reason", "interrupted by the user")
            study.tell(trial, state=TrialState.FAIL)
            raise
        except Exception as exc:  # noqa: BLE001 - a failing trial must not stop the study
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
            logger.warning("trial %d failed: %s", trial.number, reason)
            logger.debug("%s", traceback.format_exc())
            trial.set_user_attr("fail_reason", reason)
            study.tell(trial, state=TrialState.FAIL)
            state.failed += 1
            state.last_reason = reason
            in_a_row += 1
            if in_a_row >= limit:
                raise StudyRunError(
                    f"{in_a_row} trials failed in a row; last reason: {reason}"
                ) from None
            if on_trial is not None:
                on_trial(state)
            continue
        in_a_row = 0
        trial.set_user_attr("configuration", evaluation.configuration.to_dict())
        trial.set_user_attr("config_hash", evaluation.configuration.digest())
        trial.set_user_attr("fidelity", evaluation.fidelity)
        trial.set_user_attr("metrics", dict(evaluation.metrics))
        trial.set_user_attr("duration_s", time.perf_counter() - start)
        for name, violation in evaluation.constraints.items():
            trial.set_constraint(name, violation)
        study.tell(trial, list(evaluation.objectives))
        state.complete = count_complete(study)
        values.append(list(evaluation.objectives))
        feasible.append(evaluation.feasible)
        state.front_size = len(ParetoFront.from_points(values, directions, feasible=feasible))
        if on_trial is not None:
            on_trial(state)
    return state


def derive_seed(seed: int, n_trials: int) -> int:
    """A per-run sampler seed: a resumed run starts from another stream, never repeating."""
    import numpy as np

    return int(np.random.SeedSequence([seed, n_trials]).generate_state(1)[0] % (2**31 - 1))
