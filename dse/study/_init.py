"""A study's one-time work, done once however many workers start together.

`init_study` (what `python -m dse init` runs, and `run` and `worker` when it was not run)
creates the study and its tables, trains or loads the model into the shared cache, fixes the
hypervolume reference point, fits a proxy's calibration and stores its exact design scores,
and queues the warm-start and calibration points. One process does it, holding a lease in the
storage that it keeps alive with a heartbeat; others wait for it, and take over if its
heartbeat stops.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import TrialState

from dse._errors import StudyFileError
from dse.storage import (
    Liveness,
    local_process_gone,
    make_storage,
    open_study,
    read_records,
    records,
    recover_stale_trials,
    storage_url,
    study_mutex,
    worker_id,
)
from dse.study._build import output_dir
from dse.study._points import SensitivityCandidates, reference_point, warm_start_points
from dse.study._problem import Problem
from dse.study._sensitivity import stored_candidates
from dse.study._torch import scoped_torch
from evaluators import ProxyEvaluator

if TYPE_CHECKING:
    from optuna.storages import BaseStorage

    from dse.config import StudyConfig

logger = logging.getLogger(__name__)


@dataclass
class InitResult:
    """What `init_study` found or did.

    Attributes:
        problem: the study's problem (its model trained or loaded from the cache).
        study: the Optuna study.
        storage: its storage.
        did_init: whether this process did the one-time work (False: done before, or by
            another process while this one waited).
        queued: points waiting in the study's queue (warm start, calibration design, retries).
        seconds: wall time of the call.
    """

    problem: Problem
    study: optuna.Study
    storage: BaseStorage
    did_init: bool
    queued: int
    seconds: float


def liveness_of(config: StudyConfig | None) -> Liveness:
    """The heartbeat settings of a study (`storage.heartbeat_s`, `storage.grace_s`)."""
    if config is None:
        return Liveness()
    return Liveness(heartbeat_s=config.storage.heartbeat_s, grace_s=config.storage.grace_s)


def init_study(
    config: StudyConfig, path: str | Path, *, storage: BaseStorage | None = None
) -> InitResult:
    """Do a study's one-time work once: the study, the model in the cache, its first points.

    Safe when many processes call it together on one storage: one does the work while the
    others wait, then load the trained model from the cache.

    Args:
        config: the validated study.
        path: the study file.
        storage: an open storage (default: `storage.url`, created if missing).

    Returns:
        The problem, the study and what was done.

    Raises:
        StudyFileError: the study's folder cannot be created (`study.output`), or the study
            names a file that is missing or does not fit.
        StudyRunError: the storage cannot be opened, or holds another study of this name.
    """
    started = time.perf_counter()
    make_study_folder(config, path)
    if storage is None:
        storage = make_storage(storage_url(config), reconnect_s=config.storage.reconnect_s)
    study = open_study(config, storage)
    recover_stale_trials(study)
    with init_lease(study, liveness_of(config)) as holding:
        problem = Problem.from_config(config, path)
        if holding:
            initialize(study, problem, warm_start=config.optimizer.warm_start)
    queued = len(study.get_trials(deepcopy=False, states=(TrialState.WAITING,)))
    return InitResult(problem, study, storage, holding, queued, time.perf_counter() - started)


def make_study_folder(config: StudyConfig, path: str | Path) -> Path:
    """Create `<study.output>/<study.name>` (the results, the default SQLite storage, and the
    trained-model cache beside it), before anything is opened or trained.

    Raises:
        StudyFileError: it cannot be created, naming `study.output`.
    """
    folder = output_dir(config)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StudyFileError(
            str(path),
            "study.output",
            f"cannot create the study folder {folder}: {exc.strerror or exc}",
        ) from None
    return folder


def initialize(study: optuna.Study, problem: Problem, *, warm_start: bool) -> None:
    """The one-time work on a built problem: a proxy's calibration fitted (its exact design
    scores stored for the other workers), the reference point, the first points queued.

    Call it holding the init lease (`init_lease`); it does nothing on an initialized study.
    """
    if records.initialized(study):
        return
    config = problem.config
    profile = None
    if (
        warm_start
        and config is not None
        and problem.workload is not None
        and not study.get_trials(deepcopy=False)
    ):
        profile = stored_candidates(config, problem.workload)
    seed = 0 if config is None else config.study.seed
    threads = 1 if config is None else config.evaluator.threads
    with scoped_torch(threads):
        design = fit_calibration(problem, study, seed, warm_start)
    prepare_study(study, problem, warm_start=warm_start, profile=profile, calibration=design)


def prepare_study(
    study: optuna.Study,
    problem: Problem,
    *,
    warm_start: bool = False,
    profile: SensitivityCandidates | None = None,
    calibration: Sequence[Mapping[str, Any]] = (),
) -> bool:
    """Once per study, under the study lock: fix the reference point and queue the first
    points (`warm_start_points`, then the calibration design's).

    A study stored by an earlier dse (trials, no mark) gets the mark and nothing queued.

    Returns:
        Whether this call did it (False: done before).
    """
    if records.initialized(study):
        return False
    with study_mutex(study).hold(study.study_name):
        if records.initialized(study):
            return False
        if records.reference_point(study) is None:
            records.set_reference_point(study, reference_point(problem))
        trials = study.get_trials(deepcopy=False)
        # Only queued points of an initialization that died half-way: finish its queue.
        fresh = all(
            t.state == TrialState.WAITING and records.to_record(t).warm_start for t in trials
        )
        if fresh:
            for params in first_points(problem, warm_start, profile, calibration):
                records.enqueue(study, params, warm_start=True, skip_if_exists=bool(trials))
        records.mark_initialized(study, worker_id(), round(time.time(), 2))
    return True


def first_points(
    problem: Problem,
    warm_start: bool,
    profile: SensitivityCandidates | None,
    calibration: Sequence[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """The points a new study scores first: warm-start points, then the calibration
    design's that are new configurations."""
    space = problem.space
    points = warm_start_points(space, profile) if warm_start else []
    seen = {space.decode(space.complete(p)).digest() for p in points}
    for params in map(dict, calibration):
        digest = space.decode(params).digest()
        if digest not in seen:
            seen.add(digest)
            points.append(params)
    return points


def fit_calibration(
    problem: Problem, study: optuna.Study, seed: int, warm_start: bool
) -> list[dict[str, Any]]:
    """Fit a proxy evaluator's calibration on its design; return the design's points.

    The design is the study's warm-start baselines then random points of the space drawn
    from the study's seed: the same in every run and every worker. Exact scores the storage
    already holds (the design scores the first worker stored, a resumed study's trials) are
    not computed again; those computed here are stored for the other workers.
    """
    evaluator = problem.evaluator
    if not isinstance(evaluator, ProxyEvaluator):
        return []
    n = evaluator.calibration_trials
    space = problem.space
    warm = [space.complete(p) for p in warm_start_points(space)] if warm_start else []
    candidates = warm + space.sample(8 * n, seed)
    design: dict[str, dict[str, Any]] = {}
    for params in candidates:
        design.setdefault(space.decode(params).digest(), params)
        if len(design) == n:
            break
    if not evaluator.fitted:
        known = records.calibration_scores(study)
        known |= {
            r.config_hash: r.metrics["accuracy_exact"]
            for r in read_records(study)
            if r.evaluated and r.config_hash is not None and "accuracy_exact" in r.metrics
        }
        scored = evaluator.exact_scorings_
        evaluator.fit([space.decode(p) for p in design.values()], known)
        if evaluator.exact_scorings_ > scored:
            records.store_calibration_scores(study, known | evaluator.design_)
    return list(design.values())


@contextlib.contextmanager
def init_lease(study: optuna.Study, liveness: Liveness) -> Iterator[bool]:
    """Hold the study's init lease while doing its one-time work.

    Yields True when this process must do the work (it holds the lease, kept alive by a
    heartbeat, until the block ends), False when it is done (by an earlier run, or by another
    process this one waited for). A lease whose heartbeat stops for `grace_s` seconds, or
    whose local process is gone, is taken over.
    """
    me = worker_id()
    mutex = study_mutex(study)
    seen: tuple[Any, float] | None = None
    announced = False
    while True:
        lease = records.init_lease(study)
        if lease is None and records.initialized(study):
            yield False
            return
        now = time.monotonic()
        if lease is not None and lease.get("by") != me:
            token = lease.get("beat")
            if seen is None or seen[0] != token:
                seen = (token, now)
            holder = str(lease.get("by"))
            alive = not local_process_gone(holder) and now - seen[1] < liveness.grace_s
            if alive:
                if not announced:
                    logger.warning("waiting for %s to initialize the study", holder)
                    announced = True
                time.sleep(min(1.0, liveness.heartbeat_s / 2))
                continue
        with mutex.hold(study.study_name):
            if records.init_lease(study) != lease:
                continue  # taken or released meanwhile: look again
            if lease is None and records.initialized(study):
                continue
            if lease is not None and lease.get("by") != me:
                logger.warning("taking over the initialization from %s", lease.get("by"))
            records.set_init_lease(study, {"by": me, "beat": round(time.time(), 2)})
        break
    keeper = _LeaseKeeper(study, me, liveness.heartbeat_s)
    keeper.start()
    try:
        yield True
    finally:
        keeper.stop()
        with contextlib.suppress(Exception):
            records.set_init_lease(study, None)


class _LeaseKeeper(threading.Thread):
    """Refreshes the init lease's heartbeat while its holder works."""

    def __init__(self, study: optuna.Study, me: str, interval_s: float) -> None:
        super().__init__(name="dse-init-lease", daemon=True)
        self.study = study
        self.me = me
        self.interval_s = interval_s
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.interval_s):
            try:
                records.set_init_lease(self.study, {"by": self.me, "beat": round(time.time(), 2)})
            except Exception as exc:  # noqa: BLE001 - a missed beat is not fatal
                logger.warning("init lease not refreshed: %s", str(exc).splitlines()[0][:200])

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=30)
