"""The ask/tell loop: the only code that asks, evaluates and tells trials."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import optuna
from optuna.trial import TrialState

from dse._errors import StudyRunError
from dse.storage import WorkerTaggingSampler, records, recover_stale_trials
from dse.study._problem import Problem
from evaluators import Configuration
from results import ParetoFront

if TYPE_CHECKING:
    from results import TrialRecord

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from search_spaces import SearchSpace

logger = logging.getLogger(__name__)

ProgressCallback = Callable[["LoopState"], None]


MAX_DUPLICATES_IN_A_ROW = 200
"""Proposals in a row that decode to scored configurations after which the loop stops."""


@dataclass
class LoopState:
    """Counts shown by the progress bar after each trial."""

    complete: int
    failed: int
    budget: int
    front_size: int
    last_reason: str = ""
    hypervolume: float = 0.0
    duplicates: int = 0


def count_complete(study: optuna.Study) -> int:
    """Complete trials that were evaluated: what the budget counts (duplicates are not)."""
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return sum(records.is_evaluated(t) for t in done)


def optimize(
    study: optuna.Study,
    problem: Problem,
    budget: int,
    *,
    max_failures: int | None = None,
    max_duplicates: int = MAX_DUPLICATES_IN_A_ROW,
    on_trial: ProgressCallback | None = None,
    warm_start: bool = False,
    profile: SensitivityCandidates | None = None,
    calibration: Sequence[Mapping[str, Any]] = (),
) -> LoopState:
    """Run trials until `budget` trials are evaluated in the storage (across all workers).

    A trial that raises or yields a NaN is told FAILED with its reason and does not count; the
    loop stops with `StudyRunError` after `max_failures` failures in a row (default: 10 or the
    budget, whichever is larger), since something systematic is wrong then.

    A proposal whose decoded configuration (`Configuration.digest`) is already stored, from
    this run, an earlier one or another worker, is not evaluated: evaluations are pure, so it
    is told the stored trial's values and constraints, recorded as a duplicate, and the sampler
    asked again. It does not count against the budget, so every evaluation buys a new point.
    Samplers propose such repeats because every variable is sampled, also those a layer's
    kind ignores (its `clusters` when fixed point); being told the values anyway teaches a
    model-based sampler that they do not matter. After `max_duplicates` in a row the sampler is
    taken to have no new configuration left and the loop stops, under budget, with a warning.
    `on_trial` is called for evaluated trials only (`LoopState.duplicates` counts the others).

    The hypervolume reference point is fixed and stored the first time a study is optimized
    (see `reference_point`); each complete trial records the front's hypervolume at its tell
    (as this worker saw the front). With `warm_start`, a new study first scores
    `warm_start_points(space, profile)`, then the points of a proxy's `calibration` design
    (already scored exactly, they become trials at no cost).

    A study with nothing left to do (budget met, or its space exhausted by an earlier run)
    stores nothing: the loop asks for a trial only when one is still needed.
    """
    limit = max_failures if max_failures is not None else max(10, budget)
    distributions = problem.space.to_optuna()
    directions = [d.name.lower() for d in study.directions]
    reference = records.reference_point(study)
    if reference is None:
        reference = reference_point(problem)
        records.set_reference_point(study, reference)
    trials = study.get_trials(deepcopy=False)
    if not trials:
        points = warm_start_points(problem.space, profile) if warm_start else []
        seen = {problem.space.decode(problem.space.complete(p)).digest() for p in points}
        for params in map(dict, calibration):
            digest = problem.space.decode(params).digest()
            if digest not in seen:
                seen.add(digest)
                points.append(params)
        for params in points:
            records.enqueue(study, params, warm_start=True)
    done = [records.to_record(t) for t in trials if records.is_evaluated(t)]
    values = [list(r.values) for r in done]
    feasible = [r.feasible for r in done]
    scored = _ScoredConfigurations()
    front = ParetoFront.from_points(values, directions, feasible=feasible)
    state = LoopState(
        complete=len(done),
        failed=sum(t.state == TrialState.FAIL for t in trials),
        budget=budget,
        front_size=len(front),
        hypervolume=front.hypervolume(reference),
    )
    in_a_row = repeats = 0
    if not isinstance(study.sampler, WorkerTaggingSampler):
        study.sampler = WorkerTaggingSampler(study.sampler)
    distinct = problem.space.n_configurations()
    while True:
        trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING))
        scored.update(trials)
        running = [t for t in trials if t.state == TrialState.RUNNING]
        if len(scored.by_digest) >= distinct:
            logger.warning(
                "every one of the space's %d configurations is scored; stopping at %d of %d "
                "evaluations",
                distinct,
                scored.evaluated,
                budget,
            )
            break
        if scored.evaluated + len(running) >= budget:
            if scored.evaluated < budget and any(records.worker(t) is None for t in running):
                # A trial nobody has claimed: either a worker created it a moment ago, or one
                # died creating it. Wait out the grace period, then recover it if still bare.
                time.sleep(1.0)
                recover_stale_trials(study)
                continue
            break
        trial = study.ask(distributions)
        original = scored.original(problem.space, trial.params)
        if original is not None:
            records.tell_duplicate(study, trial, original, state.hypervolume)
            state.duplicates += 1
            repeats += 1
            if repeats >= max_duplicates:
                logger.warning(
                    "%d proposals in a row were configurations already scored; stopping at "
                    "%d of %d evaluations (the sampler has no new configuration to offer)",
                    repeats,
                    scored.evaluated,
                    budget,
                )
                break
            continue
        repeats = 0
        start = time.perf_counter()
        try:
            evaluation = problem.evaluate(trial.params)
        except KeyboardInterrupt:
            records.tell_failed(study, trial, "interrupted by the user")
            raise
        except Exception as exc:  # noqa: BLE001 - a failing trial must not stop the study
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
            logger.warning("trial %d failed: %s", trial.number, reason)
            logger.debug("%s", traceback.format_exc())
            records.tell_failed(study, trial, reason)
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
        evaluation_s = time.perf_counter() - start
        values.append(list(evaluation.objectives))
        feasible.append(evaluation.feasible)
        front = ParetoFront.from_points(values, directions, feasible=feasible)
        state.front_size = len(front)
        state.hypervolume = front.hypervolume(reference)
        records.tell_complete(
            study,
            trial,
            configuration=evaluation.configuration,
            values=evaluation.objectives,
            metrics=evaluation.metrics,
            constraints=evaluation.constraints,
            fidelity=evaluation.fidelity,
            evaluation_s=evaluation_s,
            hypervolume=state.hypervolume,
        )
        state.complete = count_complete(study)
        if on_trial is not None:
            on_trial(state)
    return state


class _ScoredConfigurations:
    """The stored complete, evaluated trials by configuration digest, read incrementally."""

    def __init__(self) -> None:
        self.by_digest: dict[str, TrialRecord] = {}
        self.evaluated = 0
        self._seen: set[int] = set()

    def update(self, trials: Iterable[FrozenTrial]) -> None:
        for t in trials:
            if t.state != TrialState.COMPLETE or t.number in self._seen:
                continue
            self._seen.add(t.number)
            if not records.is_evaluated(t):
                continue
            self.evaluated += 1
            digest = records.config_hash(t)
            if digest is not None and digest not in self.by_digest:
                self.by_digest[digest] = records.to_record(t)

    def original(self, space: SearchSpace, params: Mapping[str, Any]) -> TrialRecord | None:
        """The stored trial of the configuration `params` decode to, if any."""
        try:
            digest = space.decode(params).digest()
        except Exception:  # noqa: BLE001 - an undecodable point fails in `evaluate`
            return None
        return self.by_digest.get(digest)


def derive_seed(seed: int, n_trials: int) -> int:
    """A per-run sampler seed: a resumed run starts from another stream, never repeating."""
    import numpy as np

    return int(np.random.SeedSequence([seed, n_trials]).generate_state(1)[0] % (2**31 - 1))


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
