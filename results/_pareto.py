"""The Pareto front of a study: a value computed from trials and their directions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import moocore
import numpy as np

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

DUPLICATE_ATTR = "dse:duplicate_of"
"""Trial user attribute of a proposal whose configuration was already scored: that trial's number.

The study loop tells such a trial the stored trial's values without evaluating it, and it does
not count against the budget; fronts skip it, so each configuration appears once.
"""


def is_feasible(trial: FrozenTrial) -> bool:
    """Optuna's convention: feasible when every constraint value is <= 0."""
    return all(c <= 0 for c in trial.constraints.values())


@dataclass(frozen=True, eq=False)
class ParetoFront:
    """The non-dominated points among a set of trials.

    A point is on the front when no other point is at least as good in every objective and
    better in one; equal points are all kept. Infeasible points never are.

    Attributes:
        points: (n_front, n_objectives) objective values, in trial order.
        numbers: the trial numbers of the front's points.
        directions: `maximize` / `minimize` per objective.
    """

    points: np.ndarray
    numbers: tuple[int, ...]
    directions: tuple[str, ...]

    @classmethod
    def from_points(
        cls,
        values: np.ndarray | Sequence[Sequence[float]],
        directions: Sequence[str],
        numbers: Sequence[int] | None = None,
        feasible: Sequence[bool] | None = None,
    ) -> ParetoFront:
        """The front of `values` (one row per trial).

        Args:
            values: objective values, one row per trial.
            directions: `maximize` or `minimize` per column.
            numbers: trial numbers of the rows (default: row indices).
            feasible: rows allowed on the front (default: all).
        """
        data = np.asarray(values, dtype=float).reshape(-1, len(directions))
        nums = np.arange(len(data)) if numbers is None else np.asarray(numbers, dtype=int)
        keep = np.ones(len(data), bool) if feasible is None else np.asarray(feasible, bool)
        keep &= np.isfinite(data).all(axis=1)
        data, nums = data[keep], nums[keep]
        if len(data) == 0:
            return cls(np.empty((0, len(directions))), (), tuple(directions))
        maximise = [d == "maximize" for d in directions]
        mask = moocore.is_nondominated(data, maximise=maximise, keep_weakly=True)
        return cls(data[mask], tuple(int(n) for n in nums[mask]), tuple(directions))

    @classmethod
    def from_trials(cls, trials: Sequence, directions: Sequence[str]) -> ParetoFront:
        """The front of the complete, feasible trials (repeats of a configuration skipped)."""
        from optuna.trial import TrialState

        done = [
            t
            for t in trials
            if t.state == TrialState.COMPLETE and DUPLICATE_ATTR not in t.user_attrs
        ]
        return cls.from_points(
            [t.values for t in done],
            directions,
            numbers=[t.number for t in done],
            feasible=[is_feasible(t) for t in done],
        )

    def __len__(self) -> int:
        return len(self.numbers)

    def hypervolume(self, reference: Sequence[float]) -> float:
        """Volume dominated by the front and bounded by `reference` (in objective units)."""
        if len(self) == 0:
            return 0.0
        maximise = [d == "maximize" for d in self.directions]
        return float(
            moocore.hypervolume(self.points, ref=np.asarray(reference, float), maximise=maximise)
        )
