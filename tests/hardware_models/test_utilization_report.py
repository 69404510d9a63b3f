"""Tests of the Vivado report_utilization reader: black boxes, SLR tables, other reports."""

from __future__ import annotations

import json
from pathlib import Path

from hardware_models import HlsReport, read_report
from tests.hardware_models.test_report import FIXTURES, _error, _res, _write


def test_black_boxes_make_a_utilization_report_incomplete() -> None:
    # r07: the wrapper's synthesis lists every IP, the HLS core included, as a black box.
    report = read_report(FIXTURES / "vivado_2019_blackbox_utilization_synth.rpt")
    assert report.resources == _res(0, 0, 0, 0)
    assert report.available == _res(53200, 106400, 220, 280)
    assert report.complete is False
    assert report.incomplete_reason is not None
    assert report.incomplete_reason.startswith("section 'Black Boxes' lists 4 black box(es)")
    assert "design_1_mabonsoc_0_5" in report.incomplete_reason
    again = HlsReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert (again.complete, again.incomplete_reason) == (False, report.incomplete_reason)


def test_out_of_context_wrapper_without_logic_is_incomplete(tmp_path: Path) -> None:
    text = (FIXTURES / "vivado_2019_blackbox_utilization_synth.rpt").read_text()
    for name in ("design_1_rst_ps7_0_100M_2 ", "design_1_processing_system7_0_0",
                 "design_1_mabonsoc_0_5 ", "design_1_auto_pc_0 "):  # fmt: skip
        line = next(line for line in text.splitlines() if name in line)
        text = text.replace(line + "\n", "")
    report = read_report(_write(tmp_path, text, "wrapper_utilization_synth.rpt"))
    assert report.complete is False
    assert report.incomplete_reason is not None
    assert report.incomplete_reason.startswith("section 'Primitives' lists no cell")


def test_complete_utilization_reports() -> None:
    for name in ("toy_utilization_synth.rpt", "vivado_2020_slr_utilization_synth.rpt"):
        report = read_report(FIXTURES / name)
        assert (report.complete, report.incomplete_reason) == (True, None)


def test_slr_table_zeros_are_not_totals() -> None:
    # r06: VU19P (4 SLRs); section 13 repeats "CLB LUTs", "DSPs"... with per-SLR counts 0.
    report = read_report(FIXTURES / "vivado_2020_slr_utilization_synth.rpt")
    assert report.resources == _res(19707, 22184, 83, 2 * 17 + 4)
    assert report.available == _res(4085760, 8171520, 3840, 4320, 320)


def test_clock_utilization_report_is_refused() -> None:
    error = _error(FIXTURES / "vivado_2019_clock_utilization_routed.rpt")
    assert error.reason == (
        "a Vivado report_clock_utilization report, not a report_utilization one: it holds no "
        "resource counts of the design"
    )
