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
`dse:warm_start` (on enqueued points), and the system attribute `dse:proposed` (the
configuration a cost-aware sampler claimed).
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
_V1_DUPLICATE = "dse:duplicate_of"
_V1_SCORING_TIME = "duration_s"
_V1_FIELDS = ("configuration", "config_hash", "fidelity", "metrics", "hypervolume", "fail_reason")

# Study attributes.
_IDENTITY = "identity_hash"
_OBJECTIVES = "objectives"
_SEED = "seed"
_REFERENCE = "dse:reference_point"
_RESCORED = "dse:rescored"

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
        fail_reason=fields.get("fail_reason"),
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


def set_system_value(study: optuna.Study, trial: FrozenTrial, key: str, value: Any) -> None:
    """Set a system attribute an Optuna sampler keeps (NSGA-II's generation key)."""
    study._storage.set_trial_system_attr(trial._trial_id, key, value)  # noqa: SLF001


def enqueue(
    study: optuna.Study,
    params: Mapping[str, Any],
    *,
    warm_start: bool = False,
    retry_of: int | None = None,
) -> None:
    """Queue a point to be scored before the sampler proposes again."""
    attrs: dict[str, Any] = {}
    if warm_start:
        attrs[WARM_START_ATTR] = True
    if retry_of is not None:
        attrs[RETRY_ATTR] = retry_of
    study.enqueue_trial(dict(params), user_attrs=attrs)


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
) -> None:
    """Store an evaluated trial's results and tell it complete."""
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
    study.tell(trial, [float(v) for v in values])


def tell_duplicate(
    study: optuna.Study, trial: optuna.Trial, original: TrialRecord, hypervolume: float
) -> None:
    """Tell `trial` the values of `original`, the stored trial of the same configuration."""
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
    assert original.values is not None
    study.tell(trial, list(original.values))


def tell_failed(study: optuna.Study, trial: optuna.Trial, reason: str) -> None:
    """Tell a trial failed, with its one-line reason."""
    trial.set_user_attr(TRIAL_ATTR, {"v": SCHEMA_VERSION, "fail_reason": reason})
    study.tell(trial, state=TrialState.FAIL)


def fail_abandoned(study: optuna.Study, trial: FrozenTrial, reason: str) -> bool:
    """Fail a trial another (dead) process left running.

    Returns:
        False when it was finished meanwhile (by its own worker or another recoverer).
    """
    import optuna

    storage = study._storage  # noqa: SLF001 - Optuna exposes no public state setter
    try:
        storage.set_trial_user_attr(
            trial._trial_id,  # noqa: SLF001
            TRIAL_ATTR,
            {"v": SCHEMA_VERSION, "fail_reason": reason},
        )
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
