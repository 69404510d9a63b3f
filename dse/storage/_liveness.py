"""Which workers are alive: heartbeats written by each worker, trials of silent ones recovered.

A worker on another host cannot be asked whether it is alive, so every worker shows it: a
thread writes the time on the trial it runs and on its own record every `heartbeat_s` seconds
(`Heartbeat`). Any worker that sees a running trial's signs of life (its tag and heartbeat)
unchanged for `grace_s` seconds of its own clock fails it and queues its point
again (`StaleTrials`, `recover_trial`); clocks of other hosts never enter the decision. A point
whose worker is lost twice is given up with a reason, since it may be what kills workers (out
of memory). A local worker's death is seen at once: its process no longer exists.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import TrialState

from dse.storage import _records as records

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

logger = logging.getLogger(__name__)

UNTAGGED_GRACE_S = 10.0
"""Seconds a RUNNING trial without a worker tag is presumed alive: its worker tags it right
after creating it (`WorkerTaggingSampler.before_trial`), so one untagged for longer is dead."""

DIED = "worker died (interrupted)"
"""Why a trial of a local worker that no longer exists was failed."""
LOST = "worker lost"
"""How the reason starts when a worker's heartbeat stopped."""
_LOST_PREFIXES = (DIED, LOST)


@dataclass(frozen=True)
class Liveness:
    """How workers show they are alive, and how long others wait before taking over.

    Attributes:
        heartbeat_s: seconds between a worker's heartbeats (one storage write each, for its
            trial and for its record).
        grace_s: seconds without any sign of life after which another worker fails a trial
            and retries its point. Several heartbeats long, so a slow write or a busy host is
            not taken for a dead worker.
    """

    heartbeat_s: float = 10.0
    grace_s: float = 60.0


HOST_VARIABLE = "DSE_WORKER_HOST"
"""Environment variable naming this host in worker ids (default: the host name). Set it where
containers share a host name but not their processes, so no worker takes another's live
process for a dead one."""


def host_name() -> str:
    """This host's name in worker ids: `DSE_WORKER_HOST`, else the host name."""
    return os.environ.get(HOST_VARIABLE) or socket.gethostname()


def worker_id() -> str:
    """`host:pid` of this process, recorded on every trial it runs."""
    return f"{host_name()}:{os.getpid()}"


def local_process_gone(worker: str) -> bool:
    """Whether `worker` (`host:pid`) ran on this host and its process no longer exists."""
    host, _, pid = worker.rpartition(":")
    if host != host_name():
        return False
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return True
    except PermissionError:
        return False
    return False


def register_worker(study: optuna.Study) -> int:
    """Record this process as a worker of `study`; return its ordinal (0 for the first).

    Ordinals are handed out under the study lock, so they are distinct across hosts: each
    worker's random stream is seeded from its own.
    """
    from dse.storage._storage import study_mutex

    worker = worker_id()
    host, _, pid = worker.rpartition(":")
    info = {"host": host, "pid": int(pid), "started": round(time.time(), 2), "state": "starting"}
    with study_mutex(study).hold(study.study_name):
        return records.register_worker(study, worker, info)


@dataclass(frozen=True)
class WorkerState:
    """A worker of a study as its record tells (`dse status`).

    Attributes:
        worker: `host:pid`.
        ordinal: 0 for the study's first worker, then 1, 2...
        state: `running` (evaluating), `waiting` (every budget slot taken), `starting`,
            `stopped` (ended cleanly) or `lost` (no heartbeat for `grace_s` seconds).
        last_beat_s: seconds since its last heartbeat, by this host's clock.
        trial: the trial it runs, if any.
        evaluated: trials it evaluated.
    """

    worker: str
    ordinal: int
    state: str
    last_beat_s: float | None
    trial: int | None
    evaluated: int

    @property
    def alive(self) -> bool:
        return self.state in ("running", "waiting", "starting")


def worker_states(study: optuna.Study, grace_s: float) -> list[WorkerState]:
    """Every worker that ever ran on `study`, by ordinal; one silent for `grace_s` seconds
    (or whose local process is gone) is `lost`."""
    now = time.time()
    states = []
    for worker, info in records.workers(study).items():
        beat = info.get("beat", info.get("started"))
        age = None if beat is None else max(0.0, now - float(beat))
        state = str(info.get("state", "running"))
        if state != "stopped" and (local_process_gone(worker) or age is None or age > grace_s):
            state = "lost"
        states.append(
            WorkerState(
                worker=worker,
                ordinal=int(info.get("ordinal", -1)),
                state=state,
                last_beat_s=age,
                trial=info.get("trial"),
                evaluated=int(info.get("evaluated", 0)),
            )
        )
    return sorted(states, key=lambda w: w.ordinal)


class Heartbeat:
    """A daemon thread that writes this worker's heartbeat every `interval_s` seconds.

    It writes the time on the trial the worker runs (`watch`), so other workers know it is
    alive, and the worker's record (`dse status` lists workers from it). Use it as a context
    manager: on exit the record says the worker stopped.

    Args:
        study: the study.
        worker: this worker's `host:pid`.
        interval_s: seconds between heartbeats.
        info: the worker's record (ordinal, start), updated with each heartbeat.
    """

    def __init__(
        self, study: optuna.Study, worker: str, *, interval_s: float, info: dict[str, Any]
    ) -> None:
        self.study = study
        self.worker = worker
        self.interval_s = interval_s
        self.info = dict(info)
        self._trial: tuple[int, int] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Heartbeat:
        self.info["state"] = "running"
        self._beat()
        self._thread = threading.Thread(target=self._run, name="dse-heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        with self._lock:
            self._trial = None
        self.info["state"] = "stopped"
        try:
            self._beat()
        except Exception:  # noqa: BLE001 - the worker is ending; its record may stay stale
            logger.debug("could not write the final worker record", exc_info=True)

    def watch(self, trial_id: int | None, number: int | None = None) -> None:
        """Beat for this trial from now on (None: between trials)."""
        with self._lock:
            self._trial = None if trial_id is None else (trial_id, int(number or 0))

    def note(self, **fields: Any) -> None:
        """Update fields of the worker's record (`evaluated`, `state`)."""
        with self._lock:
            self.info.update(fields)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self._beat()
            except Exception as exc:  # noqa: BLE001 - a missed beat is not fatal
                logger.warning("heartbeat not written: %s", str(exc).splitlines()[0][:200])

    def _beat(self) -> None:
        now = time.time()
        with self._lock:
            trial = self._trial
            info = {
                **self.info,
                "beat": round(now, 2),
                "trial": None if trial is None else trial[1],
            }
        if trial is not None:
            try:
                records.beat(self.study, trial[0], now)
            except optuna.exceptions.UpdateFinishedTrialError:
                pass  # failed meanwhile by another worker: this worker's tell finds out
        records.update_worker(self.study, self.worker, info)


class StaleTrials:
    """Running trials whose worker shows no sign of life, as one worker observes them.

    Call it with the running trials each time the loop reads them: a trial whose tag and
    heartbeat have not changed for `grace_s` seconds since this process first saw them
    (10 s when it never got a tag) is stale; a trial of a local worker whose process is gone
    is stale at once. This worker's own trials never are.

    Args:
        grace_s: seconds without change after which a trial is stale.
        me: this worker's `host:pid`.
    """

    def __init__(self, grace_s: float, *, me: str) -> None:
        self.grace_s = grace_s
        self.me = me
        self._seen: dict[int, tuple[tuple[Any, ...], float]] = {}

    def __call__(self, running: Iterable[FrozenTrial]) -> list[tuple[FrozenTrial, str]]:
        """The stale trials among `running`, each with the reason to fail it."""
        now = time.monotonic()
        stale: list[tuple[FrozenTrial, str]] = []
        current: set[int] = set()
        for trial in running:
            if trial.state != TrialState.RUNNING:
                continue
            key = trial._trial_id  # noqa: SLF001
            current.add(key)
            worker = records.worker(trial)
            if worker == self.me:
                continue
            if worker is not None and local_process_gone(worker):
                stale.append((trial, DIED))
                continue
            token = records.liveness(trial)
            seen = self._seen.get(key)
            if seen is None or seen[0] != token:
                self._seen[key] = (token, now)
                continue
            limit = self.grace_s if worker is not None else min(self.grace_s, UNTAGGED_GRACE_S)
            silent = now - seen[1]
            if silent >= limit:
                stale.append((trial, f"{LOST}: no heartbeat for {silent:.0f} s"))
        for key in list(self._seen):
            if key not in current:
                del self._seen[key]
        return stale


def recover_trial(study: optuna.Study, trial: FrozenTrial, reason: str) -> str | None:
    """Fail a trial whose worker is dead or silent, and queue its point once more.

    Call it holding the study lock. A trial that is itself the retry of a point whose worker
    was lost is failed and not queued again: the point may be what kills workers.

    Returns:
        `retried`, `given up`, or None when the trial was finished meanwhile.
    """
    record = records.to_record(trial)
    given_up = False
    if record.retry_of is not None:
        first = _trial_by_number(study, record.retry_of)
        if first is not None and str(records.to_record(first).fail_reason or "").startswith(
            _LOST_PREFIXES
        ):
            given_up = True
            reason = (
                f"{reason}; its point was lost before (trial {record.retry_of}): not retried "
                "again, it may be what stops workers"
            )
    if not records.fail_abandoned(study, trial, reason):
        return None
    if given_up or not trial.params:
        logger.warning("trial %d failed: %s", trial.number, reason)
        return "given up"
    records.enqueue(study, trial.params, retry_of=trial.number)
    logger.warning("trial %d failed: %s; its point is queued again", trial.number, reason)
    return "retried"


def _trial_by_number(study: optuna.Study, number: int) -> FrozenTrial | None:
    """The stored trial `number` of `study` if it failed (one row read, not the study)."""
    storage = study._storage  # noqa: SLF001 - one trial by number, as Optuna's own code does
    try:
        trial_id = storage.get_trial_id_from_study_id_trial_number(study._study_id, number)  # noqa: SLF001
        trial = storage.get_trial(trial_id)
    except KeyError:
        return None
    return trial if trial.state == TrialState.FAIL else None


def recover_stale_trials(study: optuna.Study) -> int:
    """Fail the trials left RUNNING by dead local workers (or untagged for 10 s), and queue
    their points again.

    A worker killed mid-trial (SIGKILL, power loss) leaves its trial RUNNING forever; its
    point is enqueued so the retry scores the same configuration. Trials of workers on other
    hosts are judged by their heartbeats instead, during the run (`StaleTrials`).

    Returns:
        How many trials were recovered.
    """
    from dse.storage._storage import study_mutex

    now = datetime.now()
    candidates = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = records.worker(trial)
        if worker is None:
            # A live worker tags its trial right after asking: give it time to do so.
            started = trial.datetime_start or now
            if (now - started).total_seconds() >= UNTAGGED_GRACE_S:
                candidates.append(trial)
        elif local_process_gone(worker):
            candidates.append(trial)
    recovered = 0
    if candidates:
        with study_mutex(study).hold(study.study_name):
            running = _running(study)
            for trial in candidates:
                fresh = running.get(trial.number)
                if fresh is not None and recover_trial(study, fresh, DIED) is not None:
                    recovered += 1
    if recovered:
        logger.warning("recovered %d trial(s) left running by a dead worker", recovered)
    return recovered


def _running(study: optuna.Study) -> dict[int, FrozenTrial]:
    """The trials running now, as stored, by number (read once per hold of the lock)."""
    return {t.number: t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}


def recover(study: optuna.Study, stale: list[tuple[FrozenTrial, str]]) -> dict[str, int]:
    """Recover stale trials (`StaleTrials`) under the study lock, each re-read first: if its
    signs of life changed meanwhile, it is left alone.

    Returns:
        How many were retried and given up.
    """
    from dse.storage._storage import study_mutex

    counts = {"retried": 0, "given up": 0}
    if not stale:
        return counts
    with study_mutex(study).hold(study.study_name):
        running = _running(study)
        for trial, reason in stale:
            fresh = running.get(trial.number)
            if fresh is None or records.liveness(fresh) != records.liveness(trial):
                continue
            outcome = recover_trial(study, fresh, reason)
            if outcome is not None:
                counts[outcome] += 1
    return counts
