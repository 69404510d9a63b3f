"""Exact re-scoring of a study's final front, on the full validation split and on test.

A study driven by a proxy or a data subset finds its front with estimated accuracies; what
it reports must be measured. Every configuration of the search front is scored exactly on
the whole validation split and on the test split, and both fronts are recomputed from those
scores: the validation front is what the search found, the test front what to expect on new
data. Scores are kept in the study's storage (by configuration hash), so a resumed study
re-scores only configurations new to its front.
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING, Any

import pandas as pd
from optuna.trial import TrialState

from dse.results import ParetoFront, fidelity_info, write_fidelity
from evaluators import AccuracyEvaluator, Configuration, ProxyEvaluator

if TYPE_CHECKING:
    from pathlib import Path

    import optuna

    from dse.config import StudyConfig
    from dse.study._setup import StudySetup

logger = logging.getLogger(__name__)

RESCORED_ATTR = "dse:rescored"
"""Study user attribute: config hash -> {"validation": accuracy, "test": accuracy}."""


EXACT_VALIDATION = "exact:validation"
"""The fidelity of a score on the whole validation split."""


def rescore_front(study: optuna.Study, setup: StudySetup) -> dict[str, dict[str, float]]:
    """Score the search front's configurations exactly on validation and test; store them.

    Does nothing unless the study's `evaluator.rescore_front` is set.

    Returns:
        Every stored re-score, by configuration hash.
    """
    config = setup.config
    stored: dict[str, dict[str, float]] = dict(study.user_attrs.get(RESCORED_ATTR, {}))
    if not config.evaluator.rescore_front:
        return stored
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    front = set(ParetoFront.from_trials(trials, config.directions).numbers)
    evaluators = {
        split: AccuracyEvaluator(
            setup.workload, split=split, batch_size=config.evaluator.batch_size
        )
        for split in ("validation", "test")
    }
    started, added = time.perf_counter(), 0
    for trial in trials:
        digest = trial.user_attrs.get("config_hash")
        if trial.number not in front or digest is None or digest in stored:
            continue
        configuration = Configuration.from_dict(trial.user_attrs["configuration"])
        scores = {"test": evaluators["test"].score(configuration).accuracy}
        if trial.user_attrs.get("fidelity") == EXACT_VALIDATION:
            # Already scored exactly on the whole validation split (a calibration point).
            scores |= {"validation": trial.user_attrs["metrics"]["accuracy"], "scored": 0.0}
        else:
            validation = evaluators["validation"].score(configuration).accuracy
            scores |= {"validation": validation, "scored": 1.0}
        stored[digest] = scores
        added += 1
    if added:
        study.set_user_attr(RESCORED_ATTR, stored)
        logger.info(
            "re-scored %d front configurations exactly in %.1f s",
            added,
            time.perf_counter() - started,
        )
    return stored


def rescored_table(
    trials: list[optuna.trial.FrozenTrial],
    rescored: dict[str, dict[str, float]],
    setup: StudySetup,
) -> pd.DataFrame:
    """One row per re-scored trial, with its exact fronts on validation and on test.

    Columns: `number`, `config_hash`, `fidelity`, the objectives as searched,
    `accuracy_search` (the accuracy the optimizer saw), `accuracy_exact_validation`,
    `accuracy_test`, `validation_rescored` (false where the search already scored it
    exactly), `pareto_validation` and `pareto_test` (on the front once accuracy is replaced
    by the exact score, feasibility re-checked).
    """
    config = setup.config
    rows: list[dict[str, Any]] = []
    for trial in trials:
        digest = trial.user_attrs.get("config_hash")
        if trial.state != TrialState.COMPLETE or digest not in rescored:
            continue
        if any(r["config_hash"] == digest for r in rows):
            continue
        metrics = dict(trial.user_attrs.get("metrics", {}))
        row: dict[str, Any] = {
            "number": trial.number,
            "config_hash": digest,
            "fidelity": trial.user_attrs.get("fidelity"),
            "accuracy_search": metrics.get("accuracy"),
            "accuracy_exact_validation": rescored[digest]["validation"],
            "accuracy_test": rescored[digest]["test"],
            "validation_rescored": bool(rescored[digest].get("scored", 1.0)),
        }
        for name, value in zip(config.objective_names, trial.values, strict=True):
            row[name] = value
        rows.append(row)
    table = pd.DataFrame(rows)
    if not rows:
        return table
    reference = setup.problem.reference_accuracy
    for split, column in (("validation", "accuracy_exact_validation"), ("test", "accuracy_test")):
        points, feasible = [], []
        for _, row in table.iterrows():
            metrics = {"accuracy": row[column], "accuracy_drop": reference - row[column]}
            points.append([metrics.get(n, row[n]) for n in config.objective_names])
            feasible.append(_feasible(config, metrics))
        front = ParetoFront.from_points(
            points, config.directions, numbers=list(table["number"]), feasible=feasible
        )
        table[f"pareto_{split}"] = table["number"].isin(front.numbers)
    return table


def _feasible(config: StudyConfig, accuracy: dict[str, float]) -> bool:
    """Whether the accuracy constraints hold with the exact score.

    The other constraints held when the trial was searched (the search front is feasible),
    and do not depend on accuracy.
    """
    for c in config.constraints:
        if c.name not in accuracy:
            continue
        value = accuracy[c.name]
        if (c.max is not None and value > c.max) or (c.min is not None and value < c.min):
            return False
    return True


def write_fidelity_report(
    study: optuna.Study, setup: StudySetup, table: pd.DataFrame
) -> tuple[dict[str, Any], dict[str, Path]]:
    """Write `rescored.csv`, `fidelity.json` and `fidelity.png`; return the study.json part.

    Returns:
        (record, files): the fidelity measures, the exact scorings spent and both exact
        fronts (validation and test) for study.json, and the written files by kind.
    """
    folder = setup.output_dir
    folder.mkdir(parents=True, exist_ok=True)
    trials = study.get_trials(deepcopy=False)
    rescored = rescored_table(trials, dict(study.user_attrs.get(RESCORED_ATTR, {})), setup)
    section = setup.config.evaluator
    evaluator = setup.problem.evaluator
    settings: dict[str, Any] = {
        "kind": section.kind,
        "regression": section.regression,
        "fidelity_threshold": None if section.kind == "exact" else section.fidelity_threshold,
    }
    if isinstance(evaluator, ProxyEvaluator):
        settings |= {k: v for k, v in evaluator.summary().items() if k in _FROM_RUN}
    info = fidelity_info(table, rescored, settings)
    files = write_fidelity(folder, info)
    files["rescored"] = folder / "rescored.csv"
    tmp = files["rescored"].with_name(f".rescored.{os.getpid()}.tmp")
    tmp.write_text(rescored.to_csv(index=False), encoding="utf-8")
    tmp.replace(files["rescored"])
    record = {k: v for k, v in info.items() if k != "points"}
    record["fronts"] = {
        split: []
        if not len(rescored)
        else rescored[rescored[f"pareto_{split}"]].to_dict(orient="records")
        for split in ("validation", "test")
    }
    if record["fell_back_to_exact"]:
        logger.warning(
            "study %s: the %s proxy fell under its fidelity threshold; exact scores were used "
            "from then on",
            setup.config.study.name,
            section.kind,
        )
    return record, files


_FROM_RUN = ("fell_back", "fallback_at")
