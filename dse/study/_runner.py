"""`run_study`: what `python -m dse run` does, a study file in, its output folder written."""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

import optuna

from dse.study._build import output_dir, write_outputs
from dse.study._init import init_study
from dse.study._minimize import collect_result, minimize
from results import StudyResult

if TYPE_CHECKING:
    from dse.config import StudyConfig
    from dse.study._optimize import ProgressCallback
    from dse.study._problem import Problem
    from dse.study._signals import StopSignal

logger = logging.getLogger(__name__)


def run_study(
    config: StudyConfig,
    path: str | Path,
    *,
    on_trial: ProgressCallback | None = None,
    on_start: ProgressCallback | None = None,
    stop: StopSignal | None = None,
) -> StudyResult:
    """Run a study file's study until its budget is met, then write its output folder.

    Running it again resumes (see `minimize`); many workers may share one storage. The
    storage is `storage.url`, or SQLite in `runs/<study>/study.db`. The study's one-time work
    (`init_study`: the model trained into the shared cache, the first points queued) is done
    once, also when many runs start together. Whatever stops the loop (an interrupt,
    trials failing in a row), what the storage holds is written out.

    Args:
        config: the validated study.
        path: the study file (relative data paths are taken from its folder).
        on_trial: called after each trial with the loop's counts (progress display).
        on_start: called once before the first trial, with the counts found in storage.
        stop: turns SIGTERM into a clean stop (the CLI's `StopSignal`), default none.

    Returns:
        The result, with `files` naming what was written.

    Raises:
        StudyFileError: the study names a file that is missing or does not fit.
        StudyRunError: the stored study differs, or trials keep failing.
    """
    started = time.perf_counter()
    init = init_study(config, path)
    problem, storage = init.problem, init.storage
    build_s = time.perf_counter() - started
    folder = output_dir(config)
    try:
        result = minimize(
            problem, storage=storage, on_trial=on_trial, on_start=on_start, stop=stop
        )
    except BaseException:
        _write_what_is_stored(config, problem, storage, folder, path)
        raise
    timings = dict(result.timings)
    timings["setup_s"] = timings.get("setup_s", 0.0) + build_s
    result = dataclasses.replace(result, timings=timings)
    return dataclasses.replace(result, files=write_outputs(result, folder, path))


def _write_what_is_stored(
    config: StudyConfig,
    problem: Problem,
    storage: optuna.storages.BaseStorage,
    folder: Path,
    path: str | Path,
) -> None:
    """Write the output folder from the storage after a run stopped early; never raises."""
    try:
        study = optuna.load_study(study_name=config.study.name, storage=storage)
        result = collect_result(study, problem, budget=config.optimizer.budget)
        write_outputs(result, folder, path)
    except Exception:  # noqa: BLE001 - the original error is the one to report
        logger.debug("could not write the results of an interrupted run", exc_info=True)
