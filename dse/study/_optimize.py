"""The ask/tell loop: the only code that asks, evaluates and tells trials."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import optuna
from optuna.trial import TrialState

from dse._errors import StudyRunError
from dse.results import HYPERVOLUME_ATTR, REFERENCE_ATTR, ParetoFront, stored_reference
from dse.study._problem import Problem
from dse.study._storage import WORKER_ATTR, worker_id
from evaluators import Configuration

if TYPE_CHECKING:
    from search_spaces import SearchSpace

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
    hypervolume: float = 0.0


def count_complete(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def optimize(
    study: optuna.Study,
    problem: Problem,
    budget: int,
    *,
    max_failures: int | None = None,
    on_trial: ProgressCallback | None = None,
    warm_start: bool = False,
) -> LoopState:
    """Run trials until `budget` trials are complete in the storage (across all workers).

    A trial that raises or yields a NaN is told FAILED with its reason and does not count; the
    loop stops with `StudyRunError` after `max_failures` failures in a row (default: 10 or the
    budget, whichever is larger), since something systematic is wrong then.

    The hypervolume reference point is fixed and stored the first time a study is optimized
    (see `reference_point`); each complete trial records the front's hypervolume at its tell
    (`hypervolume` user attribute, as this worker saw the front). With `warm_start`, a new
    study first scores `warm_start_points(space)`.
    """
    limit = max_failures if max_failures is not None else max(10, budget)
    distributions = problem.space.to_optuna()
    directions = [d.name.lower() for d in study.directions]
    reference = stored_reference(study)
    if reference is None:
        reference = reference_point(problem)
        study.set_user_attr(REFERENCE_ATTR, list(reference))
    trials = study.get_trials(deepcopy=False)
    if warm_start and not trials:
        for params in warm_start_points(problem.space):
            study.enqueue_trial(params, user_attrs={WARM_START_ATTR: True})
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    values = [list(t.values) for t in done]
    feasible = [all(c <= 0 for c in t.constraints.values()) for t in done]
    front = ParetoFront.from_points(values, directions, feasible=feasible)
    state = LoopState(
        complete=len(done),
        failed=sum(t.state == TrialState.FAIL for t in trials),
        budget=budget,
        front_size=len(front),
        hypervolume=front.hypervolume(reference),
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
        values.append(list(evaluation.objectives))
        feasible.append(evaluation.feasible)
        front = ParetoFront.from_points(values, directions, feasible=feasible)
        state.front_size = len(front)
        state.hypervolume = front.hypervolume(reference)
        trial.set_user_attr(HYPERVOLUME_ATTR, state.hypervolume)
        study.tell(trial, list(evaluation.objectives))
        state.complete = count_complete(study)
        if on_trial is not None:
            on_trial(state)
    return state


def derive_seed(seed: int, n_trials: int) -> int:
    """A per-run sampler seed: a resumed run starts from another stream, never repeating."""
    import numpy as np

    return int(np.random.SeedSequence([seed, n_trials]).generate_state(1)[0] % (2**31 - 1))


WARM_START_ATTR = "dse:warm_start"
"""Trial user attribute marking the points enqueued by `warm_start_points`."""


def reference_point(problem: Problem) -> tuple[float, ...]:
    """The hypervolume reference point of a study: the worst value worth keeping, per objective.

    Accuracy's is 0 (1 when minimized); a hardware metric's is its value for the float32
    model (every layer unquantized), the design every approximation has to beat; a maximized
    hardware metric's is 0. Fixed once, at study creation, so hypervolumes compare across
    runs, resumes and optimizers of one study.
    """
    float32 = problem.cost_model.cost(Configuration.of({})).values
    point = []
    for objective in problem.objectives:
        maximize = objective.direction == "maximize"
        if objective.name == "accuracy":
            point.append(0.0 if maximize else 1.0)
        elif maximize:
            point.append(0.0)
        else:
            point.append(float(float32[objective.name]))
    return tuple(point)


class SensitivityCandidates(Protocol):
    """A sensitivity profile that can name promising points of a space (issue 4's profile)."""

    def candidates(self, space: SearchSpace) -> Iterable[Mapping[str, Any]]:
        """Points of `space` (parameter name -> value) worth scoring first."""
        ...


def warm_start_points(
    space: SearchSpace, profile: SensitivityCandidates | None = None
) -> list[dict[str, Any]]:
    """The points a new study scores before its sampler proposes any.

    Uniform baselines first: every layer in fixed point at 8 bits, then at 16 bits (clamped
    into each layer's range; a layer that cannot be fixed point is left to the sampler, as are
    variables the baseline does not name). They anchor the accurate end of the front, which
    samplers starting from uniform random points reach last. Then, with a sensitivity
    `profile`, its per-layer pruned candidates. Duplicates are dropped. The float32 model is
    not a point of the space; it sets the hypervolume reference (`reference_point`).
    """
    by_name = {v.name: v for v in space.variables}
    constants = dict(space.constants)
    points: list[dict[str, Any]] = []
    for bits in (8, 16):
        point: dict[str, Any] = {}
        for name, var in by_name.items():
            prefix, _, field = name.rpartition(".")
            kind = by_name.get(f"{prefix}.kind")
            if kind is not None:
                can_be_fixed = "fixed" in kind.choices
            else:
                can_be_fixed = constants.get(f"{prefix}.kind") == "fixed"
            if not can_be_fixed:
                continue
            if field == "kind":
                point[name] = "fixed"
            elif field == "bits":
                point[name] = min(max(bits, var.low), var.high)
        if point:
            points.append(point)
    if profile is not None:
        points.extend(dict(p) for p in profile.candidates(space))
    unique: list[dict[str, Any]] = []
    for point in points:
        if point not in unique:
            unique.append(point)
    return unique
