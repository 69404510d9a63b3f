"""Every file of the shared field reports (issue 11), read to the values its README states.

The folder holds real HLS and Vivado reports of tool versions and layouts the trimmed fixtures
stand in for; each test skips where the folder is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hardware_models import read_report
from tests.hardware_models.test_report import Z7020, _error, _multiset, _res

FIELD_REPORTS = Path(
    os.environ.get(
        "DSE_FIELD_REPORTS", Path(__file__).resolve().parents[3] / "shared" / "field_reports"
    )
)
needs_field = pytest.mark.skipif(
    not FIELD_REPORTS.is_dir(), reason=f"field report folder {FIELD_REPORTS} is absent"
)
_NONE2 = (None, None)
_R01 = {
    "tool": "vitis_hls", "tool_version": "2024.1", "part": "xc7z020-clg400-1",
    "top": "weighted_rr", "target_clock_ns": 10.0, "estimated_clock_ns": 7.3,
    "latency_cycles": (11, 143), "interval": (12, 144), "resources": _res(2496, 1751, 0, 5),
    "available": Z7020,
}  # fmt: skip
_R02 = {
    "tool": "vitis_hls", "tool_version": "2023.2", "resources": _res(9516, 6891, 10, 27),
    "latency_cycles": _NONE2,
}  # fmt: skip
_VU19P = _res(4085760, 8171520, 3840, 4320, 320)
_R07_HLS = {
    "tool": "vivado_hls", "tool_version": "2019.1", "target_clock_ns": 10.0,
    "estimated_clock_ns": 8.75, "latency_cycles": (51, 51), "interval": (48, 48),
}  # fmt: skip
_R08 = {
    "tool": "vivado_hls", "tool_version": "2018.2", "resources": _res(21133, 14744, 80, 3391),
    "latency_cycles": _NONE2, "target_clock_ns": 10.0, "estimated_clock_ns": 8.419,
}  # fmt: skip
_R09 = {
    "tool": "vitis_hls", "tool_version": "2020.1", "resources": _res(5322, 3726, 0, 34),
    "latency_cycles": _NONE2,
}  # fmt: skip
_R11 = {"tool": "vivado_hls", "resources": _res(0, 0, 0, 0), "estimated_clock_ns": 0.0}

# File -> the fields the README states (None: read_report refuses the file).
FIELD_EXPECTED: dict[str, dict | None] = {
    "r01_vitis2024_1_wrr/csynth.xml": _R01,
    "r01_vitis2024_1_wrr/weighted_rr_csynth.xml": _R01,
    "r01_vitis2024_1_wrr/weighted_rr_csynth.rpt": _R01,
    "r01_vitis2024_1_wrr/csynth.rpt": {
        **_R01, "target_clock_ns": None, "estimated_clock_ns": None,
        "latency_cycles": (None, 143), "interval": (None, 144), "available": _res(0, 0, 0, 0),
    },
    "r02_vitis2023_2_systolic/csynth.xml": {
        **_R02, "available": _res(1296000, 2592000, 9216, 4032, 960), "target_clock_ns": 10.0,
    },
    "r02_vitis2023_2_systolic/csynth.rpt": _R02,
    "r06_vivado2020_2_vu19p_util/MPSQ_utilization_synth.rpt": {
        "tool": "vivado", "resources": _res(19707, 22184, 83, 38), "available": _VU19P,
        "complete": True,
    },
    "r06_vivado2020_2_vu19p_util/MPSQ_utilization_placed.rpt": {
        "tool": "vivado", "resources": _res(19004, 22091, 83, 38), "available": _VU19P,
        "complete": True,
    },
    "r07_vivado2019_1_z7020_util/design_1_wrapper_utilization_synth.rpt": {
        "tool": "vivado", "resources": _res(0, 0, 0, 0), "complete": False,
    },
    "r07_vivado2019_1_z7020_util/design_1_wrapper_utilization_placed.rpt": {
        "tool": "vivado", "resources": _res(12694, 11151, 4, 1), "complete": True,
    },
    "r07_vivado2019_1_z7020_util/design_1_wrapper_clock_utilization_routed.rpt": None,
    "r07_vivado2019_1_z7020_util/mabonsoc_csynth.rpt": _R07_HLS,
    "r07_vivado2019_1_z7020_util/mabonsoc_csynth.xml": _R07_HLS,
    "r08_vivadohls2018_2_rpt/c_mnist_csynth.rpt": _R08,
    "r08_vivadohls2018_2_rpt/c_mnist_csynth.xml": _R08,
    "r09_hls2020_1_zu7ev/VecDotProduct_csynth.rpt": _R09,
    "r09_hls2020_1_zu7ev/VecDotProduct_csynth.xml": _R09,
    "r11_vivadohls2018_2_small_xml/csynth_xa7a12t.xml": _R11,
    "r11_vivadohls2018_2_small_xml/csynth_xcvu9p.xml": _R11,
}  # fmt: skip


@needs_field
def test_every_field_report_is_covered() -> None:
    present = {
        str(p.relative_to(FIELD_REPORTS))
        for p in FIELD_REPORTS.rglob("*")
        if p.suffix in (".xml", ".rpt")
    }
    assert present == set(FIELD_EXPECTED)


@needs_field
@pytest.mark.parametrize("name", sorted(FIELD_EXPECTED))
def test_field_report_values(name: str) -> None:
    path = FIELD_REPORTS / name
    if not path.is_file():
        pytest.skip(f"{name} is not in {FIELD_REPORTS}")
    expected = FIELD_EXPECTED[name]
    if expected is None:
        assert "not a report_utilization one" in _error(path).reason
        return
    report = read_report(path)
    for field, value in expected.items():
        assert getattr(report, field) == value, field
    assert report.warnings == ()
    assert all(o.kind for o in report.operators)  # no operator without a kind (r02 adapter)


@needs_field
def test_field_r02_adapter_and_modules() -> None:
    for suffix in ("xml", "rpt"):
        report = read_report(FIELD_REPORTS / f"r02_vitis2023_2_systolic/csynth.{suffix}")
        assert len(report.modules) == 3
        assert "control_s_axi_U" not in {o.name for o in report.operators}
        assert "control_s_axi_U" not in {m.name for m in report.memories}
        assert (len(report.operators), len(report.memories)) == (83, 24)


@needs_field
@pytest.mark.parametrize(
    "stem",
    [
        "r01_vitis2024_1_wrr/csynth",
        "r02_vitis2023_2_systolic/csynth",
        "r01_vitis2024_1_wrr/weighted_rr_csynth",
        "r07_vivado2019_1_z7020_util/mabonsoc_csynth",
        "r08_vivadohls2018_2_rpt/c_mnist_csynth",
        "r09_hls2020_1_zu7ev/VecDotProduct_csynth",
    ],
)
def test_field_rpt_matches_its_xml_twin(stem: str) -> None:
    rpt = read_report(FIELD_REPORTS / f"{stem}.rpt")
    xml = read_report(FIELD_REPORTS / f"{stem}.xml")
    for field in ("tool", "tool_version", "part", "top", "resources"):
        assert getattr(rpt, field) == getattr(xml, field), field
    if rpt.target_clock_ns is None:  # the Synthesis Summary: worst cases only
        assert rpt.latency_cycles is not None and xml.latency_cycles is not None
        assert rpt.latency_cycles[1] == xml.latency_cycles[1]
        assert _multiset(rpt.operators) == _multiset(xml.operators)
        assert _multiset(rpt.memories) == _multiset(xml.memories)
        assert sorted(m.name for m in rpt.modules) == sorted(m.name for m in xml.modules)
    else:
        for field in ("target_clock_ns", "estimated_clock_ns", "latency_cycles", "interval"):
            assert getattr(rpt, field) == getattr(xml, field), field
        assert rpt.available == xml.available


@needs_field
def test_field_r09_detail_counts() -> None:
    report = read_report(FIELD_REPORTS / "r09_hls2020_1_zu7ev/VecDotProduct_csynth.rpt")
    assert (len(report.modules), len(report.operators), len(report.memories)) == (12, 11, 8)
    assert report.available["URAM"] == 96
    assert report.interval == (None, None)


@needs_field
def test_field_r11_available_dsp() -> None:
    xcvu9p = read_report(FIELD_REPORTS / "r11_vivadohls2018_2_small_xml/csynth_xcvu9p.xml")
    assert xcvu9p.available["DSP"] == 6840
    xa7a12t = read_report(FIELD_REPORTS / "r11_vivadohls2018_2_small_xml/csynth_xa7a12t.xml")
    assert xa7a12t.estimated_clock_ns == 0.0


@needs_field
def test_field_r07_black_boxes() -> None:
    report = read_report(
        FIELD_REPORTS / "r07_vivado2019_1_z7020_util/design_1_wrapper_utilization_synth.rpt"
    )
    assert report.incomplete_reason is not None
    assert report.incomplete_reason.startswith("section 'Black Boxes' lists 4 black box(es)")
