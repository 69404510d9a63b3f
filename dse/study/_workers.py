"""Worker processes: `python -m dse worker STUDY.yaml --workers N` and each SLURM task.

A worker is one process running the ask/tell loop on a shared study until its budget is met.
`run_workers` starts N of them on this host (forked from a fork server that imported dse once,
so each has its own torch and storage connections and none pays the imports), after doing
the study's one-time work itself so they find the model cached.
Each worker draws its own random stream (its ordinal in the study), runs torch with
`evaluator.threads` threads, and stops cleanly on SIGTERM. When the budget is met, the one
process that claims it first re-scores the front and writes `runs/<study>/`.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue as queue_module
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dse._errors import DseError
from dse.storage import records, study_mutex, worker_id
from dse.study._build import output_dir, write_outputs
from dse.study._init import InitResult, init_study
from dse.study._minimize import (
    _rescore_front,
    collect_result,
    make_worker_sampler,
    prepare_worker,
)
from dse.study._optimize import count_complete, optimize
from dse.study._signals import StopSignal, WorkerStopped
from dse.study._torch import scoped_torch

if TYPE_CHECKING:
    import optuna

    from dse.config import StudyConfig
    from dse.study._problem import Problem

logger = logging.getLogger(__name__)


@dataclass
class WorkerSummary:
    """What one worker process did.

    Attributes:
        worker: its `host:pid`.
        evaluated: trials it evaluated.
        failed: trials it failed (an exception, a NaN).
        duplicates: proposals of scored configurations it told without scoring.
        retried: trials of lost workers it failed and queued again.
        seconds: wall time of its loop.
        stopped: the signal that stopped it, or empty.
        error: the one-line error that ended it, or empty.
        files: the result files it wrote when it met the budget (path by kind), or empty.
    """

    worker: str
    evaluated: int = 0
    failed: int = 0
    duplicates: int = 0
    retried: int = 0
    seconds: float = 0.0
    stopped: str = ""
    error: str = ""
    files: dict[str, str] = field(default_factory=dict)


@dataclass
class WorkersResult:
    """What `run_workers` did and where the study stands.

    Attributes:
        workers: one summary per worker process.
        complete: evaluated trials in the study now (all workers, all hosts).
        budget: the study's budget.
        seconds: wall time from the first worker's start to the last one's end.
        files: the result files written when this call met the budget (else empty).
    """

    workers: list[WorkerSummary]
    complete: int
    budget: int
    seconds: float
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def evaluated(self) -> int:
        return sum(w.evaluated for w in self.workers)

    @property
    def errors(self) -> list[str]:
        return [w.error for w in self.workers if w.error]


def run_worker(
    config: StudyConfig,
    path: str | Path,
    *,
    stop: StopSignal | None = None,
    init: InitResult | None = None,
    finish: bool = False,
) -> WorkerSummary:
    """Run one worker in this process until the study's budget is met.

    Args:
        config: the validated study.
        path: the study file.
        stop: turns SIGTERM into a clean stop (the trial being evaluated is failed and its
            point queued again).
        init: the study's `init_study` result, when this process already has it.
        finish: when the budget is met, re-score the front and write `runs/<study>/`
            (`finish_study`: once per budget).

    Returns:
        What it did; `stopped` names the signal when one stopped it.

    Raises:
        StudyFileError, StudyRunError: the study cannot be run (one line).
    """
    summary = WorkerSummary(worker_id())
    init = init or init_study(config, path)
    problem, study, settings = init.problem, init.study, config.optimizer
    started = time.perf_counter()
    with scoped_torch(config.evaluator.threads):
        design = prepare_worker(study, problem, settings, config)
        study.sampler = make_worker_sampler(study, problem, settings, config)
        state = None
        try:
            state = optimize(
                study,
                problem,
                settings.budget,
                warm_start=settings.warm_start,
                calibration=design,
                stop=stop,
            )
        except WorkerStopped as exc:
            summary.stopped = exc.name
        finally:
            summary.seconds = time.perf_counter() - started
    if state is not None:
        summary.evaluated = state.evaluated
        summary.failed = state.failed_here
        summary.duplicates = state.duplicates
        summary.retried = state.retried
        if finish and state.complete >= settings.budget:
            written = finish_study(config, problem, study, path)
            summary.files = {kind: str(file) for kind, file in written.items()}
    return summary


def run_workers(
    config: StudyConfig, path: str | Path, *, workers: int = 1, finish: bool = True
) -> WorkersResult:
    """Run `workers` worker processes on this host until the study's budget is met.

    The study's one-time work is done here first (`init_study`), so the workers find the
    model in the cache. With one worker it runs in this process. SIGTERM (a SLURM time
    limit) reaches every worker, which fails its current trial and queues its point again.

    Args:
        config: the validated study.
        path: the study file.
        workers: how many processes (>= 1).
        finish: when the budget is met, re-score the front and write `runs/<study>/` (once
            per budget across all workers and hosts).

    Returns:
        Each worker's summary and where the study stands.

    Raises:
        StudyFileError, StudyRunError: the study cannot be run (one line).
    """
    if workers < 1:
        raise DseError(f"--workers: must be at least 1, got {workers}")
    context = _process_context() if workers > 1 else None
    init = init_study(config, path)
    started = time.perf_counter()
    if context is None:
        with StopSignal() as stop:
            try:
                summaries = [run_worker(config, path, stop=stop, init=init, finish=finish)]
            except DseError as exc:
                summaries = [WorkerSummary(worker_id(), error=str(exc))]
    else:
        summaries = _spawn(context, Path(path), workers)
    seconds = time.perf_counter() - started
    study = init.study
    result = WorkersResult(summaries, count_complete(study), config.optimizer.budget, seconds)
    stopped = any(s.stopped for s in summaries)
    if workers > 1 and finish and not stopped and result.complete >= result.budget:
        result.files = finish_study(config, init.problem, study, path)
    elif summaries and summaries[0].files:
        result.files = {kind: Path(file) for kind, file in summaries[0].files.items()}
    return result


def finish_study(
    config: StudyConfig, problem: Problem, study: optuna.Study, path: str | Path | None = None
) -> dict[str, Path]:
    """Once the budget is met: re-score the front and write `runs/<study>/`, by the first
    worker to get here for this budget (the others return nothing).

    Returns:
        The written files by kind, or an empty mapping when another worker wrote them.
    """
    budget = config.optimizer.budget
    with study_mutex(study).hold(study.study_name):
        if records.finished_budget(study) == budget:
            return {}
        records.mark_finished(study, budget)
    with scoped_torch(config.evaluator.threads):
        rescored = _rescore_front(study, problem)
    result = collect_result(study, problem, config=config, budget=budget, rescored=rescored)
    return write_outputs(result, output_dir(config), path)


def _process_context() -> multiprocessing.context.BaseContext:
    """How worker processes start: forked from a fresh server process that imported dse (and
    torch) once, started now so its imports overlap the study's one-time work; spawned where
    there is no fork server. Never forked from this process, whose storage connections and
    torch threads a child must not share."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    from multiprocessing import forkserver

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__, "dse.config"])
    forkserver.ensure_running()
    return context


def _spawn(
    context: multiprocessing.context.BaseContext, path: Path, workers: int
) -> list[WorkerSummary]:
    """`workers` processes running `run_worker`; SIGTERM forwarded to them."""
    queue = context.Queue()
    level = logging.getLogger().getEffectiveLevel()
    processes = [
        context.Process(
            target=_worker_main, args=(str(path), queue, level), name=f"dse-worker-{i}"
        )
        for i in range(workers)
    ]
    for process in processes:
        process.start()

    def forward(signum: int, _frame: object) -> None:
        for process in processes:
            if process.is_alive() and process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signum)

    previous = signal.signal(signal.SIGTERM, forward)
    summaries: list[WorkerSummary] = []
    try:
        while any(p.is_alive() for p in processes) or len(summaries) < workers:
            try:
                summaries.append(WorkerSummary(**queue.get(timeout=0.5)))
            except queue_module.Empty:
                if not any(p.is_alive() for p in processes):
                    break
            except KeyboardInterrupt:  # the workers got it too: let them stop cleanly
                continue
        for process in processes:
            process.join()
    finally:
        signal.signal(signal.SIGTERM, previous)
    for process in processes:
        if process.exitcode not in (0, None) and not any(
            s.worker.endswith(f":{process.pid}") for s in summaries
        ):
            summaries.append(
                WorkerSummary(f"?:{process.pid}", error=f"exited with code {process.exitcode}")
            )
    return summaries


def _worker_main(path: str, queue: Any, level: int) -> None:
    """A worker process: load the study file, run one worker, report its summary."""
    from dse.config import load_study

    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if level > logging.INFO:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
    summary = WorkerSummary(worker_id())
    with StopSignal() as stop:
        try:
            summary = run_worker(load_study(path), path, stop=stop)
        except KeyboardInterrupt:
            summary.stopped = "SIGINT"
        except DseError as exc:
            summary.error = str(exc)
    queue.put(asdict(summary))


def run_worker_job(path: str) -> dict[str, Any]:
    """One worker as a batch job (`dse submit`'s SLURM array tasks): run it, and write the
    results if it is the one that meets the budget.

    SIGTERM and SIGUSR2 (what submitit asks SLURM to send before the time limit) stop it
    cleanly: its trial is failed and its point queued again for the remaining workers.

    Returns:
        The worker's summary, as plain data (`WorkerSummary` fields).
    """
    from dse.config import load_study

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    config = load_study(path)
    with StopSignal((signal.SIGTERM, signal.SIGUSR2)) as stop:
        summary = run_worker(config, path, stop=stop, finish=True)
    return asdict(summary)
