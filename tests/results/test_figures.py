"""Publishable trade-off figures: units, baselines, colour-blind-safe overlays, hypervolumes
from one shared reference point, PNG/SVG/PDF files."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_hex

from dse import Problem, minimize
from evaluators import Workload
from results import (
    ResultsError,
    StudyResult,
    TradeoffDisplay,
    TradeoffInfo,
    baselines,
)
from tests.results.test_report import hardware_study, weight_bits_study

OKABE_ITO = {"#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442"}


@pytest.fixture(scope="module")
def bits(lenet_workload: Workload, tmp_path_factory: pytest.TempPathFactory) -> StudyResult:
    return weight_bits_study(lenet_workload, tmp_path_factory)[0]


@pytest.fixture(scope="module")
def random_bits(lenet_workload: Workload, bits: StudyResult) -> StudyResult:
    """The same problem searched by random sampling: the study to compare with."""
    data = lenet_workload.data
    problem = Problem.from_model(
        lenet_workload.model,
        train=data.train,
        validation=data.validation,
        search_space={
            "weights": {"kinds": ["fixed", "shared"], "bits": [2, 8], "clusters": [2, 32]}
        },
        evaluator={"rescore_front": False},
        name="report_bits_random",
    )
    return minimize(problem, "random", budget=16, seed=1)


def test_one_study_in_the_units_a_reader_expects(bits: StudyResult) -> None:
    info = TradeoffInfo.from_results([bits], "weight_bits", "accuracy")
    assert info.x_label == "weight memory (kbit)" and info.y_label == "accuracy (%)"
    (series,) = info.series
    table = bits.table[(bits.table["state"] == "COMPLETE") & bits.table["feasible"]]
    assert sorted(series.x) == pytest.approx(sorted(table["weight_bits"] / 1e3))
    assert sorted(series.y) == pytest.approx(sorted(table["accuracy"] * 100))
    # Two objectives: the 2-D front is the study's front, best x (fewest bits) first.
    assert len(series.front_x) == len(bits.front)
    assert list(series.front_x) == sorted(series.front_x)
    labels = [b[0] for b in info.baselines]
    assert labels[0] == "float32" and "uniform 8-bit" in labels
    float32 = baselines(bits)[0].values
    assert info.baselines[0][1:] == pytest.approx(
        (float32["weight_bits"] / 1e3, float32["accuracy"] * 100)
    )
    assert series.hypervolume == pytest.approx(bits.hypervolume())


def test_studies_overlaid_share_one_reference_point(
    bits: StudyResult, random_bits: StudyResult
) -> None:
    info = TradeoffInfo.from_results(
        [bits, random_bits], "weight_bits", "accuracy", labels=["NSGA-II", "random"]
    )
    assert info.hypervolume_names == ("accuracy", "weight_bits")
    worst = np.array([bits.reference_point, random_bits.reference_point])
    assert info.reference == pytest.approx((worst[:, 0].min(), worst[:, 1].max()))
    for series, result in zip(info.series, (bits, random_bits), strict=True):
        assert series.hypervolume == pytest.approx(result.front.hypervolume(info.reference))
    display = TradeoffDisplay(info).plot()
    legend = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert legend[0].startswith("NSGA-II, HV ") and legend[1].startswith("random, HV ")
    colours = {to_hex(line.get_color()) for line in display.ax_.get_lines()}
    markers = {line.get_marker() for line in display.ax_.get_lines()}
    assert colours <= OKABE_ITO and len(colours) == 2 and len(markers) == 2


def test_studies_with_other_objectives_compare_on_the_two_axes(
    bits: StudyResult, lenet_workload: Workload, tmp_path_factory: pytest.TempPathFactory
) -> None:
    hardware, _ = hardware_study(lenet_workload, tmp_path_factory)
    info = TradeoffInfo.from_results([hardware, bits], "weight_bits", "accuracy_drop")
    assert info.hypervolume_names == ("weight_bits", "accuracy_drop")
    assert info.y_label == "accuracy drop vs float32 (pp)"
    assert all(s.hypervolume is not None and s.hypervolume > 0 for s in info.series)


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_figure_files(bits: StudyResult, tmp_path, fmt: str) -> None:
    display = TradeoffDisplay.from_results([bits], "compression_ratio", "accuracy_drop")
    path = display.save(tmp_path / f"front.{fmt}")
    data = path.read_bytes()
    assert len(data) > 5_000
    if fmt == "svg":
        text = data.decode()
        assert "weight compression vs float32 (x)" in text and "<dc:date>" not in text
    if fmt == "pdf":
        assert data.startswith(b"%PDF") and b"CreationDate" not in data
    with pytest.raises(ResultsError, match="--format: expected one of png, svg, pdf"):
        display.save(tmp_path / "front.jpg")


def test_unknown_axis_lists_the_valid_names(bits: StudyResult) -> None:
    with pytest.raises(ResultsError) as caught:
        TradeoffInfo.from_results([bits], "lut", "accuracy")
    assert str(caught.value) == (
        "--x: unknown name 'lut' for study 'report_bits'; valid names: accuracy, "
        "accuracy_drop, compression_ratio, weight_bits"
    )
