"""`run_study`: the one entry point that runs (or resumes) a study and writes its results."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from dse._errors import StudyFileError
from dse.config import StudyConfig
from dse.optimizers import OptimizerSettingsError, get_optimizer
from dse.results import (
    ParetoFront,
    count_state,
    provenance,
    stored_reference,
    trials_table,
    write_results,
)
from dse.study._evaluator import replay_calibration
from dse.study._optimize import LoopState, count_complete, derive_seed, optimize
from dse.study._rescore import rescore_front, write_fidelity_report
from dse.study._result import StudyResult
from dse.study._sensitivity import stored_candidates
from dse.study._setup import StudySetup, build_setup
from dse.study._storage import make_storage, open_study, recover_stale_trials, storage_url
from dse.study._worker import WorkerTaggingSampler

if TYPE_CHECKING:
    import optuna

    from dse.study._optimize import ProgressCallback

logger = logging.getLogger(__name__)


def run_study(
    config: StudyConfig,
    path: str | Path,
    *,
    on_trial: ProgressCallback | None = None,
    on_start: ProgressCallback | None = None,
) -> StudyResult:
    """Run a study until its budget of completed trials is met, then write its results.

    Running it again resumes: completed trials count against the budget, trials left running
    by a dead worker are failed and their points retried. Many workers may share one storage.

    Args:
        config: the validated study.
        path: the study file (relative data paths are taken from its folder).
        on_trial: called after each trial with the loop's counts (progress display).
        on_start: called once before the first trial, with the counts found in storage.

    Raises:
        StudyFileError: the study names a file that is missing or does not fit.
        StudyRunError: the stored study differs, or trials keep failing.
    """
    started = time.perf_counter()
    setup = build_setup(config, path)
    storage = make_storage(storage_url(config))
    study = open_study(config, storage)
    recover_stale_trials(study)
    replay_calibration(study, setup.problem.evaluator)
    already = count_complete(study)
    seed = derive_seed(config.study.seed, len(study.trials))
    try:
        make_sampler = get_optimizer(config.optimizer.kind)
        sampler = make_sampler(config.optimizer, setup.problem.space, seed, setup.problem)
        study.sampler = WorkerTaggingSampler(sampler)
    except OptimizerSettingsError as exc:
        raise StudyFileError(str(path), f"optimizer.{exc.field}", exc.reason) from None
    profile = None
    if config.optimizer.warm_start and not study.trials:  # only a new study enqueues
        profile = stored_candidates(config, setup.workload)
    setup_s = time.perf_counter() - started
    if on_start is not None:
        on_start(LoopState(already, 0, config.optimizer.budget, 0))
    loop_start = time.perf_counter()
    try:
        optimize(
            study,
            setup.problem,
            config.optimizer.budget,
            on_trial=on_trial,
            warm_start=config.optimizer.warm_start,
            profile=profile,
        )
        rescore_front(study, setup)
    finally:
        # Whatever stopped the loop, what the storage holds is written out.
        optimize_s = time.perf_counter() - loop_start
        ran = count_complete(study) - already
        result = collect_result(
            study,
            setup,
            {"setup_s": setup_s, "optimize_s": optimize_s, "trials_this_run": float(ran)},
        )
    return result


def collect_result(
    study: optuna.Study, setup: StudySetup, timings: dict[str, float]
) -> StudyResult:
    """Read the study's trials from storage and write the results folder."""
    config = setup.config
    trials = study.get_trials(deepcopy=False)
    names, directions = config.objective_names, config.directions
    table = trials_table(trials, names, directions, seed=config.study.seed)
    front = ParetoFront.from_trials(trials, directions)
    reference = stored_reference(study)
    record = {
        "study": config.study.name,
        "config": config.to_dict(),
        "provenance": provenance(config.config_hash(), config.identity_hash(), config.study.seed),
        "workload": setup.workload.description,
        "reference_accuracy": setup.problem.reference_accuracy,
        "search_space": {
            "variables": [v.name for v in setup.problem.space.variables],
            "size": setup.problem.space.size(),
        },
        "summary": {
            "complete": count_state(table, "COMPLETE"),
            "failed": count_state(table, "FAIL"),
            "front_size": len(front),
            "hypervolume_reference": reference,
            "hypervolume": front.hypervolume(reference) if reference else None,
            "budget": config.optimizer.budget,
        },
        "timings": timings,
    }
    record["fidelity"], fidelity_files = write_fidelity_report(study, setup, table)
    files = write_results(setup.output_dir, table, names, directions, record) | fidelity_files
    return StudyResult(
        name=config.study.name,
        objective_names=names,
        directions=directions,
        table=table,
        front=front,
        reference_accuracy=setup.problem.reference_accuracy,
        provenance=record["provenance"],
        timings=timings,
        files=files,
    )
