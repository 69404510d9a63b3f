"""The HTML report's content, checked from Python on real small studies of the LeNet digits
workload: what the page embeds, what it links to (nothing), what it says about the machine
(nothing), and the per-layer rows it shares with front_layers.csv.

`weight_bits_study` and `hardware_study` run once per session and are shared with the
browser tests (`test_report_browser.py`) and the figure tests.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import math
import re
import socket
from pathlib import Path

import pandas as pd
import pytest

from dse import Problem, minimize
from evaluators import Configuration, FixedPoint, FloatFormat, Workload
from results import (
    StudyResult,
    TrialRecord,
    baselines,
    front_layers,
    report_info,
    scrub,
    select_points,
    storage_bits,
    write_report,
    write_results,
)

_STUDIES: dict[str, tuple[StudyResult, Path]] = {}

HARDWARE = {
    "part": "xc7z020",
    "clock_mhz": 200,
    "reuse_factor": {"conv1": 9, "conv2": 54, "fc1": 64, "fc2": 120, "fc3": 84},
}
HARDWARE_SPACE = {
    "weights": {
        "kinds": ["fixed", "shared", "float"],
        "bits": [2, 8],
        "clusters": [2, 16],
        "codebook": {"kind": "fixed", "bits": 8},
        "exponent_bits": [3, 5],
        "mantissa_bits": [1, 7],
    },
    "activations": {"kinds": ["fixed"], "bits": [4, 10], "accumulator_bits": [12, 24]},
}


def _write(result: StudyResult, folder: Path, study_file: str) -> tuple[StudyResult, Path]:
    files = write_results(result, folder)
    files["report"] = write_report(result, folder, study_file=study_file)
    return dataclasses.replace(result, files=files), folder


def weight_bits_study(
    workload: Workload, factory: pytest.TempPathFactory
) -> tuple[StudyResult, Path]:
    """Accuracy against weight bits, fixed point or shared weights, 30 exact NSGA-II trials
    (the uniform 8-bit baseline among them): the built-in example, smaller."""
    if "bits" not in _STUDIES:
        data = workload.data
        problem = Problem.from_model(
            workload.model,
            train=data.train,
            validation=data.validation,
            test=data.test,
            search_space={
                "weights": {"kinds": ["fixed", "shared"], "bits": [2, 8], "clusters": [2, 32]}
            },
            name="report_bits",
        )
        result = minimize(problem, {"kind": "nsga2", "population_size": 10}, budget=30, seed=0)
        _STUDIES["bits"] = _write(result, factory.mktemp("report_bits"), "report_bits.yaml")
    return _STUDIES["bits"]


def hardware_study(
    workload: Workload, factory: pytest.TempPathFactory
) -> tuple[StudyResult, Path]:
    """Accuracy, LUTs and energy on an xc7z020, weights fixed / shared / float, fixed-point
    activations and accumulators, a calibrated proxy (so some points are proxy-scored) and a
    constraint on accuracy (so some are infeasible): 36 NSGA-II trials."""
    if "hardware" not in _STUDIES:
        data = workload.data
        problem = Problem.from_model(
            workload.model,
            train=data.train,
            validation=data.validation,
            test=data.test,
            objectives=["accuracy", "lut", "energy"],
            constraints=[{"name": "accuracy", "min": 0.5}],
            search_space=HARDWARE_SPACE,
            evaluator={
                "kind": "normalized_inertia",
                "calibration_trials": 8,
                "refresh_every": 4,
                "fidelity_threshold": 0.0,
            },
            hardware=HARDWARE,
            name="report_hw",
        )
        # Warm start off: every point from the sampler (the weight-bits study has baselines).
        optimizer = {"kind": "nsga2", "population_size": 10, "warm_start": False}
        result = minimize(problem, optimizer, budget=36, seed=0)
        _STUDIES["hardware"] = _write(result, factory.mktemp("report_hw"), "report_hw.yaml")
    return _STUDIES["hardware"]


@pytest.fixture(scope="module")
def bits(lenet_workload: Workload, tmp_path_factory: pytest.TempPathFactory):
    return weight_bits_study(lenet_workload, tmp_path_factory)


@pytest.fixture(scope="module")
def hardware(lenet_workload: Workload, tmp_path_factory: pytest.TempPathFactory):
    return hardware_study(lenet_workload, tmp_path_factory)


def embedded_info(html: str) -> dict:
    """The info record a report embeds."""
    match = re.search(r'<script type="application/json" id="dse-data">(.*?)</script>', html, re.S)
    assert match is not None
    return json.loads(match.group(1))


def test_report_embeds_every_evaluated_trial_and_the_front_of_pareto_csv(hardware) -> None:
    result, folder = hardware
    info = embedded_info((folder / "report.html").read_text(encoding="utf-8"))
    trials = pd.read_csv(folder / "trials.csv")
    complete = trials[trials["state"] == "COMPLETE"]
    assert sorted(info["trials"]["number"]) == sorted(complete["number"])
    assert sum(info["trials"]["pareto"]) == len(result.front)
    assert sum(info["trials"]["proxy"]) > 0 and sum(info["trials"]["proxy"]) < len(complete)
    assert 0 < sum(info["trials"]["feasible"]) < len(complete)
    pareto = pd.read_csv(folder / "pareto.csv")
    columns = info["front"]["columns"]
    assert columns[: len(pareto.columns)] == list(pareto.columns)
    assert sorted(int(r[columns.index("number")]) for r in info["front"]["rows"]) == sorted(
        pareto["number"]
    )
    assert set(info["points"]) == {str(n) for n in result.front.numbers}
    assert [a["name"] for a in info["axes"]][:5] == [
        "accuracy",
        "lut",
        "energy",
        "accuracy_drop",
        "compression_ratio",
    ]


def test_report_is_one_self_contained_file(hardware) -> None:
    _, folder = hardware
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"<(script|img|link|iframe)[^>]+(src|href)=", html, re.I)
    assert html.count("<script") == 3  # the data, Plotly, the page's own script
    assert "<style>" in html and "<link" not in html


def test_report_names_no_host_user_or_folder(hardware) -> None:
    result, folder = hardware
    html = (folder / "report.html").read_text(encoding="utf-8")
    data = json.dumps(embedded_info(html))
    host = socket.gethostname()
    assert not re.search(rf"\b{re.escape(host)}\b", data)  # not even as `host:pid`
    assert str(folder) not in html and str(Path.cwd()) not in html
    user = getpass.getuser()
    if user not in ("root", "user", "runner"):  # too common a word to look for
        assert user not in data
    assert scrub({"output": "/home/ann/runs", "url": "sqlite:////home/ann/s.db"}) == {
        "output": "runs",
        "url": "sqlite://...",
    }
    assert all(r.worker for r in result.records if r.evaluated)  # recorded, but not reported


def test_front_layers_match_the_configurations_and_add_up_to_the_totals(hardware) -> None:
    result, folder = hardware
    layers = pd.read_csv(folder / "front_layers.csv")
    assert set(layers["number"]) == set(result.front.numbers)
    for point in result.front.points:
        rows = layers[layers["number"] == point.number].set_index("layer")
        assert point.configuration is not None
        for name in point.configuration:
            fmt = point.configuration[name].weights
            assert rows.loc[name, "weights_kind"] == fmt.kind
            assert rows.loc[name, "weights_bits"] == storage_bits(fmt)
            if isinstance(fmt, FloatFormat):
                assert rows.loc[name, "weights_exponent_bits"] == fmt.exponent_bits
            elif isinstance(fmt, FixedPoint):
                assert rows.loc[name, "weights_integer_bits"] == fmt.integer_bits
            else:
                assert rows.loc[name, "weights_clusters"] == fmt.clusters
                assert rows.loc[name, "weights_granularity"] == fmt.granularity.name
                assert math.isnan(rows.loc[name, "weights_integer_bits"])  # not a shared field
            assert rows.loc[name, "activations_bits"] == point.configuration[name].activations.bits
        for metric in ("lut", "ff", "dsp", "bram", "latency", "energy"):
            assert rows[metric].sum() == pytest.approx(point.metrics[metric], rel=1e-9)
            if point.metrics[metric] > 0:  # no DSP at all: no share of it either
                assert rows[f"{metric}_share"].sum() == pytest.approx(1.0)
    # The page shows the same rows.
    info = embedded_info((folder / "report.html").read_text(encoding="utf-8"))
    number = result.front.numbers[0]
    shown = info["points"][str(number)]["layers"]
    expected = layers[layers["number"] == number]
    assert [r["layer"] for r in shown] == list(expected["layer"])
    assert [r["lut"] for r in shown] == pytest.approx(list(expected["lut"]))


def test_baselines_are_the_float_model_and_the_uniform_warm_start_trials(bits) -> None:
    result, _ = bits
    marks = baselines(result)
    assert marks[0].label == "float32" and marks[0].number is None
    shapes = result.cost_model.shapes
    float_bits = 32 * sum(s.weights for s in shapes.values())
    assert marks[0].values["weight_bits"] == float_bits
    assert marks[0].values["accuracy"] == result.reference_accuracy
    uniform = {m.label: m for m in marks[1:]}
    assert "uniform 8-bit" in uniform
    record = result.records[uniform["uniform 8-bit"].number]
    assert record.warm_start
    assert {layer.weights.word_length for _, layer in record.configuration.layers} == {8}
    assert uniform["uniform 8-bit"].values["compression_ratio"] == pytest.approx(
        float_bits / record.metrics["weight_bits"]
    )
    # clusters [2, 32]: the warm start's 16 and 32 (64 and 256 clamped to 32), in that order
    assert [m.label for m in marks[2:]] == ["uniform 16 clusters", "uniform 32 clusters"]
    for mark, clusters in zip(marks[2:], (16, 32), strict=True):
        record = result.records[mark.number]
        assert record.warm_start
        shared = {layer.weights for _, layer in record.configuration.layers}
        assert {(type(w).__name__, w.clusters) for w in shared} == {("WeightSharing", clusters)}
        assert mark.values["weight_bits"] == record.metrics["weight_bits"]


def test_uniform_clusters_ignores_weightless_layers_and_accepts_fixed_point_weights() -> None:
    from evaluators import LayerConfig, WeightSharing
    from results._baselines import uniform_clusters

    def of(**layers: LayerConfig) -> Configuration:
        return Configuration.of(layers)

    add = LayerConfig(activations=FixedPoint(16, 6))  # an addition: no weights
    shared = LayerConfig(weights=WeightSharing(32), activations=FixedPoint(16, 6))
    first = LayerConfig(weights=FixedPoint(16, 3))  # a layer that cannot be shared
    assert uniform_clusters(of(conv1=first, conv2=shared, add=add, fc=shared)) == 32
    other = LayerConfig(weights=WeightSharing(16))
    assert uniform_clusters(of(conv2=shared, fc=other)) is None  # two sizes
    assert uniform_clusters(of(conv2=shared, fc=LayerConfig(weights=FloatFormat(4, 3)))) is None
    assert uniform_clusters(of(conv1=first, add=add)) is None  # nothing shared


def test_select_points_filters_the_front_like_pandas(bits) -> None:
    result, folder = bits
    pareto = pd.read_csv(folder / "pareto.csv")
    limit = float(pareto["accuracy_drop"].median())
    kept = select_points(result, where=f"accuracy_drop<={limit}", sort="-weight_bits")
    expected = pareto[pareto["accuracy_drop"] <= limit]
    assert sorted(kept["number"]) == sorted(expected["number"])
    assert list(kept["weight_bits"]) == sorted(kept["weight_bits"], reverse=True)
    best = select_points(result, where=f"accuracy_drop<={limit}", minimize="weight_bits")
    assert list(best["number"]) == [int(expected.loc[expected["weight_bits"].idxmin(), "number"])]
    float_bits = 32 * sum(s.weights for s in result.cost_model.shapes.values())
    ratio = kept["compression_ratio"].to_numpy()
    assert ratio == pytest.approx(float_bits / kept["weight_bits"].to_numpy())


def test_a_running_or_stopped_study_says_so(bits) -> None:
    result, _ = bits
    running = dataclasses.replace(
        result, records=(*result.records, TrialRecord(len(result.records), "RUNNING"))
    )
    status = report_info(running)["study"]
    assert status["state"] == "running" and "still running" in status["message"]
    stopped = dataclasses.replace(result, budget=result.complete + 10)
    status = report_info(stopped)["study"]
    assert status["state"] == "stopped" and "resumes" in status["message"]
    assert report_info(result)["study"]["state"] == "complete"


def test_a_study_with_no_evaluated_trial_yet_still_renders(bits, tmp_path: Path) -> None:
    result, _ = bits
    started = dataclasses.replace(result, records=(TrialRecord(0, "RUNNING"),), rescored={})
    info = embedded_info(write_report(started, tmp_path).read_text(encoding="utf-8"))
    assert info["study"]["state"] == "running" and info["trials"]["number"] == []
    assert [a["name"] for a in info["axes"]][:2] == ["accuracy", "weight_bits"]
    assert info["front"]["rows"] == [] and info["points"] == {}


def test_sensitivity_and_export_command_enter_the_report(bits, tmp_path: Path) -> None:
    result, _ = bits
    (tmp_path / "sensitivity").mkdir()
    pd.DataFrame(
        [
            {"layer": "fc1", "tensor": "weights", "kind": "fixed", "bits": 4,
             "accuracy": 0.9, "accuracy_drop": 0.07, "kl": 0.1},
            {"layer": "fc1", "tensor": "weights", "kind": "shared", "clusters": 8,
             "index_bits": 3, "granularity": "layer", "accuracy": 0.95,
             "accuracy_drop": 0.02, "kl": 0.05},
        ]
    ).to_csv(tmp_path / "sensitivity" / "sensitivity.csv", index=False)  # fmt: skip
    path = write_report(result, tmp_path, study_file="/abs/path/to/my_study.yaml")
    info = embedded_info(path.read_text(encoding="utf-8"))
    assert len(info["sensitivity"]) == 2
    number = result.front.numbers[0]
    assert info["points"][str(number)]["command"] == (
        f"python -m dse export my_study.yaml --trial {number}"
    )
    written = pd.read_csv(tmp_path / "front_layers.csv")
    expected = front_layers(result)
    assert list(written.columns) == list(expected.columns)
    assert list(written["layer"]) == list(expected["layer"])
    assert written["weight_bits"].tolist() == expected["weight_bits"].tolist()
