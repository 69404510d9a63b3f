"""One trial of a study, as a value: what was proposed, what it computed, how it ended."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

from evaluators import Configuration

STATES = ("COMPLETE", "DUPLICATE", "FAIL", "RUNNING", "WAITING", "PRUNED")
"""A trial's states. `DUPLICATE`: proposed a configuration already scored, told that trial's
values without evaluating it (it does not count against the budget). The others are Optuna's."""


@dataclass(frozen=True)
class TrialRecord:
    """Everything dse knows of one trial, read from or written to a study's storage.

    Attributes:
        number: the trial's number in its study (0-based, in creation order).
        state: one of `STATES`.
        params: the point the sampler proposed (variable name -> value), plain Python types.
        configuration: the decoded formats; `None` for a trial that failed before decoding
            or was stored without one (a duplicate: see `duplicate_of`).
        config_hash: `Configuration.digest()` of the configuration (also set on duplicates).
        values: the objective values in the study's order; `None` unless complete.
        metrics: every metric measured (objectives and more: `accuracy_drop`, `proxy_value`,
            `lut`...), by name.
        constraints: constraint name -> violation (<= 0 is feasible, Optuna's convention).
        fidelity: how accuracy was obtained (`exact:validation`, `proxy:<name>`...).
        phase: which part of a composite optimizer proposed it (`bayesian`, `nsga2`,
            `enqueued`), when the optimizer records one.
        duplicate_of: for a `DUPLICATE`, the number of the trial that scored it.
        hypervolume: the front's hypervolume right after this trial was told, as its worker
            saw the front (objective units, the study's reference point).
        duration_s: wall time from creation to completion (seconds; sampler included).
        evaluation_s: time spent scoring and pricing alone (seconds).
        fail_reason: one line, for a failed trial.
        worker: `host:pid` of the process that ran it.
        retry_of: the number of the dead worker's trial whose point this one retries.
        warm_start: whether the study enqueued this point before its sampler proposed any.
        schema_version: the attribute layout the trial was stored with (1: dse <= 0.1.0, one
            key per field; 2: one `dse:trial` attribute).
    """

    number: int
    state: str
    params: Mapping[str, Any] = field(default_factory=dict)
    configuration: Configuration | None = None
    config_hash: str | None = None
    values: tuple[float, ...] | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    constraints: Mapping[str, float] = field(default_factory=dict)
    fidelity: str | None = None
    phase: str | None = None
    duplicate_of: int | None = None
    hypervolume: float | None = None
    duration_s: float | None = None
    evaluation_s: float | None = None
    fail_reason: str | None = None
    worker: str | None = None
    retry_of: int | None = None
    warm_start: bool = False
    schema_version: int = 2
    version: ClassVar[int] = 2

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"TrialRecord.state: expected one of {STATES}, got {self.state!r}")
        for name in ("params", "metrics", "constraints"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))
        if self.values is not None:
            object.__setattr__(self, "values", tuple(float(v) for v in self.values))

    @property
    def evaluated(self) -> bool:
        """Complete and scored by its own evaluation: what a study's budget counts."""
        return self.state == "COMPLETE"

    @property
    def feasible(self) -> bool:
        """Every constraint holds (violation <= 0); a trial without constraints is feasible."""
        return all(v <= 0 for v in self.constraints.values())

    @property
    def finite(self) -> bool:
        """Complete with every objective value finite (what may enter a front)."""
        return self.values is not None and all(math.isfinite(v) for v in self.values)
