"""Trials as a table: one row per trial, objectives, metrics, parameters and provenance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from results._pareto import ParetoFront

if TYPE_CHECKING:
    from results._record import TrialRecord

BASE_COLUMNS = ("number", "state", "feasible", "pareto", "seed", "fidelity", "config_hash")
"""Columns every table has, even with no trial, so readers never meet a missing column."""

INTEGER_COLUMNS = ("duplicate_of", "retry_of")
"""Trial numbers that may be missing: nullable integers, written `1`, never `1.0`."""


def trials_table(
    records: Sequence[TrialRecord],
    objective_names: Sequence[str],
    directions: Sequence[str],
    *,
    seed: int | None = None,
) -> pd.DataFrame:
    """Every trial, with a `pareto` column marking the front of the complete, feasible ones.

    A proposal of an already scored configuration has the state `DUPLICATE` and its
    original's number in `duplicate_of`: it was never evaluated and does not count against
    the budget, so counts of `COMPLETE` rows are counts of evaluations.

    Args:
        records: the study's trials.
        objective_names: the objectives, in the order of the records' values.
        directions: `maximize` / `minimize` per objective.
        seed: the study's seed, recorded on every row (provenance).
    """
    front = set(ParetoFront.from_records(records, directions).numbers)
    rows = []
    for r in records:
        row: dict[str, object] = {"number": r.number, "state": r.state, "seed": seed}
        for i, name in enumerate(objective_names):
            row[name] = r.values[i] if r.values is not None else None
        for name, value in r.metrics.items():
            if name not in objective_names:
                row[name] = value
        row["feasible"] = r.feasible if r.values is not None else None
        row["pareto"] = r.number in front
        row["hypervolume"] = r.hypervolume
        row["phase"] = r.phase
        row["duplicate_of"] = r.duplicate_of
        row["fidelity"] = r.fidelity
        row["config_hash"] = r.config_hash
        row["duration_s"] = r.duration_s
        row["evaluation_s"] = r.evaluation_s  # scoring alone, no sampler
        row["fail_reason"] = r.fail_reason
        for name, value in r.params.items():
            row[f"param:{name}"] = value
        rows.append(row)
    if not rows:
        return pd.DataFrame(columns=[*BASE_COLUMNS, *objective_names])
    table = pd.DataFrame(rows)
    for column in INTEGER_COLUMNS:
        if column in table:
            table[column] = table[column].astype("Int64")
    return table


def front_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a trials table that are on the Pareto front."""
    return table[table["pareto"].astype(bool)]


def count_state(table: pd.DataFrame, state: str) -> int:
    """How many trials of a table are in `state` (`COMPLETE`, `FAIL`, `DUPLICATE`...)."""
    return int((table["state"] == state).sum())
