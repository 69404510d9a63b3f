"""The record a study run returns: trials, front, provenance and timings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from dse.results import ParetoFront, count_state, front_rows


@dataclass(frozen=True, eq=False)
class StudyResult:
    """What `run_study` produced (pymoo's `Result`, as a plain record).

    Attributes:
        name: the study's name.
        objective_names: objectives, in order.
        directions: `maximize` / `minimize` per objective.
        table: one row per trial (see `trials_table`).
        front: the Pareto front of the complete, feasible trials.
        reference_accuracy: the float model's accuracy on the search split.
        provenance: config hash, seed, versions.
        timings: seconds spent (setup, optimize) and trials run by this process.
        files: the files written, by kind.
    """

    name: str
    objective_names: tuple[str, ...]
    directions: tuple[str, ...]
    table: pd.DataFrame
    front: ParetoFront
    reference_accuracy: float
    provenance: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def complete(self) -> int:
        return count_state(self.table, "COMPLETE")

    @property
    def failed(self) -> int:
        return count_state(self.table, "FAIL")

    def front_table(self) -> pd.DataFrame:
        """The front's rows, sorted by the first objective."""
        if not len(self.table):
            return self.table
        front = front_rows(self.table)
        return front.sort_values(
            self.objective_names[0], ascending=self.directions[0] == "minimize"
        )
