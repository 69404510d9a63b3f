"""The ask/tell loop: the only code that asks, evaluates and tells trials.

Many workers may run it on one storage (processes, hosts). Two short steps happen under the
study lock (`dse.storage.study_mutex`), one worker at a time: taking one of the budget's slots
with a new trial (so B evaluations are started, never more), and deciding whether its
configuration is new, repeats a scored one, or is being scored by another worker right now.
Sampling and evaluating happen outside it, in parallel.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from dse._errors import StudyRunError
from dse.storage import (
    Heartbeat,
    Liveness,
    StaleTrials,
    WorkerTaggingSampler,
    records,
    recover,
    register_worker,
    study_mutex,
    worker_id,
)
from dse.study._init import liveness_of, prepare_study
from dse.study._points import SensitivityCandidates, reference_point, warm_start_points
from dse.study._problem import Problem
from dse.study._signals import StopSignal, WorkerStopped
from results import ParetoFront

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution
    from optuna.trial import FrozenTrial

    from results import TrialRecord
    from search_spaces import SearchSpace

__all__ = [
    "LoopState",
    "ProgressCallback",
    "SensitivityCandidates",
    "count_complete",
    "derive_seed",
    "optimize",
    "reference_point",
    "warm_start_points",
]

logger = logging.getLogger(__name__)

ProgressCallback = Callable[["LoopState"], None]


MAX_DUPLICATES_IN_A_ROW = 200
"""Proposals in a row that decode to scored configurations after which the loop stops."""

_STATES = (TrialState.COMPLETE, TrialState.RUNNING)


@dataclass
class LoopState:
    """Counts shown by the progress bar after each trial.

    Attributes:
        complete: evaluated trials in the storage (all workers).
        failed: failed trials (all workers, as of the start; then this worker's).
        budget: the evaluations to reach.
        front_size: points on the front this worker saw.
        last_reason: the last failure's reason.
        hypervolume: of that front.
        duplicates: proposals of scored configurations this worker told without scoring.
        evaluated: trials this worker evaluated.
        failed_here: trials this worker failed.
        retried: trials of lost workers this worker failed and queued again.
        stopped: the signal that stopped this worker (`SIGTERM`), or empty.
    """

    complete: int
    failed: int
    budget: int
    front_size: int
    last_reason: str = ""
    hypervolume: float = 0.0
    duplicates: int = 0
    evaluated: int = 0
    failed_here: int = 0
    retried: int = 0
    stopped: str = ""


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
    liveness: Liveness | None = None,
    stop: StopSignal | None = None,
) -> LoopState:
    """Run trials until `budget` trials are evaluated in the storage (across all workers).

    Exactly `budget`: a worker starts an evaluation only after taking one of the budget's
    slots under the study lock (evaluated trials plus running ones holding a slot stay within
    the budget). When every slot is taken, a worker waits for the others' trials: one that
    fails frees its slot, so the budget is met even when a worker dies. It returns once the
    budget is met.

    A trial that raises or yields a NaN is told FAILED with its reason and does not count; the
    loop stops with `StudyRunError` after `max_failures` failures in a row (default: 10 or the
    budget, whichever is larger), since something systematic is wrong then.

    A proposal whose decoded configuration (`Configuration.digest`) is already stored, from
    this run, an earlier one or another worker, is not evaluated: evaluations are pure, so it
    is told the stored trial's values and constraints, recorded as a duplicate, and the sampler
    asked again. One that another worker is scoring at this moment waits for that result.
    Duplicates do not count against the budget, so every evaluation buys a new point.
    Samplers propose such repeats because every variable is sampled, also those a layer's
    kind ignores (its `clusters` when fixed point); being told the values anyway teaches a
    model-based sampler that they do not matter. After `max_duplicates` in a row the sampler is
    taken to have no new configuration left and the loop stops, under budget, with a warning.
    `on_trial` is called for evaluated and failed trials (`LoopState.duplicates` counts the
    others).

    A thread writes this worker's heartbeat every `liveness.heartbeat_s` seconds; a running
    trial of another worker whose signs of life do not change for `liveness.grace_s` seconds
    is failed and its point queued again (once: a point whose worker is lost twice is given
    up). A signal handled by `stop` (SIGTERM), or Ctrl-C, fails the trial being evaluated
    with the reason and queues its point again before `WorkerStopped` or `KeyboardInterrupt`
    propagates.

    The hypervolume reference point is fixed and stored the first time a study is optimized
    (see `reference_point`); each complete trial records the front's hypervolume at its tell
    (as this worker saw the front). With `warm_start`, a new study first scores
    `warm_start_points(space, profile)`, then the points of a proxy's `calibration` design
    (already scored exactly, they become trials at no cost).

    A study with nothing left to do (budget met, or its space exhausted by an earlier run)
    stores nothing: the loop asks for a trial only when one is still needed.

    Raises:
        StudyRunError: trials keep failing, or the storage stays unreachable.
        WorkerStopped: `stop`'s signal arrived.
    """
    prepare_study(study, problem, warm_start=warm_start, profile=profile, calibration=calibration)
    loop = _Loop(
        study,
        problem,
        budget,
        max_failures=max_failures if max_failures is not None else max(10, budget),
        max_duplicates=max_duplicates,
        on_trial=on_trial,
        liveness=liveness or liveness_of(getattr(problem, "config", None)),
        stop=stop,
    )
    return loop.run()


class _Loop:
    """One worker's ask/tell loop over a study (see `optimize`)."""

    def __init__(
        self,
        study: optuna.Study,
        problem: Problem,
        budget: int,
        *,
        max_failures: int,
        max_duplicates: int,
        on_trial: ProgressCallback | None,
        liveness: Liveness,
        stop: StopSignal | None,
    ) -> None:
        self.study = study
        self.problem = problem
        self.budget = budget
        self.max_failures = max_failures
        self.max_duplicates = max_duplicates
        self.on_trial = on_trial
        self.liveness = liveness
        self.stop = stop
        self.me = worker_id()
        self.mutex = study_mutex(study)
        self.distributions = problem.space.to_optuna()
        self.directions = [d.name.lower() for d in study.directions]
        self.reference = records.reference_point(study) or reference_point(problem)
        self.scored = _ScoredConfigurations()
        self.stale = StaleTrials(liveness.grace_s, me=self.me)
        self.pause_s = max(0.05, min(1.0, liveness.heartbeat_s / 4))
        trials = study.get_trials(deepcopy=False)
        done = [records.to_record(t) for t in trials if records.is_evaluated(t)]
        self.values = [list(r.values) for r in done]
        self.feasible = [r.feasible for r in done]
        front = ParetoFront.from_points(self.values, self.directions, feasible=self.feasible)
        self.state = LoopState(
            complete=len(done),
            failed=sum(t.state == TrialState.FAIL for t in trials),
            budget=budget,
            front_size=len(front),
            hypervolume=front.hypervolume(self.reference),
        )
        self.failures_in_a_row = 0
        self.repeats = 0
        if not isinstance(study.sampler, WorkerTaggingSampler):
            study.sampler = WorkerTaggingSampler(study.sampler)

    # --- the loop --------------------------------------------------------------------------

    def run(self) -> LoopState:
        ordinal = register_worker(self.study)
        host, _, pid = self.me.rpartition(":")
        info = {
            "host": host,
            "pid": int(pid),
            "ordinal": ordinal,
            "started": round(time.time(), 2),
        }
        with Heartbeat(
            self.study, self.me, interval_s=self.liveness.heartbeat_s, info=info
        ) as beat:
            self.beat = beat
            try:
                self._work()
            except WorkerStopped as exc:
                self.state.stopped = exc.name
                raise
        self.state.complete = count_complete(self.study)
        return self.state

    def _work(self) -> None:
        distinct = self.problem.space.n_configurations()
        while True:
            if self.stop is not None:
                self.stop.check()
            outcome, trial, running = self._claim(distinct)
            if outcome == "exhausted":
                logger.warning(
                    "every one of the space's %d configurations is scored; stopping at %d "
                    "of %d evaluations",
                    distinct,
                    self.scored.evaluated,
                    self.budget,
                )
                return
            if outcome == "done":
                return
            recovered = self._recover(running)
            if trial is None:
                if not recovered:
                    self.beat.note(state="waiting")
                    self._pause()  # every slot is taken: wait for the others' trials
                continue
            self.beat.note(state="running")
            if not self._run_trial(trial):
                return

    def _claim(self, distinct: int) -> tuple[str, optuna.Trial | None, list[FrozenTrial]]:
        """Under the study lock, after reading the trials: `done` (the budget is met),
        `exhausted` (every configuration is scored), `full` (every budget slot is taken by a
        running trial) or `claimed`, with a new or queued trial that holds a slot (its worker
        tag, written as Optuna creates it). Also returns the running trials read."""
        with self.mutex.hold(self.study.study_name):
            trials = self.study.get_trials(deepcopy=False, states=_STATES)
            self.scored.update(trials)
            running = [t for t in trials if t.state == TrialState.RUNNING]
            if len(self.scored.by_digest) >= distinct:
                return "exhausted", None, running
            if self.scored.evaluated >= self.budget:
                return "done", None, running
            if self.scored.evaluated + sum(records.holds_slot(t) for t in running) >= self.budget:
                return "full", None, running
            trial = self.study.ask()
        return "claimed", trial, running

    def _run_trial(self, trial: optuna.Trial) -> bool:
        """Sample, decide, evaluate and tell one trial; False when the loop must stop."""
        told = False
        self.beat.watch(trial._trial_id, trial.number)  # noqa: SLF001
        try:
            params = _suggest(trial, self.distributions)
            digest = _digest(self.problem.space, params)
            decision, other = ("evaluate", None) if digest is None else self._decide(trial, digest)
            while decision == "in_flight":
                decision, other = self._wait_for(trial, int(other), str(digest))  # type: ignore[arg-type]
            if decision == "duplicate":
                told = True
                return self._tell_duplicate(trial, other)  # type: ignore[arg-type]
            self.repeats = 0
            start = time.perf_counter()
            try:
                if self.stop is not None:
                    with self.stop.interruptible():
                        evaluation = self.problem.evaluate(params)
                else:
                    evaluation = self.problem.evaluate(params)
            except Exception as exc:  # noqa: BLE001 - a failing trial must not stop the study
                told = True
                self._fail(trial, exc)
                return True
            evaluation_s = time.perf_counter() - start
            told = True
            self._tell_complete(trial, evaluation, evaluation_s)
            return True
        except (KeyboardInterrupt, WorkerStopped) as exc:
            if not told:
                reason = (
                    "interrupted by the user"
                    if isinstance(exc, KeyboardInterrupt)
                    else f"worker stopped by {exc.name}"
                )
                self._give_back(trial, reason)
            raise
        except BaseException as exc:
            if not told:
                records.tell_failed(self.study, trial, _reason(exc))
            raise
        finally:
            self.beat.watch(None)

    def _decide(self, trial: optuna.Trial, digest: str) -> tuple[str, Any]:
        """`duplicate` (with the stored trial), `in_flight` (with the number of the trial
        scoring it now) or `evaluate` (recorded as this trial's configuration), under the
        study lock: of two trials of one configuration, exactly one is evaluated."""
        with self.mutex.hold(self.study.study_name):
            trials = self.study.get_trials(deepcopy=False, states=_STATES)
            self.scored.update(trials)
            original = self.scored.by_digest.get(digest)
            if original is not None:
                return "duplicate", original
            for t in trials:
                if (
                    t.state == TrialState.RUNNING
                    and t.number != trial.number
                    and records.evaluating(t) == digest
                ):
                    return "in_flight", t.number
            records.set_evaluating(self.study, trial, digest)
        return "evaluate", None

    def _wait_for(self, trial: optuna.Trial, number: int, digest: str) -> tuple[str, Any]:
        """Wait while trial `number` scores this configuration; then repeat its result, or
        score it here if it failed."""
        while True:
            self._pause()
            running = self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            if all(t.number != number for t in running):  # finished: repeat or score it
                return self._decide(trial, digest)
            self._recover(running)

    def _recover(self, running: Iterable[FrozenTrial]) -> bool:
        """Fail the stale trials among `running` and queue their points; whether any was."""
        stale = self.stale(running)
        if not stale:
            return False
        counts = recover(self.study, stale)
        self.state.retried += counts["retried"]
        return any(counts.values())

    def _pause(self) -> None:
        if self.stop is not None:
            with self.stop.interruptible():
                time.sleep(self.pause_s)
        else:
            time.sleep(self.pause_s)

    # --- telling ---------------------------------------------------------------------------

    def _tell_duplicate(self, trial: optuna.Trial, original: TrialRecord) -> bool:
        if records.tell_duplicate(self.study, trial, original, self.state.hypervolume):
            self.state.duplicates += 1
            self.repeats += 1
        if self.repeats >= self.max_duplicates:
            logger.warning(
                "%d proposals in a row were configurations already scored; stopping at "
                "%d of %d evaluations (the sampler has no new configuration to offer)",
                self.repeats,
                self.scored.evaluated,
                self.budget,
            )
            return False
        return True

    def _tell_complete(self, trial: optuna.Trial, evaluation: Any, evaluation_s: float) -> None:
        self.failures_in_a_row = 0
        values = [*self.values, list(evaluation.objectives)]
        feasible = [*self.feasible, evaluation.feasible]
        front = ParetoFront.from_points(values, self.directions, feasible=feasible)
        hypervolume = front.hypervolume(self.reference)
        told = records.tell_complete(
            self.study,
            trial,
            configuration=evaluation.configuration,
            values=evaluation.objectives,
            metrics=evaluation.metrics,
            constraints=evaluation.constraints,
            fidelity=evaluation.fidelity,
            evaluation_s=evaluation_s,
            hypervolume=hypervolume,
        )
        if not told:
            logger.warning(
                "trial %d was failed by another worker (no heartbeat seen for %.0f s): its "
                "result is dropped and its point retried",
                trial.number,
                self.liveness.grace_s,
            )
            return
        self.values, self.feasible = values, feasible
        self.state.front_size = len(front)
        self.state.hypervolume = hypervolume
        self.state.evaluated += 1
        self.beat.note(evaluated=self.state.evaluated)
        self.state.complete = max(self.state.complete, self.scored.evaluated + 1)
        if self.on_trial is not None:
            self.on_trial(self.state)

    def _fail(self, trial: optuna.Trial, exc: Exception) -> None:
        reason = _reason(exc)
        logger.warning("trial %d failed: %s", trial.number, reason)
        logger.debug("%s", traceback.format_exc())
        records.tell_failed(self.study, trial, reason)
        self.state.failed += 1
        self.state.failed_here += 1
        self.state.last_reason = reason
        self.failures_in_a_row += 1
        if self.failures_in_a_row >= self.max_failures:
            raise StudyRunError(
                f"{self.failures_in_a_row} trials failed in a row; last reason: {reason}"
            ) from None
        if self.on_trial is not None:
            self.on_trial(self.state)

    def _give_back(self, trial: optuna.Trial, reason: str) -> None:
        """Fail an interrupted trial and queue its point again, so another worker (or the
        next run) scores it."""
        params = dict(trial.params)
        if records.tell_failed(self.study, trial, reason) and params:
            records.enqueue(self.study, params, retry_of=trial.number)
            logger.warning("trial %d: %s; its point is queued again", trial.number, reason)


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:500]


def _suggest(trial: optuna.Trial, distributions: Mapping[str, BaseDistribution]) -> dict[str, Any]:
    """Sample every variable of the space on `trial` (what `study.ask(distributions)` does,
    after the trial was taken under the study lock)."""
    params: dict[str, Any] = {}
    for name, dist in distributions.items():
        if isinstance(dist, CategoricalDistribution):
            params[name] = trial.suggest_categorical(name, dist.choices)
        elif isinstance(dist, IntDistribution):
            params[name] = trial.suggest_int(
                name, dist.low, dist.high, step=dist.step, log=dist.log
            )
        elif isinstance(dist, FloatDistribution):
            params[name] = trial.suggest_float(
                name, dist.low, dist.high, step=dist.step, log=dist.log
            )
        else:  # pragma: no cover - the space only makes the three kinds
            raise StudyRunError(f"variable {name}: unsupported distribution {dist!r}")
    return params


def _digest(space: SearchSpace, params: Mapping[str, Any]) -> str | None:
    try:
        return space.decode(params).digest()
    except Exception:  # noqa: BLE001 - an undecodable point fails in `evaluate`
        return None


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


def derive_seed(seed: int, n_trials: int, stream: int = 0) -> int:
    """A per-run sampler seed: a resumed run starts from another stream, never repeating, and
    each worker of a study (`stream`: its ordinal) from its own."""
    import numpy as np

    key = [seed, n_trials] if stream == 0 else [seed, n_trials, stream]
    return int(np.random.SeedSequence(key).generate_state(1)[0] % (2**31 - 1))
