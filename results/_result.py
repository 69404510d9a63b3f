"""What a study gives its user: its trials, front, space and settings, as one value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from results._pareto import ParetoFront
from results._tables import count_state, front_rows, trials_table

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from hardware_models import CostModel, HardwareSettings
    from results._plots import ParetoDisplay
    from results._record import TrialRecord
    from results._rescore import Bound
    from search_spaces import SearchSpace


@dataclass(frozen=True, eq=False)
class StudyResult:
    """A study's outcome (pymoo's `Result`, as a plain record): every trial and what it means.

    Attributes:
        name: the study's name.
        objective_names: objectives, in order.
        directions: `maximize` / `minimize` per objective.
        records: every trial, in trial order.
        space: the search space the trials' parameters belong to.
        reference_accuracy: the float model's accuracy on the search split.
        reference_point: the hypervolume reference point the study stored (objective units).
        seed: the study's seed.
        hardware: the accelerator settings the hardware objectives were priced with (`None`
            for a study that prices weight memory only).
        cost_model: the cost model that priced the trials (per-layer costs on demand).
        constraints: the study's bounds on metrics (`name`, `min`, `max`).
        rescored: exact re-scores of front configurations by configuration hash
            (`validation`, `test`, `scored`).
        evaluator: how accuracy was obtained (`kind`, and for a proxy its fidelity summary).
        settings: the resolved study settings (JSON data) and the workload's description.
        provenance: config hash, identity hash, seed, package versions, code commit.
        timings: seconds spent (`setup_s`, `optimize_s`) and trials this run evaluated.
        budget: the evaluations the study was asked for.
        files: the files written for it, by kind (empty for a study kept in memory).
    """

    name: str
    objective_names: tuple[str, ...]
    directions: tuple[str, ...]
    records: tuple[TrialRecord, ...]
    space: SearchSpace
    reference_accuracy: float
    reference_point: tuple[float, ...] | None = None
    seed: int = 0
    hardware: HardwareSettings | None = None
    cost_model: CostModel | None = None
    constraints: tuple[Bound, ...] = ()
    rescored: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    evaluator: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    timings: Mapping[str, float] = field(default_factory=dict)
    budget: int | None = None
    files: Mapping[str, Path] = field(default_factory=dict)

    @cached_property
    def front(self) -> ParetoFront:
        """The front of the evaluated, feasible trials; points carry their configurations."""
        return ParetoFront.from_records(self.records, self.directions, self.objective_names)

    @cached_property
    def table(self) -> pd.DataFrame:
        """One row per trial (see `trials_table`)."""
        return trials_table(self.records, self.objective_names, self.directions, seed=self.seed)

    @property
    def complete(self) -> int:
        """Trials evaluated (complete, repeats of a scored configuration not counted)."""
        return sum(r.evaluated for r in self.records)

    @property
    def failed(self) -> int:
        return sum(r.state == "FAIL" for r in self.records)

    def hypervolume(self) -> float | None:
        """The front's hypervolume from the study's reference point (None without one)."""
        if self.reference_point is None:
            return None
        return self.front.hypervolume(self.reference_point)

    def front_table(self) -> pd.DataFrame:
        """The front's rows of `table`, sorted by the first objective."""
        table = self.table
        if not len(table):
            return table
        return front_rows(table).sort_values(
            self.objective_names[0], ascending=self.directions[0] == "minimize"
        )

    def count(self, state: str) -> int:
        """Trials in `state` (`COMPLETE`, `FAIL`, `DUPLICATE`...)."""
        return count_state(self.table, state)

    def plot(self, ax: Axes | None = None) -> ParetoDisplay:
        """Draw the front over the other trials (see `ParetoDisplay`); returns the display."""
        from results._plots import ParetoDisplay, ParetoInfo

        info = ParetoInfo.from_table(self.table, self.objective_names, self.directions)
        return ParetoDisplay(info).plot(ax)
