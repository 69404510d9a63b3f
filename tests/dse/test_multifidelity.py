"""Proxy-driven studies: exact re-scoring of the front, fidelity report, fallback, sensitivity."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest
import torch
from torch import nn

from dse import load_study, run_study
from dse.storage import records
from dse.study import Problem, run_sensitivity
from dse.study._sensitivity import WARM_START_GATES
from evaluators import AccuracyEvaluator, Configuration, FixedPoint, LayerConfig, WeightSharing
from search_spaces import (
    LayerChoices,
    SearchSpace,
    WeightChoices,
    gated_points,
    layer_options,
    prune_space,
)
from tests.conftest import run_cli, study_dict, write_study

PROXY = {
    "kind": "normalized_inertia",
    "calibration_trials": 8,
    "refresh_every": 10,
    "fidelity_threshold": 0.0,
}


def test_proxy_study_rescores_its_front_exactly(tmp_path: Path, study_output: Path) -> None:
    data = study_dict(
        "proxy_front", study_output, optimizer={"kind": "random", "budget": 30}, evaluator=PROXY
    )
    path = write_study(tmp_path / "s.yaml", data)
    result = run_study(load_study(path), path)
    folder = result.files["study"].parent
    for name in ("rescored.csv", "fidelity.json", "fidelity.png"):
        assert (folder / name).stat().st_size > 0
    table = result.table
    done = table[table["state"] == "COMPLETE"]
    fidelities = done["fidelity"].str.split(":").str[0].value_counts().to_dict()
    # The 8 design points come first and are exact; of the others, those whose digest is a
    # multiple of refresh_every are exact checks, the rest proxy scores.
    design = set(done["config_hash"].iloc[:8])
    checks = {h for h in done["config_hash"] if h not in design and int(h, 16) % 10 == 0}
    assert (done["fidelity"].iloc[:8] == "exact:validation").all()
    expected_exact = 8 + len(checks)
    assert fidelities == {"exact": expected_exact, "proxy": 30 - expected_exact}
    rescored = pd.read_csv(folder / "rescored.csv")
    front = table[table["pareto"]]
    assert set(rescored["config_hash"]) == set(front["config_hash"])
    setup = Problem.from_config(load_study(path), path)
    exact = {s: AccuracyEvaluator(setup.workload, split=s) for s in ("validation", "test")}
    for _, row in rescored.iterrows():
        trial = table[table["config_hash"] == row["config_hash"]].iloc[0]
        config = Configuration.from_dict(_configuration_of(path, int(trial["number"])))
        assert row["accuracy_exact_validation"] == exact["validation"].score(config).accuracy
        assert row["accuracy_test"] == exact["test"].score(config).accuracy
    assert rescored["pareto_validation"].any() and rescored["pareto_test"].any()
    report = json.loads((folder / "fidelity.json").read_text())
    assert report["kind"] == "normalized_inertia" and not report["fell_back_to_exact"]
    assert report["scorings"]["exact_search"] == expected_exact
    assert report["scorings"]["exact_rescore_validation"] == len(rescored)
    assert report["calibration"]["n"] == expected_exact
    assert -1 <= report["calibration"]["spearman"] <= 1
    study_json = json.loads((folder / "study.json").read_text())
    fronts = study_json["fidelity"]["fronts"]
    assert len(fronts["validation"]) == int(rescored["pareto_validation"].sum())
    assert len(fronts["test"]) == int(rescored["pareto_test"].sum())

    # Resuming refits the same calibration from the stored exact scores (none spent again):
    # the first 30 trials keep their scores, and the rule holds for the 10 new ones.
    data["optimizer"]["budget"] = 40
    path = write_study(tmp_path / "s.yaml", data)
    again = run_study(load_study(path), path)
    done_again = again.table[again.table["state"] == "COMPLETE"]
    pd.testing.assert_frame_equal(
        done_again.iloc[:30][["config_hash", "accuracy", "fidelity"]].reset_index(drop=True),
        done[["config_hash", "accuracy", "fidelity"]].reset_index(drop=True),
    )
    for _, row in done_again.iloc[30:].iterrows():
        check = int(row["config_hash"], 16) % 10 == 0
        assert row["fidelity"].startswith("exact") == check


def _configuration_of(path: Path, number: int) -> dict:
    import optuna

    from dse.storage import make_storage, storage_url

    config = load_study(path)
    study = optuna.load_study(
        study_name=config.study.name, storage=make_storage(storage_url(config))
    )
    return records.to_record(study.trials[number]).configuration.to_dict()


def test_low_fidelity_study_falls_back_and_says_so(
    tmp_path: Path, study_output: Path, caplog: pytest.LogCaptureFixture
) -> None:
    evaluator = {**PROXY, "kind": "inertia", "fidelity_threshold": 0.999, "calibration_trials": 6}
    data = study_dict(
        "proxy_fallback",
        study_output,
        optimizer={"kind": "random", "budget": 14},
        evaluator=evaluator,
    )
    path = write_study(tmp_path / "s.yaml", data)
    with caplog.at_level(logging.WARNING):
        result = run_study(load_study(path), path)
    assert "under the threshold" in caplog.text
    assert (result.table["fidelity"] == "exact:validation").all()
    report = json.loads((result.files["study"].parent / "fidelity.json").read_text())
    assert report["fell_back_to_exact"] is True and report["fallback_at"] == 0
    assert report["scorings"]["exact_search"] == 14 and report["scorings"]["proxy"] == 0


def test_exact_study_reports_fidelity_too(tmp_path: Path, study_output: Path) -> None:
    data = study_dict("exact_subset", study_output, evaluator={"kind": "exact", "subset": 100})
    path = write_study(tmp_path / "s.yaml", data)
    result = run_study(load_study(path), path)
    assert (result.table["fidelity"] == "exact:validation:100").all()
    report = json.loads((result.files["study"].parent / "fidelity.json").read_text())
    assert report["kind"] == "exact" and report["calibration"] is None
    assert report["front_check"]["n"] == int(result.table["pareto"].sum())


def test_sensitivity_command_writes_caches_and_prunes(tmp_path: Path, study_output: Path) -> None:
    data = study_dict("sens", study_output)
    path = write_study(tmp_path / "s.yaml", data)
    first = run_cli("sensitivity", str(path), "--gate", "0.02")
    assert first.returncode == 0, first.stderr
    folder = study_output / "sens" / "sensitivity"
    table = pd.read_csv(folder / "sensitivity.csv")
    assert set(table["layer"]) == {"conv1", "conv2", "fc1", "fc2", "fc3"}
    assert len(table) == 5 * (7 + 15)  # fixed 2..8 bits, shared k 2..16
    for layer in table["layer"].unique():
        assert (folder / f"sensitivity_{layer}.png").stat().st_size > 0
    assert (folder / "pruned.json").exists() and "110 measured" in first.stdout
    second = run_cli("sensitivity", str(path))
    assert second.returncode == 0, second.stderr
    assert "0 measured" in second.stdout and "110 from the cache" in second.stdout


def _tiny_space() -> SearchSpace:
    model = nn.Sequential(nn.Linear(16, 4, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(torch.linspace(-1, 1, 64).reshape(4, 16))
    choices = WeightChoices(kinds=("fixed", "shared"), bits=(2, 8), clusters=(2, 16))
    return SearchSpace.from_model(model, {"0": LayerChoices(weights=choices)})


def test_pruning_keeps_the_best_k_per_index_width_above_the_gate() -> None:
    space = _tiny_space()
    options = layer_options(space, "0")
    assert len(options) == 7 + 15

    def drop(option: LayerConfig) -> float:
        fmt = option.weights
        if isinstance(fmt, FixedPoint):
            return 0.4 / 2 ** (fmt.word_length - 2)  # 2: .4, 3: .2, 4: .1, 5: .05 ...
        assert isinstance(fmt, WeightSharing)
        return 0.01 if fmt.clusters == 6 else 0.5 / fmt.clusters  # 6 beats 7 and 8

    drops = {("0", o): drop(o) for o in options}
    pruned = prune_space(space, drops, gate=0.1)
    variables = {v.name: v for v in pruned.variables}
    # index widths: 1 bit (k=2: .25), 2 bits (best k=4: .125) fail; 3 bits keeps 6, 4 bits 16
    assert variables["0.weights.clusters"].values() == (6, 16)
    assert variables["0.weights.bits"].values() == (4, 5, 6, 7, 8)
    assert pruned.size() < space.size()
    point = {"0.weights.kind": "shared", "0.weights.clusters": 6, "0.weights.bits": 4}
    assert pruned.decode(point).get("0").weights == WeightSharing(6)
    strict = prune_space(space, drops, gate=0.001)  # nothing passes: the best choice stays
    assert dict(strict.constants)["0.weights.bits"] == 8  # drop .00625, better than k=6
    assert dict(strict.constants)["0.weights.kind"] == "fixed"


def test_gated_points_take_the_cheapest_format_within_each_gate() -> None:
    space = _tiny_space()
    drops = {}
    for option in layer_options(space, "0"):
        fmt = option.weights
        if isinstance(fmt, FixedPoint):
            drops["0", option] = 0.4 / 2 ** (fmt.word_length - 2)  # 4 bits: .1, 6 bits: .025
        else:
            drops["0", option] = 0.5 / fmt.clusters  # k=4 (2 bits): .125, k=8 (3 bits): .0625
    points = gated_points(space, drops, gates=(0.0001, 0.07, 0.13, 0.3))
    assert points == [
        {"0.weights.kind": "fixed", "0.weights.bits": 8},  # none passes: the smallest drop
        {"0.weights.kind": "shared", "0.weights.clusters": 8},  # 3 bits: k=8 beats fixed 5
        {"0.weights.kind": "shared", "0.weights.clusters": 4},  # 2 bits, before fixed 3..
        {"0.weights.kind": "shared", "0.weights.clusters": 2},
    ]


def test_new_study_warm_starts_from_a_stored_sensitivity_profile(
    tmp_path: Path, study_output: Path
) -> None:
    space = {
        "include": ["conv2", "fc1"],
        "weights": {"kinds": ["fixed", "shared"], "bits": [2, 8], "clusters": [2, 16]},
    }
    data = study_dict(
        "warm_profile", study_output, search_space=space, optimizer={"kind": "random", "budget": 8}
    )
    path = write_study(tmp_path / "w.yaml", data)
    config = load_study(path)
    run = run_sensitivity(config, path)
    drops = {(e.layer, e.config): e.accuracy_drop for e in run.entries}
    expected = gated_points(run.space, drops, WARM_START_GATES)
    assert expected
    result = run_study(config, path)
    base = {v.name: v.values()[0] for v in run.space.variables}
    wanted = [run.space.decode({**base, **point}).digest() for point in expected]
    first = result.table.sort_values("number").head(2 + len(expected))  # after 8 bits, 16 clusters
    assert set(wanted) <= set(first["config_hash"])
