"""Hypervolume of a study as it runs: the reference point it is measured from, and its curve."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from optuna.trial import TrialState

from dse.results._pareto import ParetoFront

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

REFERENCE_ATTR = "dse:reference_point"
"""Study user attribute holding the reference point, fixed when the study is created."""

HYPERVOLUME_ATTR = "hypervolume"
"""Trial user attribute: the front's hypervolume once that trial was told."""


def stored_reference(study: optuna.Study) -> tuple[float, ...] | None:
    """The reference point stored with the study, or None for a study created without one."""
    value = study.user_attrs.get(REFERENCE_ATTR)
    return None if value is None else tuple(float(v) for v in value)


def data_reference(values: np.ndarray, directions: Sequence[str]) -> tuple[float, ...]:
    """A reference point just beyond the worst value seen in each objective.

    Used where a study stores none: 10 % of each objective's observed range past its worst
    value, so every observed point adds volume. It moves as trials arrive, so hypervolumes
    measured from it compare only within one call.
    """
    data = np.asarray(values, float).reshape(-1, len(directions))
    if len(data) == 0:
        return tuple(0.0 for _ in directions)
    low, high = data.min(axis=0), data.max(axis=0)
    margin = np.maximum(0.1 * (high - low), 1e-12)
    worst = [
        lo - m if d == "maximize" else hi + m
        for d, lo, hi, m in zip(directions, low, high, margin, strict=True)
    ]
    return tuple(float(w) for w in worst)


def prefix_hypervolume(
    trials: Sequence[FrozenTrial],
    directions: Sequence[str],
    reference: Sequence[float],
    n: int,
) -> float:
    """Hypervolume of the feasible front of the first `n` complete trials (in trial order).

    A function of the stored trials only, so a resumed or second worker computes the same
    number for the same `n` (what makes a stall rule switch at the same point).
    """
    done = [t for t in trials if t.state == TrialState.COMPLETE][:n]
    return ParetoFront.from_trials(done, directions).hypervolume(reference)
