"""Exact re-scoring of a study's final front, on the full validation split and on test.

A study driven by a proxy or a data subset finds its front with estimated accuracies; what it
reports must be measured. Every configuration of the search front is scored exactly on the
whole validation split and on the test split, and both fronts are recomputed from those
scores: the validation front is what the search found, the test front what to expect on new
data. `rescore` returns the scores it computed; keeping them (so that a resumed study re-scores
only configurations new to its front) is the caller's business.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd
from tqdm import tqdm

from evaluators import AccuracyEvaluator
from results._pareto import ParetoFront

if TYPE_CHECKING:
    from evaluators import Workload
    from results._record import TrialRecord

logger = logging.getLogger(__name__)

EXACT_VALIDATION = "exact:validation"
"""The fidelity of a score on the whole validation split."""


class Bound(Protocol):
    """A constraint on a metric: feasible when `min <= value <= max`."""

    name: str
    min: float | None
    max: float | None


def rescore(
    records: Sequence[TrialRecord],
    workload: Workload,
    *,
    batch_size: int = 1024,
    known: Mapping[str, Mapping[str, float]] | None = None,
    max_points: int | None = None,
    device: str = "cpu",
) -> dict[str, dict[str, float]]:
    """Score the configurations of `records` exactly on validation and test.

    A record already scored exactly on the whole validation split keeps that score (only test
    is scored); configurations in `known` are skipped.

    Args:
        records: the trials to re-score (usually the search front).
        workload: the model and its splits.
        batch_size: samples per forward pass.
        known: earlier re-scores by configuration hash.
        max_points: re-score at most this many configurations (those the search scored most
            accurate first), counting the known ones; None: all.
        device: where to score (`cpu`, `cuda`, `auto`).

    Returns:
        The new re-scores by configuration hash: `validation`, `test` (NaN when the
        workload has no test split) and `scored` (0.0 when validation was already exact).
    """
    known = known or {}
    evaluators = {
        split: AccuracyEvaluator(workload, split=split, batch_size=batch_size, device=device)
        for split in ("validation", "test")
    }
    started = time.perf_counter()
    new: dict[str, dict[str, float]] = {}
    order = sorted(records, key=lambda r: -r.metrics.get("accuracy", 0.0))
    for record in tqdm(
        order, desc="re-scoring the front", unit="point", leave=False, disable=None
    ):
        if max_points is not None and len(known) + len(new) >= max_points:
            break
        digest, configuration = record.config_hash, record.configuration
        if digest is None or configuration is None or digest in known or digest in new:
            continue
        has_test = workload.data.test is not None
        scores = {
            "test": evaluators["test"].score(configuration).accuracy if has_test else math.nan
        }
        if record.fidelity == EXACT_VALIDATION:
            scores |= {"validation": record.metrics["accuracy"], "scored": 0.0}
        else:
            validation = evaluators["validation"].score(configuration).accuracy
            scores |= {"validation": validation, "scored": 1.0}
        new[digest] = scores
    if new:
        logger.info(
            "re-scored %d front configurations exactly in %.1f s",
            len(new),
            time.perf_counter() - started,
        )
    return new


def rescored_table(
    records: Sequence[TrialRecord],
    rescored: Mapping[str, Mapping[str, float]],
    objective_names: Sequence[str],
    directions: Sequence[str],
    *,
    reference_accuracy: float,
    constraints: Sequence[Bound] = (),
) -> pd.DataFrame:
    """One row per re-scored configuration, with its exact fronts on validation and on test.

    Columns: `number`, `config_hash`, `fidelity`, the objectives as searched,
    `accuracy_search` (the accuracy the optimizer saw), `accuracy_exact_validation`,
    `accuracy_test`, `validation_rescored` (false where the search already scored it
    exactly), `pareto_validation` and `pareto_test` (on the front once accuracy is replaced
    by the exact score, feasibility re-checked on the accuracy constraints; the others held
    when the trial was searched and do not depend on accuracy).
    """
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for record in records:
        digest = record.config_hash
        if not record.evaluated or digest not in rescored or digest in seen:
            continue
        seen.add(digest)
        scores = rescored[digest]
        row: dict[str, Any] = {
            "number": record.number,
            "config_hash": digest,
            "fidelity": record.fidelity,
            "accuracy_search": record.metrics.get("accuracy"),
            "accuracy_exact_validation": scores["validation"],
            "accuracy_test": scores["test"],
            "validation_rescored": bool(scores.get("scored", 1.0)),
        }
        assert record.values is not None
        row |= dict(zip(objective_names, record.values, strict=True))
        rows.append(row)
    table = pd.DataFrame(rows)
    if not rows:
        return table
    for split, column in (("validation", "accuracy_exact_validation"), ("test", "accuracy_test")):
        points, feasible = [], []
        for _, row in table.iterrows():
            accuracy = {"accuracy": row[column], "accuracy_drop": reference_accuracy - row[column]}
            points.append([accuracy.get(n, row[n]) for n in objective_names])
            feasible.append(_feasible(constraints, accuracy))
        front = ParetoFront.from_points(
            points, directions, numbers=list(table["number"]), feasible=feasible
        )
        table[f"pareto_{split}"] = table["number"].isin(front.numbers)
    return table


def _feasible(constraints: Sequence[Bound], accuracy: Mapping[str, float]) -> bool:
    for c in constraints:
        if c.name not in accuracy:
            continue
        value = accuracy[c.name]
        if (c.max is not None and value > c.max) or (c.min is not None and value < c.min):
            return False
    return True
