"""`minimize`: run (or resume) a study on a `Problem` and return its `StudyResult`."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import optuna

from dse._errors import SettingsError, StudyRunError, settings_error
from dse.optimizers import (
    OptimizerSettings,
    OptimizerSettingsError,
    UnknownOptimizerError,
    get_optimizer,
    optimizer_settings,
)
from dse.storage import (
    WorkerTaggingSampler,
    make_storage,
    open_study,
    read_records,
    records,
    recover_stale_trials,
    register_worker,
    wrap_storage,
)
from dse.study._init import fit_calibration, init_lease, initialize, liveness_of
from dse.study._optimize import LoopState, count_complete, derive_seed, optimize
from dse.study._torch import scoped_torch
from evaluators import ProxyEvaluator
from results import StudyResult, provenance, rescore

if TYPE_CHECKING:
    from optuna.samplers import BaseSampler
    from optuna.storages import BaseStorage

    from dse.config import StudyConfig
    from dse.study._optimize import ProgressCallback
    from dse.study._problem import Problem
    from dse.study._signals import StopSignal

logger = logging.getLogger(__name__)


def minimize(
    problem: Problem,
    optimizer: str | Mapping[str, Any] | OptimizerSettings | None = None,
    budget: int | None = None,
    *,
    seed: int | None = None,
    storage: str | BaseStorage | None = None,
    on_trial: ProgressCallback | None = None,
    on_start: ProgressCallback | None = None,
    stop: StopSignal | None = None,
) -> StudyResult:
    """Search the problem's space until `budget` trials are evaluated; return the result.

    The shape of pymoo's `minimize`: a problem, an optimizer and a termination in, a result
    holding every trial out. Running it again on the same storage resumes: evaluated trials
    count against the budget, trials left running by a dead worker are failed and their
    points retried. Many processes may run it on one storage (see `optimize`): the study's
    one-time work (reference point, warm-start points, a proxy's calibration) is done by the
    first. Nothing global changes for the caller: torch's thread count and random
    state are restored when it returns.

    Args:
        problem: the space, evaluator and cost model (`Problem.from_model`, `from_file`).
        optimizer: a registered optimizer's name (`nsga2`, `bayesian`...), its settings as a
            mapping or an `OptimizerSettings`; default: the problem's settings (`nsga2`).
        budget: evaluations to reach (default: the optimizer settings' budget).
        seed: the study's seed (default: the problem's).
        storage: an Optuna storage or its URL (`sqlite:///study.db`, PostgreSQL...); default:
            in memory, gone when the process ends.
        on_trial: called after each evaluated trial with the loop's counts.
        on_start: called once before the first trial, with the counts found in storage.
        stop: turns SIGTERM into a clean stop (`dse.study.StopSignal`; the CLI's), default
            none.

    Returns:
        The study's `StudyResult`: every trial as a record, the front with configurations.

    Raises:
        SettingsError: invalid optimizer settings (one line naming the field).
        StudyRunError: the stored study differs from this problem, or trials keep failing.
    """
    config = problem.config
    if config is None:
        raise StudyRunError("minimize: the problem has no settings; build it with Problem.from_*")
    settings = _optimizer_settings(optimizer, budget, config.optimizer)
    if seed is not None and seed != config.study.seed:
        config = config.model_copy(
            update={"study": config.study.model_copy(update={"seed": seed})}
        )
    started = time.perf_counter()
    with scoped_torch(config.evaluator.threads):
        if isinstance(storage, str) or storage is None:
            backend = make_storage(storage, reconnect_s=config.storage.reconnect_s)
        else:
            backend = wrap_storage(storage)
        study = open_study(config, backend)
        design = prepare_worker(study, problem, settings, config)
        already = count_complete(study)
        study.sampler = make_worker_sampler(study, problem, settings, config)
        setup_s = time.perf_counter() - started
        if on_start is not None:
            on_start(LoopState(already, 0, settings.budget, 0))
        loop_start = time.perf_counter()
        try:
            optimize(
                study,
                problem,
                settings.budget,
                on_trial=on_trial,
                warm_start=settings.warm_start,
                calibration=design,
                stop=stop,
            )
            rescored = _rescore_front(study, problem)
        finally:
            optimize_s = time.perf_counter() - loop_start
        ran = count_complete(study) - already
        return collect_result(
            study,
            problem,
            config=config,
            budget=settings.budget,
            rescored=rescored,
            timings={"setup_s": setup_s, "optimize_s": optimize_s, "trials_this_run": float(ran)},
        )


def prepare_worker(
    study: optuna.Study, problem: Problem, settings: OptimizerSettings, config: StudyConfig
) -> list[dict[str, Any]]:
    """What a worker does before its loop: recover trials of dead local workers, the study's
    one-time work if nobody did it (`init_lease`), and this process's proxy fitted from the
    stored design scores; returns the calibration design's points."""
    recover_stale_trials(study)
    with init_lease(study, liveness_of(config)) as holding:
        if holding:
            initialize(study, problem, warm_start=settings.warm_start)
    return fit_calibration(problem, study, config.study.seed, settings.warm_start)


def make_worker_sampler(
    study: optuna.Study, problem: Problem, settings: OptimizerSettings, config: StudyConfig
) -> BaseSampler:
    """The optimizer's sampler for this worker, tagging its trials, seeded from the study's
    seed, the trials already run and the worker's ordinal (its own random stream).

    Raises:
        SettingsError: invalid optimizer settings (one line naming the field).
    """
    ordinal = register_worker(study)
    ran = sum(t.state != optuna.trial.TrialState.WAITING for t in study.get_trials(deepcopy=False))
    try:
        make_sampler = get_optimizer(settings.kind)
        sampler = make_sampler(
            settings, problem.space, derive_seed(config.study.seed, ran, ordinal), problem
        )
    except OptimizerSettingsError as exc:
        raise settings_error(problem.source, f"optimizer.{exc.field}", exc.reason) from None
    return WorkerTaggingSampler(sampler)


def collect_result(
    study: optuna.Study,
    problem: Problem,
    *,
    config: StudyConfig | None = None,
    budget: int | None,
    rescored: Mapping[str, Mapping[str, float]] | None = None,
    timings: Mapping[str, float] | None = None,
) -> StudyResult:
    """The `StudyResult` of what `study`'s storage holds now (`config`: the problem's
    settings as this run changed them, default the problem's own)."""
    config = config or problem.config
    assert config is not None
    evaluator: dict[str, Any] = {
        "kind": config.evaluator.kind,
        "regression": config.evaluator.regression,
        "fidelity_threshold": None
        if config.evaluator.kind == "exact"
        else config.evaluator.fidelity_threshold,
    }
    if isinstance(problem.evaluator, ProxyEvaluator):
        summary = problem.evaluator.summary()
        evaluator |= {k: summary[k] for k in ("fell_back", "fallback_at")}
    return StudyResult(
        name=config.study.name,
        objective_names=config.objective_names,
        directions=config.directions,
        records=tuple(read_records(study)),
        space=problem.space,
        reference_accuracy=problem.reference_accuracy,
        reference_point=records.reference_point(study),
        seed=config.study.seed,
        hardware=problem.hardware,
        cost_model=problem.cost_model,
        constraints=tuple(config.constraints),
        rescored=dict(rescored if rescored is not None else records.rescored(study)),
        evaluator=evaluator,
        settings={
            "config": config.to_dict(),
            "workload": None if problem.workload is None else problem.workload.description,
        },
        provenance=provenance(config.config_hash(), config.identity_hash(), config.study.seed)
        | {"cost_model": problem.cost_model.describe()},
        timings=dict(timings or {}),
        budget=budget,
    )


def _rescore_front(study: optuna.Study, problem: Problem) -> dict[str, dict[str, float]]:
    """Exact validation and test scores of the front's configurations, those of earlier runs
    kept in the storage and only new ones computed (when `evaluator.rescore_front`)."""
    config = problem.config
    assert config is not None
    known = records.rescored(study)
    if not config.evaluator.rescore_front or problem.workload is None:
        return known
    from results import ParetoFront

    front = ParetoFront.from_records(read_records(study), config.directions)
    section = config.evaluator
    new = rescore(
        front.records,
        problem.workload,
        batch_size=section.batch_size,
        known=known,
        max_points=section.rescore_max_points,
        device=section.device,
    )
    if new:
        known |= new
        records.store_rescored(study, known)
    return known


def _optimizer_settings(
    optimizer: str | Mapping[str, Any] | OptimizerSettings | None,
    budget: int | None,
    default: OptimizerSettings,
) -> OptimizerSettings:
    """Validated settings from a name, a mapping or settings; `budget` overrides theirs."""
    from pydantic import ValidationError

    from dse.config import describe_validation_error

    if optimizer is None:
        data: dict[str, Any] = default.model_dump()
    elif isinstance(optimizer, OptimizerSettings):
        data = optimizer.model_dump()
    elif isinstance(optimizer, str):
        data = {"kind": optimizer}
    else:
        data = dict(optimizer)
    if budget is not None:
        data["budget"] = budget
    try:
        model = optimizer_settings(str(data.get("kind")))
        return model.model_validate(data)
    except UnknownOptimizerError as exc:
        raise SettingsError(None, "optimizer.kind", str(exc)) from None
    except ValidationError as exc:
        field, reason = describe_validation_error(exc, {"optimizer": data}, prefix=("optimizer",))
        raise SettingsError(None, field, reason) from None
