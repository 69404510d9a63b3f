"""The one module that reads and writes dse's attributes of Optuna trials and studies.

Everything dse stores besides what Optuna itself keeps (parameters, values, states, times,
constraints) lives in trial and study attributes. Their keys are known here only: the rest of
dse reads `TrialRecord`s (`to_record`, `read_records`) and writes through the functions below.

Trial layouts:
- version 2 (this one): one user attribute `dse:trial` holding a JSON object (`v`,
  `configuration`, `config_hash`, `fidelity`, `metrics`, `evaluation_s`, `hypervolume`,
  `duplicate_of`, `fail_reason`): one storage write per told trial instead of six;
- version 1 (dse 0.1.0): the same fields as separate user attributes (`configuration`,
  `config_hash`, `fidelity`, `metrics`, `duration_s` for the scoring time, `hypervolume`,
  `fail_reason`, `dse:duplicate_of`). Read, never written: studies stored by it resume.

Attributes written while a trial runs stay separate keys in both: `dse:worker` (its process,
set right after creation), `dse:phase` (a composite optimizer's part), `dse:retry_of` and
`dse:warm_start` (on enqueued points), and the system attributes `dse:proposed` (the
configuration a cost-aware sampler claimed), `dse:evaluating` (the configuration its worker
is scoring), `dse:heartbeat` (its worker's last sign of life) and `dse:abandoned` (why another
process failed it). A running trial with a worker tag holds one of the budget's slots: the
loop creates trials only under the study lock, after counting the slots taken.

Study system attributes: `dse:worker:<host:pid>` (one record per worker that ever ran:
ordinal, start, last heartbeat, state), `dse:initialized`, `dse:init_lease` (the process doing
the one-time work, and its heartbeat), `dse:calibration` (a proxy's exact design scores) and
`dse:finished` (the budget whose results were written).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from optuna.trial import TrialState

from evaluators import Configuration
from results import TrialRecord

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

TRIAL_ATTR = "dse:trial"
SCHEMA_VERSION = 2
WORKER_ATTR = "dse:worker"
PHASE_ATTR = "dse:phase"
RETRY_ATTR = "dse:retry_of"
WARM_START_ATTR = "dse:warm_start"
PROPOSED_ATTR = "dse:proposed"
EVALUATING_ATTR = "dse:evaluating"
HEARTBEAT_ATTR = "dse:heartbeat"
ABANDONED_ATTR = "dse:abandoned"
_V1_DUPLICATE = "dse:duplicate_of"
_V1_SCORING_TIME = "duration_s"
_V1_FIELDS = ("configuration", "config_hash", "fidelity", "metrics", "hypervolume", "fail_reason")

# Study attributes.
_IDENTITY = "identity_hash"
_OBJECTIVES = "objectives"
_SEED = "seed"
_REFERENCE = "dse:reference_point"
_RESCORED = "dse:rescored"
_WORKER_PREFIX = "dse:worker:"
_INITIALIZED = "dse:initialized"
_INIT_LEASE = "dse:init_lease"
_FINISHED = "dse:finished"
_CALIBRATION = "dse:calibration"

_STATES = {
    TrialState.COMPLETE: "COMPLETE",
    TrialState.FAIL: "FAIL",
    TrialState.RUNNING: "RUNNING",
    TrialState.WAITING: "WAITING",
    TrialState.PRUNED: "PRUNED",
}

_CONFIGURATIONS: dict[str, Configuration] = {}
_MAX_CONFIGURATIONS = 100_000
"""Decoded configurations by digest: reading 10,000 trials again per proposal costs dict
look-ups, not JSON decoding."""


# --- reading -------------------------------------------------------------------------------


def _fields(trial: FrozenTrial) -> tuple[dict[str, Any], int]:
    """The dse fields of a trial and the layout version they were stored with."""
    attrs = trial.user_attrs
    stored = attrs.get(TRIAL_ATTR)
    if isinstance(stored, dict):
        return stored, int(stored.get("v", SCHEMA_VERSION))
    fields = {k: attrs[k] for k in _V1_FIELDS if k in attrs}
    if _V1_SCORING_TIME in attrs:
        fields["evaluation_s"] = attrs[_V1_SCORING_TIME]
    if _V1_DUPLICATE in attrs:
        fields["duplicate_of"] = attrs[_V1_DUPLICATE]
    return fields, 1


def _configuration(digest: str | None, data: Any) -> Configuration | None:
    if data is None:
        return None
    if digest is not None and digest in _CONFIGURATIONS:
        return _CONFIGURATIONS[digest]
    configuration = Configuration.from_dict(data)
    if len(_CONFIGURATIONS) >= _MAX_CONFIGURATIONS:
        _CONFIGURATIONS.clear()
    _CONFIGURATIONS[digest or configuration.digest()] = configuration
    return configuration


def to_record(trial: FrozenTrial) -> TrialRecord:
    """The record of an Optuna trial, whichever layout stored it."""
    fields, version = _fields(trial)
    attrs = trial.user_attrs
    duplicate_of = fields.get("duplicate_of")
    state = _STATES.get(trial.state, trial.state.name)
    if state == "COMPLETE" and duplicate_of is not None:
        state = "DUPLICATE"
    values = tuple(trial.values) if trial.state == TrialState.COMPLETE and trial.values else None
    retry = attrs.get(RETRY_ATTR)
    fail_reason = fields.get("fail_reason")
    if fail_reason is None and trial.state == TrialState.FAIL:
        fail_reason = trial.system_attrs.get(ABANDONED_ATTR)
    return TrialRecord(
        number=trial.number,
        state=state,
        params=trial.params,
        configuration=_configuration(fields.get("config_hash"), fields.get("configuration")),
        config_hash=fields.get("config_hash"),
        values=values,
        metrics={k: float(v) for k, v in (fields.get("metrics") or {}).items()},
        constraints=trial.constraints,
        fidelity=fields.get("fidelity"),
        phase=attrs.get(PHASE_ATTR),
        duplicate_of=None if duplicate_of is None else int(duplicate_of),
        hypervolume=fields.get("hypervolume"),
        duration_s=None if trial.duration is None else trial.duration.total_seconds(),
        evaluation_s=fields.get("evaluation_s"),
        fail_reason=fail_reason,
        worker=attrs.get(WORKER_ATTR),
        retry_of=None if retry is None else int(retry),
        warm_start=bool(attrs.get(WARM_START_ATTR, False)),
        schema_version=version,
    )


def read_records(
    study: optuna.Study, states: Sequence[TrialState] | None = None
) -> list[TrialRecord]:
    """Every trial of `study` (or those in `states`) as records, in trial order."""
    trials = study.get_trials(deepcopy=False, states=None if states is None else tuple(states))
    return [to_record(t) for t in trials]


def is_duplicate(trial: FrozenTrial) -> bool:
    """Whether a trial repeats a scored configuration (told its values, never evaluated)."""
    return _fields(trial)[0].get("duplicate_of") is not None


def is_evaluated(trial: FrozenTrial) -> bool:
    """Complete and scored by its own evaluation: what the budget counts."""
    return trial.state == TrialState.COMPLETE and not is_duplicate(trial)


def config_hash(trial: FrozenTrial) -> str | None:
    """The digest of the configuration a trial scored (or repeated), if stored."""
    return _fields(trial)[0].get("config_hash")


def phase(trial: FrozenTrial) -> str | None:
    """Which part of a composite optimizer proposed the trial, if recorded."""
    return trial.user_attrs.get(PHASE_ATTR)


def worker(trial: FrozenTrial) -> str | None:
    """`host:pid` of the process running the trial, once it tagged it."""
    return trial.user_attrs.get(WORKER_ATTR)


def is_enqueued(trial: FrozenTrial) -> bool:
    """Whether the trial's point was enqueued (warm start, retry) rather than sampled."""
    return "fixed_params" in trial.system_attrs


def proposed_digest(trial: FrozenTrial) -> str | None:
    """The configuration a cost-aware sampler claimed for a running trial."""
    return trial.system_attrs.get(PROPOSED_ATTR)


def holds_slot(trial: FrozenTrial) -> bool:
    """Whether a running trial holds one of the budget's slots: its worker tagged it, which
    the loop does only under the study lock, within the budget (`WorkerTaggingSampler`)."""
    return trial.state == TrialState.RUNNING and WORKER_ATTR in trial.user_attrs


def evaluating(trial: FrozenTrial) -> str | None:
    """The digest of the configuration a running trial's worker is scoring, once decided."""
    return trial.system_attrs.get(EVALUATING_ATTR)


def liveness(trial: FrozenTrial) -> tuple[Any, ...]:
    """What changes while a trial's worker is alive: its tag and heartbeat."""
    return (trial.user_attrs.get(WORKER_ATTR), trial.system_attrs.get(HEARTBEAT_ATTR))


def system_value(trial: FrozenTrial, key: str, default: Any = None) -> Any:
    """A system attribute that an Optuna sampler keeps (NSGA-II's generation key)."""
    return trial.system_attrs.get(key, default)


# --- writing while a trial runs ------------------------------------------------------------


def tag_worker(study: optuna.Study, trial: FrozenTrial, worker_id: str) -> None:
    """Record the process that owns a trial, right after Optuna created it."""
    study._storage.set_trial_user_attr(trial._trial_id, WORKER_ATTR, worker_id)  # noqa: SLF001


def set_phase(study: optuna.Study, trial: FrozenTrial, name: str) -> None:
    """Record which part of a composite optimizer proposes `trial`."""
    study._storage.set_trial_user_attr(trial._trial_id, PHASE_ATTR, name)  # noqa: SLF001


def claim(study: optuna.Study, trial: FrozenTrial, digest: str) -> None:
    """Record the configuration a sampler is about to propose for `trial` (before Optuna
    stores its parameters), so other workers can see it is taken."""
    study._storage.set_trial_system_attr(trial._trial_id, PROPOSED_ATTR, digest)  # noqa: SLF001


def set_evaluating(study: optuna.Study, trial: optuna.Trial, digest: str) -> None:
    """Record the configuration `trial`'s worker is about to score (under the study lock)."""
    study._storage.set_trial_system_attr(trial._trial_id, EVALUATING_ATTR, digest)  # noqa: SLF001


def beat(study: optuna.Study, trial_id: int, when: float) -> None:
    """Write a trial's heartbeat (Unix time).

    Raises:
        optuna.exceptions.UpdateFinishedTrialError: the trial is finished (by its own worker,
            or failed by another that took it for lost).
    """
    study._storage.set_trial_system_attr(trial_id, HEARTBEAT_ATTR, round(when, 2))  # noqa: SLF001


def set_system_value(study: optuna.Study, trial: FrozenTrial, key: str, value: Any) -> None:
    """Set a system attribute an Optuna sampler keeps (NSGA-II's generation key)."""
    study._storage.set_trial_system_attr(trial._trial_id, key, value)  # noqa: SLF001


def enqueue(
    study: optuna.Study,
    params: Mapping[str, Any],
    *,
    warm_start: bool = False,
    retry_of: int | None = None,
    skip_if_exists: bool = False,
) -> None:
    """Queue a point to be scored before the sampler proposes again (`skip_if_exists`: not
    when a trial of these parameters exists already)."""
    attrs: dict[str, Any] = {}
    if warm_start:
        attrs[WARM_START_ATTR] = True
    if retry_of is not None:
        attrs[RETRY_ATTR] = retry_of
    study.enqueue_trial(dict(params), user_attrs=attrs, skip_if_exists=skip_if_exists)


# --- telling -------------------------------------------------------------------------------


def _clean(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def tell_complete(
    study: optuna.Study,
    trial: optuna.Trial,
    *,
    configuration: Configuration,
    values: Sequence[float],
    metrics: Mapping[str, float],
    constraints: Mapping[str, float],
    fidelity: str,
    evaluation_s: float,
    hypervolume: float,
) -> bool:
    """Store an evaluated trial's results and tell it complete.

    Returns:
        False when the trial was finished meanwhile (another worker took it for lost and
        failed it): nothing is stored.
    """
    import optuna

    try:
        trial.set_user_attr(
            TRIAL_ATTR,
            {
                "v": SCHEMA_VERSION,
                "configuration": configuration.to_dict(),
                "config_hash": configuration.digest(),
                "fidelity": fidelity,
                "metrics": {k: float(v) for k, v in metrics.items()},
                "evaluation_s": float(evaluation_s),
                "hypervolume": _clean(hypervolume),
            },
        )
        for name, violation in constraints.items():
            trial.set_constraint(name, float(violation))
        told = study.tell(trial, [float(v) for v in values], skip_if_finished=True)
    except optuna.exceptions.UpdateFinishedTrialError:
        return False
    return told.state == TrialState.COMPLETE


def tell_duplicate(
    study: optuna.Study, trial: optuna.Trial, original: TrialRecord, hypervolume: float
) -> bool:
    """Tell `trial` the values of `original`, the stored trial of the same configuration.

    Returns:
        False when the trial was finished meanwhile (failed by another worker).
    """
    import optuna

    assert original.values is not None
    try:
        trial.set_user_attr(
            TRIAL_ATTR,
            {
                "v": SCHEMA_VERSION,
                "duplicate_of": original.number,
                "config_hash": original.config_hash,
                "fidelity": original.fidelity,
                "hypervolume": _clean(hypervolume),
            },
        )
        for name, violation in original.constraints.items():
            trial.set_constraint(name, violation)
        told = study.tell(trial, list(original.values), skip_if_finished=True)
    except optuna.exceptions.UpdateFinishedTrialError:
        return False
    return told.state == TrialState.COMPLETE


def tell_failed(study: optuna.Study, trial: optuna.Trial, reason: str) -> bool:
    """Tell a trial failed, with its one-line reason.

    Returns:
        False when the trial was finished meanwhile (failed by another worker).
    """
    import optuna

    try:
        trial.set_user_attr(TRIAL_ATTR, {"v": SCHEMA_VERSION, "fail_reason": reason})
        study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
    except optuna.exceptions.UpdateFinishedTrialError:
        return False
    return True


def fail_abandoned(study: optuna.Study, trial: FrozenTrial, reason: str) -> bool:
    """Fail a trial another process left running (dead, or silent for too long).

    The reason goes to its own key before the state changes: its worker, if alive after all,
    may be writing the trial's results at this moment, and they must not be overwritten.

    Returns:
        False when it was finished meanwhile (by its own worker or another recoverer).
    """
    import optuna

    storage = study._storage  # noqa: SLF001 - Optuna exposes no public state setter
    try:
        storage.set_trial_system_attr(trial._trial_id, ABANDONED_ATTR, reason)  # noqa: SLF001
        storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)  # noqa: SLF001
    except optuna.exceptions.UpdateFinishedTrialError:
        return False
    return True


# --- study attributes ----------------------------------------------------------------------


def study_identity(study: optuna.Study) -> str | None:
    """The identity hash the study was created with (None for a new study)."""
    return study.user_attrs.get(_IDENTITY)


def set_study_identity(
    study: optuna.Study, identity: str, objectives: Iterable[str], seed: int
) -> None:
    """Record what makes the study's trials comparable, once, at creation."""
    study.set_user_attr(_IDENTITY, identity)
    study.set_user_attr(_OBJECTIVES, list(objectives))
    study.set_user_attr(_SEED, seed)


def reference_point(study: optuna.Study) -> tuple[float, ...] | None:
    """The hypervolume reference point fixed when the study was created, if any."""
    value = study.user_attrs.get(_REFERENCE)
    return None if value is None else tuple(float(v) for v in value)


def set_reference_point(study: optuna.Study, point: Sequence[float]) -> None:
    study.set_user_attr(_REFERENCE, [float(v) for v in point])


def rescored(study: optuna.Study) -> dict[str, dict[str, float]]:
    """Exact re-scores of front configurations kept by earlier runs, by configuration hash."""
    return {k: dict(v) for k, v in study.user_attrs.get(_RESCORED, {}).items()}


def store_rescored(study: optuna.Study, scores: Mapping[str, Mapping[str, float]]) -> None:
    """Keep exact re-scores so a resumed study re-scores only configurations new to its front."""
    study.set_user_attr(_RESCORED, {k: dict(v) for k, v in scores.items()})


# --- workers and one-time work (study system attributes) ------------------------------------


def _study_system_attrs(study: optuna.Study) -> dict[str, Any]:
    return study._storage.get_study_system_attrs(study._study_id)  # noqa: SLF001


def _set_study_system_attr(study: optuna.Study, key: str, value: Any) -> None:
    study._storage.set_study_system_attr(study._study_id, key, value)  # noqa: SLF001


def register_worker(study: optuna.Study, worker_id: str, info: Mapping[str, Any]) -> int:
    """Add a worker's record; return its ordinal (0 for the study's first worker).

    The caller holds the study lock, so ordinals are distinct: they seed each worker's own
    random stream.
    """
    key = _WORKER_PREFIX + worker_id
    attrs = _study_system_attrs(study)
    if key in attrs and isinstance(attrs[key], dict) and "ordinal" in attrs[key]:
        return int(attrs[key]["ordinal"])  # registered already (by this process)
    ordinal = sum(k.startswith(_WORKER_PREFIX) for k in attrs)
    _set_study_system_attr(study, key, {**info, "ordinal": ordinal})
    return ordinal


def update_worker(study: optuna.Study, worker_id: str, info: Mapping[str, Any]) -> None:
    """Replace a worker's record (its heartbeat, its current trial, its state)."""
    _set_study_system_attr(study, _WORKER_PREFIX + worker_id, dict(info))


def workers(study: optuna.Study) -> dict[str, dict[str, Any]]:
    """Every worker's record, by `host:pid`."""
    return {
        key.removeprefix(_WORKER_PREFIX): dict(value)
        for key, value in _study_system_attrs(study).items()
        if key.startswith(_WORKER_PREFIX) and isinstance(value, dict)
    }


def initialized(study: optuna.Study) -> bool:
    """Whether the study's one-time work (reference point, enqueued points) is done."""
    return _study_system_attrs(study).get(_INITIALIZED) is not None


def mark_initialized(study: optuna.Study, worker_id: str, when: float) -> None:
    _set_study_system_attr(study, _INITIALIZED, {"by": worker_id, "at": when})


def init_lease(study: optuna.Study) -> dict[str, Any] | None:
    """The process doing the study's one-time work and its last heartbeat, if any."""
    value = _study_system_attrs(study).get(_INIT_LEASE)
    return dict(value) if isinstance(value, dict) else None


def set_init_lease(study: optuna.Study, lease: Mapping[str, Any] | None) -> None:
    """Take, refresh (a heartbeat) or release (None) the one-time work's lease."""
    _set_study_system_attr(study, _INIT_LEASE, None if lease is None else dict(lease))


def finished_budget(study: optuna.Study) -> int | None:
    """The budget whose results a worker wrote when it was met, if any."""
    value = _study_system_attrs(study).get(_FINISHED)
    return None if value is None else int(value)


def mark_finished(study: optuna.Study, budget: int) -> None:
    _set_study_system_attr(study, _FINISHED, int(budget))


def calibration_scores(study: optuna.Study) -> dict[str, float]:
    """Exact accuracies of a proxy's calibration design, by configuration digest, as the
    process that fitted it first stored them."""
    value = _study_system_attrs(study).get(_CALIBRATION) or {}
    return {str(k): float(v) for k, v in value.items()}


def store_calibration_scores(study: optuna.Study, scores: Mapping[str, float]) -> None:
    """Keep a proxy's exact design scores, so other workers fit it without scoring them."""
    _set_study_system_attr(study, _CALIBRATION, {k: float(v) for k, v in scores.items()})
