"""The report's info record: everything the HTML report draws, as JSON-ready data.

Computed once from a `StudyResult` (Optuna's `_get_pareto_front_info` split: compute, then
render), so the page does no arithmetic a test cannot check from Python. Every evaluated trial
enters as columns (objectives and metrics, whether it is on the front, feasible, scored by a
proxy); only the front's points carry their per-layer detail. Nothing that names the machine,
its user or its folders is kept: the file is meant to be mailed.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from results._baselines import baselines, with_relative_columns
from results._fidelity import fidelity_info
from results._filters import NOT_METRICS, filter_names
from results._hypervolume import data_reference, hypervolume_curve
from results._layers import front_layers
from results._metrics import metric_direction, metric_info
from results._rescore import rescored_table
from results._tables import front_rows

if TYPE_CHECKING:
    from results._result import StudyResult

INFO_VERSION = 1
"""Layout of the info record the page reads."""

RELATIVE = ("accuracy_drop", "compression_ratio")
"""Axes measured against the float model, offered whatever the objectives."""


def report_info(
    result: StudyResult,
    *,
    sensitivity: pd.DataFrame | None = None,
    study_file: str | None = None,
    layers: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """What the report shows, as plain JSON data.

    Args:
        result: the study (running or finished).
        sensitivity: the study's sensitivity profile (`sensitivity.csv`), if it has one.
        study_file: the study file as the user names it, for the `dse export` command shown
            with each front point (only its name is kept when absolute).
        layers: the front's layer rows (`front_layers(result)`), when already computed.

    Returns:
        A dict with `study`, `axes`, `trials` (columns over evaluated trials), `baselines`,
        `front` (the rows of pareto.csv as text, with `compression_ratio`), `points` (per
        front point: values, accuracies, layer rows, export command), `hypervolume`, `bits`,
        `sensitivity`, `fidelity`, `provenance` and `settings`.
    """
    table = with_relative_columns(result.table, result)
    done = table[table["state"] == "COMPLETE"] if len(table) else table
    axes = _axes(result, done)
    front_table = front_rows(table) if len(table) else table
    layers = front_layers(result) if layers is None else layers
    points = _points(result, layers, _command(study_file))
    return {
        "version": INFO_VERSION,
        "study": _study(result, len(done)),
        "axes": axes,
        "trials": _trial_columns(done, axes),
        "baselines": [
            {"label": b.label, "number": b.number, "values": _finite(b.values)}
            for b in baselines(result)
        ],
        "front": _csv_rows(front_table),
        "table_columns": _table_columns(result, front_table),
        "filter_names": list(filter_names(result, table)),
        "points": points,
        "layer_columns": list(layers.columns),
        "hypervolume": _hypervolume(result),
        "bits": _bits(result, [d.name for d in result.space.layers], points),
        "sensitivity": None if sensitivity is None else _records(sensitivity),
        "fidelity": _fidelity(result),
        "provenance": scrub(dict(result.provenance)),
        "settings": scrub(
            {
                "config": result.settings.get("config"),
                "workload": result.settings.get("workload"),
                "hardware": None if result.hardware is None else result.hardware.to_dict(),
                "evaluator": dict(result.evaluator),
            }
        ),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _study(result: StudyResult, drawn: int) -> dict[str, Any]:
    states = [r.state for r in result.records]
    running = sum(s in ("RUNNING", "WAITING") for s in states)
    budget = result.budget
    complete = result.complete
    if running:
        state = "running"
        message = (
            f"This study is still running: {complete} of {budget or '?'} trials evaluated, "
            f"{running} running. The report is a snapshot; run `python -m dse report` again "
            "for a newer one."
        )
    elif budget is not None and complete < budget:
        state = "stopped"
        message = (
            f"This study stopped before its budget: {complete} of {budget} trials evaluated; "
            "`python -m dse run` resumes it."
        )
    else:
        state, message = "complete", ""
    return {
        "name": result.name,
        "objectives": [
            {"name": n, "direction": d}
            for n, d in zip(result.objective_names, result.directions, strict=True)
        ],
        "reference_accuracy": result.reference_accuracy,
        "reference_point": None
        if result.reference_point is None
        else list(result.reference_point),
        "seed": result.seed,
        "budget": budget,
        "complete": complete,
        "drawn": drawn,
        "failed": states.count("FAIL"),
        "duplicates": states.count("DUPLICATE"),
        "running": running,
        "front_size": len(result.front),
        "state": state,
        "message": message,
        "hardware": result.hardware is not None,
        "constraints": [{"name": c.name, "min": c.min, "max": c.max} for c in result.constraints],
    }


def _axes(result: StudyResult, done: pd.DataFrame) -> list[dict[str, Any]]:
    """The names a plot may put on an axis: objectives, the relative measures, then every
    other metric the trials recorded."""
    names = list(result.objective_names)
    names += [n for n in RELATIVE if n in done]
    names += [n for n in filter_names(result, done) if n in done]
    axes = []
    for name in dict.fromkeys(names):
        if name in NOT_METRICS or name not in done:
            continue
        info = metric_info(name)
        axes.append(
            {
                "name": name,
                "label": info.label,
                "unit": info.unit,
                "direction": metric_direction(name, result.objective_names, result.directions),
                "log": info.log,
                "objective": name in result.objective_names,
            }
        )
    return axes


def _trial_columns(done: pd.DataFrame, axes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One list per column over the evaluated trials (null where a metric is missing)."""
    if not len(done):
        return {"number": [], "pareto": [], "feasible": [], "proxy": []}
    fidelity = done["fidelity"].astype(str)
    columns: dict[str, Any] = {
        "number": [int(n) for n in done["number"]],
        "pareto": [int(bool(p)) for p in done["pareto"]],
        "feasible": [int(bool(f)) for f in done["feasible"]],
        "proxy": [int(f.startswith("proxy")) for f in fidelity],
    }
    for axis in axes:
        values = done[axis["name"]].to_numpy(dtype=float, na_value=np.nan)
        columns[axis["name"]] = [float(v) if math.isfinite(v) else None for v in values]
    return columns


def _csv_rows(front: pd.DataFrame) -> dict[str, Any]:
    """The front's rows exactly as pareto.csv writes them (text cells), `compression_ratio`
    after them: what the page's table sorts and filters and its CSV download writes."""
    if not len(front):
        return {"columns": list(front.columns), "rows": []}
    reader = csv.reader(io.StringIO(front.to_csv(index=False)))
    columns = next(reader)
    return {"columns": columns, "rows": [row for row in reader]}


def _table_columns(result: StudyResult, front: pd.DataFrame) -> list[str]:
    shown = ["number", *result.objective_names, *RELATIVE, "fidelity", "config_hash"]
    return [c for c in dict.fromkeys(shown) if c in front]


def _command(study_file: str | None) -> str:
    """`python -m dse export STUDY.yaml --trial {n}`, the study file as the user names it."""
    if study_file is None:
        name = "STUDY.yaml"
    else:
        path = PurePath(study_file)
        name = path.name if path.is_absolute() or ".." in path.parts else str(path)
    return f"python -m dse export {name} --trial {{number}}"


def _points(result: StudyResult, layers: pd.DataFrame, command: str) -> dict[str, Any]:
    """Per front point: values, accuracies, layer rows (those of `front_layers.csv`), and
    the command that exports it."""
    rows: dict[int, list[dict[str, Any]]] = {}
    for row in layers.to_dict(orient="records"):
        clean = {k: v for k, v in _json_row(row).items() if v is not None}
        rows.setdefault(int(row["number"]), []).append(clean)
    points: dict[str, Any] = {}
    for point, record in zip(result.front.points, result.front.records, strict=True):
        rescored = result.rescored.get(point.config_hash or "", {})
        metrics = dict(point.metrics)
        points[str(point.number)] = {
            "number": point.number,
            "config_hash": point.config_hash,
            "fidelity": record.fidelity,
            "values": _finite(point.values),
            "metrics": _finite(metrics),
            "accuracy": _finite(
                {
                    "search": metrics.get("accuracy"),
                    "exact": metrics.get("accuracy_exact"),
                    "proxy_value": metrics.get("proxy_value"),
                    "exact_validation": rescored.get("validation"),
                    "test": rescored.get("test"),
                }
            ),
            "layers": rows.get(point.number, []),
            "command": command.format(number=point.number),
        }
    return points


def _hypervolume(result: StudyResult) -> dict[str, Any]:
    """The front's hypervolume after each evaluation, from the study's reference point (or,
    for a study without one, a point just beyond the worst values seen)."""
    done = [r for r in result.records if r.evaluated and r.values is not None]
    reference = result.reference_point
    kind = "study"
    if reference is None:
        kind = "data"
        reference = data_reference(np.array([r.values for r in done]), result.directions)
    curve = hypervolume_curve(result.records, result.directions, reference) if done else []
    return {
        "evaluations": [n for n, _ in curve],
        "hypervolume": [v for _, v in curve],
        "reference": list(reference),
        "reference_kind": kind,
    }


def _bits(result: StudyResult, layers: Sequence[str], points: Mapping[str, Any]) -> dict:
    """Storage bits per weight of each layer (rows) across the front (columns), the front in
    the order of its first objective."""
    first, direction = result.objective_names[0], result.directions[0]
    order = sorted(
        points.values(),
        key=lambda p: p["values"].get(first, math.nan) * (1 if direction == "minimize" else -1),
    )
    z = []
    for layer in layers:
        row = []
        for point in order:
            bits = next(
                (r.get("weights_bits") for r in point["layers"] if r["layer"] == layer), None
            )
            row.append(bits)
        z.append(row)
    return {"layers": list(layers), "numbers": [p["number"] for p in order], "z": z}


def _fidelity(result: StudyResult) -> dict[str, Any] | None:
    """The proxy-vs-exact record (see `fidelity_info`) when the search scored anything by
    other means than the whole validation split."""
    kinds = {r.fidelity for r in result.records if r.evaluated}
    if kinds <= {"exact:validation", None}:
        return None
    rescored = rescored_table(
        result.records,
        result.rescored,
        result.objective_names,
        result.directions,
        reference_accuracy=result.reference_accuracy,
        constraints=result.constraints,
    )
    info = fidelity_info(result.table, rescored, dict(result.evaluator))
    return _clean(info)


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [_json_row(r) for r in table.to_dict(orient="records")]


def _json_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): _json_value(v) for k, v in row.items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def _finite(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _json_value(v) for k, v in values.items()}


def _clean(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return _json_value(value)


# -- a file to mail: no host, user or folder names ------------------------------------------

_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
_DROPPED_KEYS = frozenset({"worker", "host", "hostname", "user", "username", "cwd", "home"})


def scrub(value: Any) -> Any:
    """The value without what would identify a machine: absolute paths become their last
    part, URLs their scheme (`sqlite://...`), keys naming a host or user are dropped.

    Example:
        >>> scrub({"output": "/home/ann/runs", "url": "postgresql://ann:pw@db/x", "seed": 0})
        {'output': 'runs', 'url': 'postgresql://...', 'seed': 0}
    """
    if isinstance(value, Mapping):
        return {str(k): scrub(v) for k, v in value.items() if str(k).lower() not in _DROPPED_KEYS}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        match = _URL.match(value)
        if match:
            return f"{match['scheme']}://..."
        if value.startswith(("/", "~", "\\\\")) or re.match(r"^[A-Za-z]:[\\/]", value):
            return PurePath(value.replace("\\", "/")).name or "..."
        return value
    return _json_value(value)
