"""The Pareto front of a study: its points, with the configurations they stand for."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

import moocore
import numpy as np

if TYPE_CHECKING:
    from evaluators import Configuration
    from results._record import TrialRecord


@dataclass(frozen=True)
class FrontPoint:
    """One point of a front.

    Attributes:
        number: the trial's number.
        values: objective name -> value, in the study's objective order.
        configuration: the formats this point stands for (`None` when unknown).
        config_hash: the configuration's digest.
        metrics: every metric its trial measured.
    """

    number: int
    values: Mapping[str, float]
    configuration: Configuration | None = None
    config_hash: str | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class ParetoFront:
    """The non-dominated points among a set of trials.

    A point is on the front when no other point is at least as good in every objective and
    better in one; equal points are all kept. Infeasible points never are, nor points with a
    non-finite value. Built from records (`from_records`), each point carries its trial's
    configuration and metrics (`points`).

    Attributes:
        values: (n_front, n_objectives) objective values, in trial order.
        numbers: the trial numbers of the front's points.
        directions: `maximize` / `minimize` per objective.
        names: the objectives' names (default `f0`, `f1`...).
        records: the front's trial records, aligned with `numbers` (empty when built from
            bare values).

    Example:
        >>> front = ParetoFront.from_points([[1, 3], [2, 2], [1, 1]], ["maximize", "maximize"])
        >>> front.numbers
        (0, 1)
    """

    values: np.ndarray
    numbers: tuple[int, ...]
    directions: tuple[str, ...]
    names: tuple[str, ...] = ()
    records: tuple[TrialRecord, ...] = ()

    def __post_init__(self) -> None:
        if not self.names:
            object.__setattr__(self, "names", tuple(f"f{i}" for i in range(len(self.directions))))

    @classmethod
    def from_points(
        cls,
        values: np.ndarray | Sequence[Sequence[float]],
        directions: Sequence[str],
        numbers: Sequence[int] | None = None,
        feasible: Sequence[bool] | None = None,
        names: Sequence[str] = (),
    ) -> ParetoFront:
        """The front of `values` (one row per trial).

        Args:
            values: objective values, one row per trial.
            directions: `maximize` or `minimize` per column.
            numbers: trial numbers of the rows (default: row indices).
            feasible: rows allowed on the front (default: all).
            names: the objectives' names.
        """
        data = np.asarray(values, dtype=float).reshape(-1, len(directions))
        nums = np.arange(len(data)) if numbers is None else np.asarray(numbers, dtype=int)
        mask = cls._front_mask(data, directions, feasible)
        return cls(data[mask], tuple(int(n) for n in nums[mask]), tuple(directions), tuple(names))

    @classmethod
    def from_records(
        cls,
        records: Sequence[TrialRecord],
        directions: Sequence[str],
        names: Sequence[str] = (),
    ) -> ParetoFront:
        """The front of the evaluated (complete, not duplicate), feasible records."""
        done = [r for r in records if r.evaluated and r.values is not None]
        data = np.array([r.values for r in done], dtype=float).reshape(-1, len(directions))
        mask = cls._front_mask(data, directions, [r.feasible for r in done])
        kept = tuple(r for r, m in zip(done, mask, strict=True) if m)
        return cls(
            data[mask], tuple(r.number for r in kept), tuple(directions), tuple(names), kept
        )

    @staticmethod
    def _front_mask(
        data: np.ndarray, directions: Sequence[str], feasible: Sequence[bool] | None
    ) -> np.ndarray:
        keep = np.ones(len(data), bool) if feasible is None else np.asarray(feasible, bool)
        keep &= np.isfinite(data).all(axis=1)
        mask = np.zeros(len(data), bool)
        if keep.any():
            maximise = [d == "maximize" for d in directions]
            mask[keep] = moocore.is_nondominated(data[keep], maximise=maximise, keep_weakly=True)
        return mask

    def __len__(self) -> int:
        return len(self.numbers)

    @property
    def points(self) -> tuple[FrontPoint, ...]:
        """The front's points with their objective values by name and, when built from
        records, their configurations and metrics."""
        records = self.records or (None,) * len(self)
        return tuple(
            FrontPoint(
                number=n,
                values=MappingProxyType(dict(zip(self.names, map(float, row), strict=True))),
                configuration=None if r is None else r.configuration,
                config_hash=None if r is None else r.config_hash,
                metrics=MappingProxyType({}) if r is None else r.metrics,
            )
            for n, row, r in zip(self.numbers, self.values, records, strict=True)
        )

    @property
    def configurations(self) -> tuple[Configuration | None, ...]:
        """The configuration of each point, in the order of `numbers`."""
        return tuple(r.configuration for r in self.records) or (None,) * len(self)

    def hypervolume(self, reference: Sequence[float]) -> float:
        """Volume dominated by the front and bounded by `reference` (in objective units)."""
        if len(self) == 0:
            return 0.0
        maximise = [d == "maximize" for d in self.directions]
        return float(
            moocore.hypervolume(self.values, ref=np.asarray(reference, float), maximise=maximise)
        )
