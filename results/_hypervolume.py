"""Hypervolume of a study as it runs: the reference point it is measured from, and its curve."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import moocore
import numpy as np

from results._pareto import ParetoFront

if TYPE_CHECKING:
    from results._record import TrialRecord


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
    records: Sequence[TrialRecord],
    directions: Sequence[str],
    reference: Sequence[float],
    n: int,
) -> float:
    """Hypervolume of the feasible front of the first `n` evaluated trials (in trial order).

    A function of the stored trials only, so a resumed or second worker computes the same
    number for the same `n` (what makes a stall rule switch at the same point).
    """
    done = [r for r in records if r.evaluated][:n]
    return ParetoFront.from_records(done, directions).hypervolume(reference)


def hypervolume_curve(
    records: Sequence[TrialRecord], directions: Sequence[str], reference: Sequence[float]
) -> list[tuple[int, float]]:
    """(evaluations, hypervolume) after each evaluated trial, in trial order.

    Computed from the records, so every worker and every reader gets the same curve (a
    record's own `hypervolume` is what its worker saw when it told the trial).
    """
    maximise = [d == "maximize" for d in directions]
    ref = np.asarray(reference, float)
    front = np.empty((0, len(directions)))
    volume = 0.0
    curve: list[tuple[int, float]] = []
    for i, r in enumerate((r for r in records if r.evaluated), start=1):
        point = np.asarray(r.values, float).reshape(1, -1)
        if r.feasible and np.isfinite(point).all():
            front = np.vstack([front, point])
            front = front[moocore.is_nondominated(front, maximise=maximise, keep_weakly=True)]
            volume = float(moocore.hypervolume(front, ref=ref, maximise=maximise))
        curve.append((i, volume))
    return curve
