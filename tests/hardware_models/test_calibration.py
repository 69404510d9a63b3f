"""Tests of HlsCalibration: the real hls4ml pair, own fixtures, the estimator contract."""

from __future__ import annotations

import copy
import json
import math
import os
import pickle
from pathlib import Path

import pytest

from hardware_models import (
    HardwareModelError,
    HlsCalibration,
    NotFittedError,
    read_report,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_REPORTS = Path(
    os.environ.get(
        "DSE_HLS_REPORTS", Path(__file__).resolve().parents[3] / "shared" / "hls_reports"
    )
)
HLS4ML_HLS = "fastmachinelearning__hls4ml__myproject_csynth_vivadohls2020.1_xc7z020.xml"
HLS4ML_SYNTH = "fastmachinelearning__hls4ml__vivado_synth_util_vivado2020.1_xc7z020.rpt"


@pytest.mark.skipif(
    not (SHARED_REPORTS / HLS4ML_SYNTH).is_file(), reason="shared hls4ml reports are absent"
)
def test_hls4ml_pair() -> None:
    hls = read_report(SHARED_REPORTS / HLS4ML_HLS)
    synth = read_report(SHARED_REPORTS / HLS4ML_SYNTH)
    calibration = HlsCalibration().fit([(hls, synth)])
    assert calibration.factors_["LUT"] == pytest.approx(1526 / 2532)  # ~0.60
    assert calibration.factors_["FF"] == pytest.approx(2428 / 7969)  # ~0.30
    assert calibration.factors_["DSP"] == pytest.approx(66 / 73)
    assert calibration.factors_["BRAM_18K"] == 1.0  # HLS 0: no information
    assert calibration.methods_ == {
        "LUT": "log_mean",
        "FF": "log_mean",
        "DSP": "log_mean",
        "BRAM_18K": "none",
        "URAM": "none",
    }
    corrected = calibration.apply(hls.resources)
    assert corrected["LUT"] == pytest.approx(1526)
    assert corrected["FF"] == pytest.approx(2428)
    assert calibration.relative_error_["LUT"] == pytest.approx(0.0, abs=1e-12)


def test_own_fixture_pair() -> None:
    hls = read_report(FIXTURES / "vivado_hls_2020_csynth.xml")
    synth = read_report(FIXTURES / "toy_utilization_synth.rpt")
    calibration = HlsCalibration(("LUT", "FF", "DSP", "BRAM_18K")).fit([(hls, synth)])
    assert calibration.factors_ == pytest.approx(
        {"LUT": 1210 / 2000, "FF": 1015 / 3000, "DSP": 10 / 12, "BRAM_18K": 5 / 4}
    )
    assert calibration.n_pairs_ == {"LUT": 1, "FF": 1, "DSP": 1, "BRAM_18K": 1}


def test_least_squares_through_origin_with_enough_pairs() -> None:
    pairs = [
        ({"LUT": 100}, {"LUT": 60}),
        ({"LUT": 200}, {"LUT": 110}),
        ({"LUT": 400}, {"LUT": 250}),
    ]
    calibration = HlsCalibration(("LUT",)).fit(pairs)
    expected = (100 * 60 + 200 * 110 + 400 * 250) / (100**2 + 200**2 + 400**2)
    assert calibration.methods_["LUT"] == "lstsq"
    assert calibration.factors_["LUT"] == pytest.approx(expected)
    assert calibration.residuals_["LUT"] == pytest.approx(
        (60 - expected * 100, 110 - expected * 200, 250 - expected * 400)
    )
    errors = [abs(expected * h - s) / s for h, s in ((100, 60), (200, 110), (400, 250))]
    assert calibration.relative_error_["LUT"] == pytest.approx(sum(errors) / 3)


def test_log_mean_with_few_pairs() -> None:
    pairs = [({"FF": 100}, {"FF": 50}), ({"FF": 100}, {"FF": 200})]
    calibration = HlsCalibration(("FF",), min_pairs=3).fit(pairs)
    assert calibration.methods_["FF"] == "log_mean"
    assert calibration.factors_["FF"] == pytest.approx(1.0)  # geometric mean of 0.5 and 2


def test_zero_synthesis_count_falls_back_to_least_squares() -> None:
    calibration = HlsCalibration(("DSP",)).fit(
        [({"DSP": 4}, {"DSP": 0}), ({"DSP": 2}, {"DSP": 2})]
    )
    assert calibration.methods_["DSP"] == "lstsq"
    assert calibration.factors_["DSP"] == pytest.approx((4 * 0 + 2 * 2) / (4**2 + 2**2))
    assert calibration.relative_error_["DSP"] == pytest.approx(abs(0.2 * 2 - 2) / 2)


def test_zero_factor_is_refused() -> None:
    # Every post-synthesis count 0 would zero the resource in every corrected design.
    with pytest.raises(HardwareModelError) as info:
        HlsCalibration(("DSP",)).fit([({"DSP": 4}, {"DSP": 0})])
    message = str(info.value)
    assert message.startswith("HlsCalibration.fit: refusing factor 0.0 for 'DSP': every ")
    assert "leave 'DSP' out of resources" in message and "\n" not in message


def test_missing_key_is_no_information_not_zero() -> None:
    calibration = HlsCalibration(("LUT", "DSP")).fit([({"LUT": 1000, "DSP": 10}, {"LUT": 500})])
    assert calibration.factors_ == {"LUT": 0.5, "DSP": 1.0}
    assert calibration.methods_["DSP"] == "none"


@pytest.mark.parametrize("factor", [0.0, -1.0, math.nan, math.inf])
def test_from_dict_refuses_zero_and_non_finite_factors(factor: float) -> None:
    data = HlsCalibration(("LUT",)).fit([({"LUT": 10}, {"LUT": 5})]).to_dict()
    with pytest.raises(HardwareModelError, match="from_dict: refusing factor"):
        HlsCalibration.from_dict({**data, "factors_": {"LUT": factor}})


def test_black_box_synthesis_report_is_refused() -> None:
    # r07: the wrapper's synthesis utilization prints 0 everywhere (IPs as black boxes).
    hls = read_report(FIXTURES / "vivado_hls_2019_mabonsoc_csynth.xml")
    synth = read_report(FIXTURES / "vivado_2019_blackbox_utilization_synth.rpt")
    with pytest.raises(HardwareModelError) as info:
        HlsCalibration().fit([(hls, synth)])
    message = str(info.value)
    assert message.startswith("HlsCalibration.fit: pair 0 synth: ")
    assert "does not count its whole design: section 'Black Boxes' lists 4" in message
    assert "\n" not in message


@pytest.mark.skipif(
    not (SHARED_REPORTS.parent / "field_reports").is_dir(), reason="field reports are absent"
)
def test_field_black_box_pair_is_refused() -> None:
    folder = SHARED_REPORTS.parent / "field_reports" / "r07_vivado2019_1_z7020_util"
    hls = read_report(folder / "mabonsoc_csynth.xml")
    synth = read_report(folder / "design_1_wrapper_utilization_synth.rpt")
    with pytest.raises(HardwareModelError, match="section 'Black Boxes'"):
        HlsCalibration().fit([(hls, synth)])


def test_constructor_stores_parameters_unchanged() -> None:
    resources = ["LUT", "FF"]
    calibration = HlsCalibration(resources, min_pairs=5)
    assert calibration.resources is resources
    assert calibration.min_pairs == 5
    assert not hasattr(calibration, "factors_")
    assert repr(calibration) == "HlsCalibration(resources=['LUT', 'FF'], min_pairs=5)"


def test_fit_returns_self_and_leaves_inputs_untouched() -> None:
    pairs = [({"LUT": 10, "FF": 20}, {"LUT": 5, "FF": 4})]
    before = copy.deepcopy(pairs)
    calibration = HlsCalibration(("LUT", "FF"))
    assert calibration.fit(pairs) is calibration
    assert pairs == before
    resources = {"LUT": 100, "FF": 100, "CARRY8": 3}
    assert calibration.apply(resources) == {"LUT": 50.0, "FF": 20.0, "CARRY8": 3.0}
    assert resources == {"LUT": 100, "FF": 100, "CARRY8": 3}


def test_not_fitted() -> None:
    calibration = HlsCalibration()
    for action in (lambda: calibration.apply({"LUT": 1}), calibration.to_dict):
        with pytest.raises(NotFittedError, match="not fitted"):
            action()
    assert issubclass(NotFittedError, HardwareModelError)
    assert issubclass(NotFittedError, AttributeError)


def test_json_round_trip_and_pickle() -> None:
    pairs = [({"LUT": 100, "DSP": 4}, {"LUT": 60, "DSP": 2})]
    calibration = HlsCalibration(("LUT", "DSP", "URAM")).fit(pairs)
    data = json.loads(json.dumps(calibration.to_dict()))
    assert data["version"] == 1
    again = HlsCalibration.from_dict(data)
    assert again.factors_ == calibration.factors_
    assert again.methods_ == calibration.methods_
    assert again.residuals_ == calibration.residuals_
    assert again.apply({"LUT": 10}) == calibration.apply({"LUT": 10})
    assert pickle.loads(pickle.dumps(calibration)).factors_ == calibration.factors_
    with pytest.raises(HardwareModelError, match="unsupported version"):
        HlsCalibration.from_dict({**data, "version": 2})


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([], "no \\(hls, synth\\) pairs"),
        ([({"LUT": 1},)], "pair 0 must be \\(hls, synth\\)"),
        ([({"LUT": -1}, {"LUT": 1})], "pair 0 hls\\['LUT'\\]: expected a count >= 0"),
        ([({"LUT": 1}, {"LUT": "many"})], "pair 0 synth\\['LUT'\\]"),
        ([({"LUT": 1}, {"LUT": float("nan")})], "pair 0 synth\\['LUT'\\]"),
        ([({"LUT": 1}, 3)], "expected an HlsReport or a mapping"),
    ],
)
def test_invalid_pairs(pairs: list, message: str) -> None:
    with pytest.raises(HardwareModelError, match=message):
        HlsCalibration().fit(pairs)


def test_reports_in_the_wrong_roles() -> None:
    hls = read_report(FIXTURES / "vivado_hls_2020_csynth.xml")
    synth = read_report(FIXTURES / "toy_utilization_synth.rpt")
    with pytest.raises(HardwareModelError, match="expected a hls_estimate report"):
        HlsCalibration().fit([(synth, hls)])


def test_invalid_parameters_fail_at_fit_not_construction() -> None:
    HlsCalibration("LUT", min_pairs=0)  # the constructor stores, it does not validate
    with pytest.raises(HardwareModelError, match="resources must be a sequence"):
        HlsCalibration("LUT").fit([({"LUT": 1}, {"LUT": 1})])
    with pytest.raises(HardwareModelError, match="min_pairs must be an integer >= 1, got 0"):
        HlsCalibration(min_pairs=0).fit([({"LUT": 1}, {"LUT": 1})])
