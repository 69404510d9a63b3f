"""The fidelity report of a study: how good its accuracy estimates were, and what they cost.

Every study says how its accuracies were obtained. The report has two measures: the
calibration's held-out fidelity (proxy value against the exact scores spent on calibration,
cross-validated), and the check on the final front (the accuracy the optimizer saw against
the exact validation score of the same configurations, which the search never used). It
counts the exact scorings spent, in the search and in the re-scoring. `fidelity_info`
computes the record; `write_fidelity` renders `fidelity.json` and `fidelity.png` from it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from evaluators import CalibratedProxy, ProxyError, fidelity_metrics
from results._files import atomic_write, save_figure

if TYPE_CHECKING:
    import pandas as pd


def _column(table: pd.DataFrame, name: str) -> np.ndarray:
    if name not in table:
        return np.full(len(table), np.nan)
    return table[name].to_numpy(dtype=float, na_value=np.nan)


def fidelity_info(
    table: pd.DataFrame,
    rescored: pd.DataFrame,
    evaluator: dict[str, Any],
) -> dict[str, Any]:
    """The fidelity record of a study.

    Args:
        table: the trials table (`proxy_value`, `accuracy_exact`, `fidelity` columns used).
        rescored: the exact re-scores of the front (see `dse.study._rescore.rescored_table`).
        evaluator: the evaluator's settings: `kind`, `regression`, `fidelity_threshold`, and
            for a proxy, its run's `summary()` (fallback state).

    Returns:
        JSON-ready data, with the points the plot draws under `points`.
    """
    done = table[table["state"] == "COMPLETE"] if len(table) else table
    fidelity = done["fidelity"].astype(str) if len(done) else done.get("fidelity", [])
    proxy = _column(done, "proxy_value")
    exact = _column(done, "accuracy_exact")
    pairs = np.isfinite(proxy) & np.isfinite(exact)
    calibration: dict[str, Any] | None = None
    if pairs.sum() >= 2:
        try:
            cal = CalibratedProxy(evaluator.get("regression", "isotonic")).fit(
                proxy[pairs], exact[pairs]
            )
            calibration = cal.fidelity()
        except ProxyError:
            calibration = None
    front_check = None
    if len(rescored):
        front_check = fidelity_metrics(
            rescored["accuracy_search"].to_numpy(float),
            rescored["accuracy_exact_validation"].to_numpy(float),
        )
    # A configuration proposed twice is scored once (evaluators cache by configuration).
    scored = list(zip(fidelity, done["config_hash"], strict=True)) if len(done) else []
    search_exact = len({h for f, h in scored if str(f).startswith("exact")})
    proxy_scored = len({h for f, h in scored if str(f).startswith("proxy")})
    threshold = evaluator.get("fidelity_threshold")
    fell_back = bool(evaluator.get("fell_back", False))
    return {
        "kind": evaluator.get("kind", "exact"),
        "fidelity_threshold": threshold,
        "fell_back_to_exact": fell_back,
        "fallback_at": evaluator.get("fallback_at"),
        "calibration": calibration,
        "front_check": front_check,
        "scorings": {
            "complete_trials": len(done),
            "exact_search": search_exact,
            "proxy": proxy_scored,
            "exact_rescore_validation": len(rescored),
            "exact_rescore_test": len(rescored),
            "exact_total": search_exact + len(rescored),
        },
        "points": {
            "proxy_value": proxy[pairs].tolist(),
            "accuracy_exact": exact[pairs].tolist(),
            "front_accuracy_search": []
            if not len(rescored)
            else rescored["accuracy_search"].tolist(),
            "front_accuracy_exact": []
            if not len(rescored)
            else rescored["accuracy_exact_validation"].tolist(),
            "front_proxy_value": []
            if not len(rescored)
            else [_proxy_of(done, h) for h in rescored["config_hash"]],
        },
    }


def _proxy_of(done: pd.DataFrame, digest: str) -> float | None:
    if "proxy_value" not in done:
        return None
    values = done.loc[done["config_hash"] == digest, "proxy_value"].dropna()
    return float(values.iloc[0]) if len(values) else None


def write_fidelity(folder: Path, info: dict[str, Any]) -> dict[str, Path]:
    """Write `fidelity.json` and the proxy-vs-exact scatter `fidelity.png` into `folder`."""
    from matplotlib.figure import Figure  # not pyplot: no global backend or registry

    folder.mkdir(parents=True, exist_ok=True)
    paths = {"fidelity": folder / "fidelity.json", "fidelity_plot": folder / "fidelity.png"}
    atomic_write(paths["fidelity"], json.dumps(json_safe(info), indent=2, sort_keys=True) + "\n")
    points = info["points"]
    figure = Figure(figsize=(10, 4.2))
    left, right = figure.subplots(1, 2)
    if points["proxy_value"]:
        left.scatter(points["proxy_value"], points["accuracy_exact"], s=14, label="exact scores")
        pairs = zip(points["front_proxy_value"], points["front_accuracy_exact"], strict=True)
        front = [(p, a) for p, a in pairs if p is not None]
        if front:
            left.scatter(*zip(*front, strict=True), s=18, marker="x", label="front (re-scored)")
        if min(points["proxy_value"]) > 0:
            left.set_xscale("log")
        left.legend(loc="lower left")
        calibration = info["calibration"] or {}
        left.set_title(
            f"{info['kind']}: held-out Spearman {calibration.get('spearman', float('nan')):.3f}"
        )
    else:
        left.text(0.5, 0.5, "no proxy: every search score exact", ha="center", va="center")
    left.set_xlabel("proxy value (degradation)")
    left.set_ylabel("exact accuracy")
    if points["front_accuracy_search"]:
        right.scatter(points["front_accuracy_search"], points["front_accuracy_exact"], s=16)
        lo = min(points["front_accuracy_search"] + points["front_accuracy_exact"])
        right.plot([lo, 1], [lo, 1], color="grey", lw=0.8)
        check = info["front_check"] or {}
        right.set_title(f"front: Spearman {check.get('spearman', float('nan')):.3f}")
    right.set_xlabel("accuracy seen by the search")
    right.set_ylabel("exact validation accuracy")
    figure.tight_layout()
    save_figure(figure, paths["fidelity_plot"], dpi=110)
    return paths


def json_safe(value: Any) -> Any:
    """NaN and inf become null: JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value
