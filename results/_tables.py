"""Trials as a table: one row per trial, objectives, metrics, parameters and provenance."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from dse.results._pareto import DUPLICATE_ATTR, ParetoFront, is_feasible

BASE_COLUMNS = ("number", "state", "feasible", "pareto", "seed", "fidelity", "config_hash")
"""Columns every table has, even with no trial, so readers never meet a missing column."""


def trials_table(
    trials: Sequence[FrozenTrial],
    objective_names: Sequence[str],
    directions: Sequence[str],
    *,
    seed: int | None = None,
) -> pd.DataFrame:
    """Every trial, with a `pareto` column marking the front of the complete, feasible ones.

    A proposal of an already scored configuration (`DUPLICATE_ATTR`) has the state
    `DUPLICATE` and its original's number in `duplicate_of`: Optuna holds it as complete, but
    it was never evaluated and does not count against the budget, so counts of `COMPLETE` rows
    are counts of evaluations.

    Args:
        trials: the study's trials.
        objective_names: the objectives, in the order of the trials' values.
        directions: `maximize` / `minimize` per objective.
        seed: the study's seed, recorded on every row (provenance).
    """
    front = set(ParetoFront.from_trials(trials, directions).numbers)
    rows = []
    for t in trials:
        state = "DUPLICATE" if DUPLICATE_ATTR in t.user_attrs else t.state.name
        row: dict[str, object] = {"number": t.number, "state": state, "seed": seed}
        values = t.values if t.state == TrialState.COMPLETE else None
        for i, name in enumerate(objective_names):
            row[name] = values[i] if values else None
        metrics = t.user_attrs.get("metrics", {})
        for name, value in metrics.items():
            if name not in objective_names:
                row[name] = value
        row["feasible"] = is_feasible(t) if values else None
        row["pareto"] = t.number in front
        row["hypervolume"] = t.user_attrs.get("hypervolume")
        row["phase"] = t.user_attrs.get("dse:phase")
        row["duplicate_of"] = t.user_attrs.get(DUPLICATE_ATTR)
        row["fidelity"] = t.user_attrs.get("fidelity")
        row["config_hash"] = t.user_attrs.get("config_hash")
        row["duration_s"] = t.duration.total_seconds() if t.duration is not None else None
        row["evaluation_s"] = t.user_attrs.get("duration_s")  # scoring alone, no sampler
        row["fail_reason"] = t.user_attrs.get("fail_reason")
        for name, value in t.params.items():
            row[f"param:{name}"] = value
        rows.append(row)
    if not rows:
        return pd.DataFrame(columns=[*BASE_COLUMNS, *objective_names])
    return pd.DataFrame(rows)


def front_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a trials table that are on the Pareto front."""
    return table[table["pareto"].astype(bool)]


def count_state(table: pd.DataFrame, state: str) -> int:
    """How many trials of a table are in `state` (`COMPLETE`, `FAIL`, `DUPLICATE`...)."""
    return int((table["state"] == state).sum())
