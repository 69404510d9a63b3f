"""Trials as a table: one row per trial, objectives, metrics, parameters and provenance."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from dse.results._pareto import ParetoFront


def trials_table(
    trials: Sequence[FrozenTrial], objective_names: Sequence[str], directions: Sequence[str]
) -> pd.DataFrame:
    """Every trial, with a `pareto` column marking the front of the complete, feasible ones."""
    front = set(ParetoFront.from_trials(trials, directions).numbers)
    rows = []
    for t in trials:
        row: dict[str, object] = {"number": t.number, "state": t.state.name}
        values = t.values if t.state == TrialState.COMPLETE else None
        for i, name in enumerate(objective_names):
            row[name] = values[i] if values else None
        metrics = t.user_attrs.get("metrics", {})
        for name, value in metrics.items():
            if name not in objective_names:
                row[name] = value
        row["feasible"] = all(v <= 0 for v in t.constraints.values()) if values else None
        row["pareto"] = t.number in front
        row["hypervolume"] = t.user_attrs.get("hypervolume")
        row["phase"] = t.user_attrs.get("dse:phase")
        row["fidelity"] = t.user_attrs.get("fidelity")
        row["config_hash"] = t.user_attrs.get("config_hash")
        duration = t.duration.total_seconds() if t.duration is not None else None
        row["duration_s"] = duration
        row["fail_reason"] = t.user_attrs.get("fail_reason")
        for name, value in t.params.items():
            row[f"param:{name}"] = value
        rows.append(row)
    return pd.DataFrame(rows)
