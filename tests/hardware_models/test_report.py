"""Tests of read_report over real tool reports, own fixtures and malformed or hostile files."""

from __future__ import annotations

import json
import os
import pickle
import sys
from pathlib import Path

import pytest

from hardware_models import (
    RESOURCE_KEYS,
    HardwareModelError,
    HlsReport,
    OperatorRow,
    ReportError,
    read_report,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: Fixtures that read_report refuses on purpose, each with its own test below.
REFUSED_FIXTURES = {"vivado_2019_clock_utilization_routed.rpt"}  # not a utilization report
READABLE_FIXTURES = sorted(
    p.name for p in FIXTURES.iterdir() if p.is_file() and p.name not in REFUSED_FIXTURES
)
SHARED_REPORTS = Path(
    os.environ.get(
        "DSE_HLS_REPORTS", Path(__file__).resolve().parents[3] / "shared" / "hls_reports"
    )
)
needs_shared = pytest.mark.skipif(
    not SHARED_REPORTS.is_dir(), reason=f"shared report folder {SHARED_REPORTS} is absent"
)


def _res(lut: int, ff: int, dsp: int, bram: int, uram: int = 0) -> dict[str, int]:
    return {"LUT": lut, "FF": ff, "DSP": dsp, "BRAM_18K": bram, "URAM": uram}


Z7020 = _res(53200, 106400, 220, 280)
K26 = _res(117120, 234240, 1248, 288, 64)

# File -> (tool, version, part, top, target ns, estimated ns, latency, interval, resources,
# available), each value as the report itself states it (see the folder's README.md).
SHARED_EXPECTED: dict[str, tuple] = {
    "fastmachinelearning__hls4ml__myproject_csynth_vivadohls2020.1_xc7z020.xml": (
        "vivado_hls", "2020.1", "xc7z020-clg400-1", "myproject", 5.0, 4.049, (10, 10), (8, 8),
        _res(2532, 7969, 73, 0), Z7020,
    ),
    "fastmachinelearning__hls4ml__myproject_csynth_vivadohls2020.1_xc7z020.rpt": (
        "vivado_hls", "2020.1", "xc7z020-clg400-1", "myproject", 5.0, 4.049, (10, 10), (8, 8),
        _res(2532, 7969, 73, 0), Z7020,
    ),
    "fastmachinelearning__hls4ml__vivado_synth_util_vivado2020.1_xc7z020.rpt": (
        "vivado", "2020.1", "7z020clg400-1", "myproject", None, None, None, None,
        _res(1526, 2428, 66, 0), Z7020,
    ),
    "tony2278__Xilinx-Vivado-HLS__hls_sobel_csynth_vivadohls2018.3_xa7a12t.xml": (
        "vivado_hls", "2018.3", "xa7a12tcsg325-1q", "hls_sobel", 10.0, 8.144, (160, 2089114),
        (159, 2089113), _res(4546, 1680, 0, 9), _res(8000, 16000, 40, 40),
    ),
    "aa08453__CNN-on-FPGA__conv1_csynth_vivadohls2020.1_xc7z020.xml": (
        "vivado_hls", "2020.1", "xc7z020-clg484-1", "conv1", 10.0, 8.75, (64312, 64312),
        (64312, 64312), _res(2812, 1380, 0, 1), Z7020,
    ),
    "aa08453__CNN-on-FPGA__conv1_csynth_vivadohls2020.1_xc7z020.rpt": (
        "vivado_hls", "2020.1", "xc7z020-clg484-1", "conv1", 10.0, 8.75, (64312, 64312),
        (64312, 64312), _res(2812, 1380, 0, 1), Z7020,
    ),
    "YanLunHuang__hls4ml_layer__conv_2d_cl_me_csynth_vivadohls2019.2_xczu9eg.rpt": (
        "vivado_hls", "2019.2", "xczu9eg-ffvb1156-2-e",
        "conv_2d_cl_me_ap_fixed_ap_fixed_16_14_5_3_0_config2_s", 5.0, 4.127, (401, 15051),
        (401, 15051), _res(3078, 2918, 1, 8), _res(274080, 548160, 2520, 1824),
    ),
    "ayumiohno__mnist_depthwise_hls__csynth_top_vitishls2022.1_xck26.xml": (
        "vitis_hls", "2022.1", "xck26-sfvc784-2LV-c", "MNIST", 10.0, 7.331, (1735, 1735),
        (1297, 1297), _res(28240, 30761, 156, 30), K26,
    ),
    "ayumiohno__mnist_depthwise_hls__DepthwiseConv2d_px_csynth_vitishls2022.1_xck26.xml": (
        "vitis_hls", "2022.1", "xck26-sfvc784-2LV-c", "DepthwiseConv2d_28_10_1_3_Pipeline_px",
        10.0, 7.016, (70, 70), (70, 70), _res(1798, 2483, 15, 0), K26,
    ),
    "ayumiohno__mnist_depthwise_hls__DepthwiseConv2d_px_csynth_vitishls2022.1_xck26.rpt": (
        "vitis_hls", "2022.1", "xck26-sfvc784-2LV-c", "DepthwiseConv2d_28_10_1_3_Pipeline_px",
        10.0, 7.016, (70, 70), (70, 70), _res(1798, 2483, 15, 0), K26,
    ),
}  # fmt: skip


# --- the shared folder of real reports ------------------------------------------------------


@needs_shared
def test_every_shared_report_is_covered() -> None:
    present = {p.name for p in SHARED_REPORTS.iterdir() if p.suffix in (".xml", ".rpt")}
    assert present <= set(SHARED_EXPECTED), present - set(SHARED_EXPECTED)


@needs_shared
@pytest.mark.parametrize("name", sorted(SHARED_EXPECTED))
def test_shared_report_values(name: str) -> None:
    path = SHARED_REPORTS / name
    if not path.is_file():
        pytest.skip(f"{name} is not in {SHARED_REPORTS}")
    report = read_report(path)
    tool, version, part, top, target, estimated, latency, interval, used, available = (
        SHARED_EXPECTED[name]
    )
    assert report.path == path
    assert (report.tool, report.tool_version, report.part, report.top) == (
        tool,
        version,
        part,
        top,
    )
    assert report.target_clock_ns == target
    assert report.estimated_clock_ns == estimated
    assert report.latency_cycles == latency
    assert report.interval == interval
    assert report.resources == used
    assert report.available == available
    expected_kind = "post_synthesis" if tool == "vivado" else "hls_estimate"
    assert report.utilization_kind == expected_kind


@needs_shared
def test_hls4ml_rpt_instances_are_modules() -> None:
    report = read_report(
        SHARED_REPORTS
        / "fastmachinelearning__hls4ml__myproject_csynth_vivadohls2020.1_xc7z020.rpt"
    )
    dense = next(m for m in report.modules if m.name.startswith("dense_array"))
    assert dense.resources == _res(2134, 7860, 73, 0)
    assert dense.latency_cycles == (7, 7)
    assert dense.interval == (7, 7)
    assert dense.instance == "dense_array_array_ap_fixed_16_6_5_3_0_5u_config2_U0"
    assert sum(m.resources["LUT"] for m in report.modules) == 2390  # the Instance Total row
    assert [m.kind for m in report.memories] == ["fifo"] * 5


@needs_shared
def test_expression_rows_give_operator_costs() -> None:
    report = read_report(
        SHARED_REPORTS / "aa08453__CNN-on-FPGA__conv1_csynth_vivadohls2020.1_xc7z020.rpt"
    )
    by_name = {o.name: o for o in report.operators}
    assert by_name["add_ln1117_72_fu_1478_p2"] == OperatorRow(
        "add_ln1117_72_fu_1478_p2", "add", (34, 34), 41, 0, 0, 0, "fabric"
    )
    assert by_name["mul_ln1118_fu_1771_p2"].kind == "mul"
    assert by_name["mul_ln1118_fu_1771_p2"].bit_widths == (8, 8)
    assert by_name["mul_ln1118_fu_1771_p2"].lut == 41
    assert by_name["sub_ln38_fu_767_p2"].kind == "sub"
    # The Expression Total row (2128 LUT) is a sum, not an operator.
    assert "Total" not in by_name
    assert sum(o.lut or 0 for o in report.operators) == 2128
    (memory,) = report.memories
    assert (memory.name, memory.words, memory.bits, memory.bram_18k) == ("temp_V_U", 784, 8, 1)


@needs_shared
def test_vitis_instance_table_operator_cores() -> None:
    report = read_report(
        SHARED_REPORTS
        / "ayumiohno__mnist_depthwise_hls__DepthwiseConv2d_px_csynth_vitishls2022.1_xck26.rpt"
    )
    fadd = next(o for o in report.operators if o.kind == "fadd")
    fmul = next(o for o in report.operators if o.kind == "fmul")
    assert (fadd.bit_widths, fadd.latency, fadd.dsp, fadd.ff, fadd.lut) == (
        (32, 32),
        4,
        2,
        227,
        214,
    )
    assert (fmul.bit_widths, fmul.latency, fmul.dsp, fmul.ff, fmul.lut) == (
        (32, 32),
        3,
        3,
        128,
        135,
    )
    assert report.modules == ()  # every instance is an operator core


@needs_shared
def test_vitis_top_xml_module_information_and_bind_nodes() -> None:
    report = read_report(
        SHARED_REPORTS / "ayumiohno__mnist_depthwise_hls__csynth_top_vitishls2022.1_xck26.xml"
    )
    assert len(report.modules) == 57
    top = next(m for m in report.modules if m.name == "MNIST")
    assert top.resources == _res(28244, 30761, 156, 30)
    assert top.latency_cycles == (1735, 1735)
    assert len(report.operators) == 283  # BINDTYPE="op"
    assert len(report.memories) == 50  # BINDTYPE="storage"
    fmul = [o for o in report.operators if o.kind == "fmul"]
    assert len(fmul) == 87
    assert {(o.bit_widths, o.impl, o.dsp, o.latency) for o in fmul} == {((32, 32), "maxdsp", 3, 2)}
    assert all(o.module is not None for o in report.operators)


# --- own fixtures ---------------------------------------------------------------------------


def test_fixture_vivado_hls_2020_xml() -> None:
    report = read_report(FIXTURES / "vivado_hls_2020_csynth.xml")
    assert report.tool == "vivado_hls"
    assert report.tool_version == "2020.1"
    assert report.part == "xczu3eg-sbva484-1-e"
    assert report.top == "toy"
    assert report.target_clock_ns == 5.0
    assert report.estimated_clock_ns == 3.912
    assert report.latency_cycles == (12, 16)
    assert report.interval == (13, 17)
    assert report.resources == _res(2000, 3000, 12, 4)
    assert report.available == _res(70560, 141120, 360, 432)
    assert report.utilization() == pytest.approx(
        {"LUT": 2000 / 70560, "FF": 3000 / 141120, "DSP": 12 / 360, "BRAM_18K": 4 / 432,
         "URAM": None}
    )  # fmt: skip


def test_fixture_2018_without_uram_undef_and_reordered() -> None:
    report = read_report(FIXTURES / "vivado_hls_2018_reordered_csynth.xml")
    assert report.tool == "vivado_hls"
    assert report.tool_version == "2018.3"
    assert report.part == "xc7a12tcsg325-1"
    assert report.top == "sobel"
    assert report.latency_cycles == (160, None)
    assert report.interval == (159, None)
    assert report.resources == _res(4546, 1680, 3, 9, 0)
    assert report.available == _res(8000, 16000, 40, 40, 0)
    assert tuple(report.resources) == RESOURCE_KEYS


def test_fixture_vitis_2022_module_information() -> None:
    report = read_report(FIXTURES / "vitis_hls_2022_top_csynth.xml")
    assert report.tool == "vitis_hls"
    assert report.tool_version == "2022.2"
    assert report.resources == _res(1100, 900, 5, 2, 1)
    assert report.latency_cycles == (120, 130)
    assert report.interval == (100, 110)
    pipeline, top = report.modules
    assert pipeline.name == "conv_Pipeline_px"
    assert pipeline.resources == _res(800, 700, 5, 0)  # AVAIL_*/UTIL_* ignored
    assert pipeline.latency_cycles == (70, None)
    assert pipeline.interval == (70, 70)
    assert top.resources["URAM"] == 1
    add, fadd, fmul = report.operators
    assert add == OperatorRow(
        "add_ln75_fu_291_p2", "add", (), None, None, 0, 0, "fabric", "conv_Pipeline_px"
    )
    assert (fadd.kind, fadd.bit_widths, fadd.dsp, fadd.latency, fadd.impl) == (
        "fadd",
        (32, 32),
        2,
        3,
        "fulldsp",
    )
    assert (fmul.kind, fmul.dsp) == ("fmul", 3)
    weights, frame = report.memories
    assert (weights.kind, weights.bram_18k, weights.impl, weights.module) == (
        "ram_s2p",
        2,
        "bram",
        "net",
    )
    assert (frame.uram, frame.impl) == (1, "uram")


def test_fixture_csynth_rpt_tables() -> None:
    report = read_report(FIXTURES / "toy_csynth.rpt")
    assert report.tool == "vitis_hls"
    assert report.tool_version == "2022.1"
    assert report.part == "xczu3eg-sbva484-1-e"
    assert report.top == "toy"
    assert (report.target_clock_ns, report.estimated_clock_ns) == (5.0, 3.912)
    assert report.latency_cycles == (12, None)  # "?" is undefined
    assert report.interval == (13, None)
    assert report.resources == _res(492, 350, 3, 1)
    assert report.available == _res(70560, 141120, 360, 432)
    (relu,) = report.modules
    assert (relu.name, relu.instance) == ("relu", "grp_relu_fu_40")
    assert relu.resources == _res(186, 73, 0, 0)
    assert (relu.latency_cycles, relu.interval) == ((2, 3), (2, 3))
    operators = {o.name: o for o in report.operators}
    assert operators["fadd_32ns_32ns_32_4_full_dsp_1_U1"] == OperatorRow(
        "fadd_32ns_32ns_32_4_full_dsp_1_U1", "fadd", (32, 32), 214, 227, 2, 4, "full_dsp"
    )
    assert operators["mul_8s_8s_16_1_1_U2"] == OperatorRow(
        "mul_8s_8s_16_1_1_U2", "mul", (8, 8), 0, 0, 1, 1, None
    )
    assert operators["add_ln12_fu_100_p2"] == OperatorRow(
        "add_ln12_fu_100_p2", "add", (34, 34), 41, 0, 0, 0, "fabric"
    )
    assert operators["sub_ln20_fu_120_p2"].kind == "sub"
    assert operators["icmp_ln30_fu_130_p2"].bit_widths == (4, 1)
    (memory,) = report.memories
    assert (memory.name, memory.module, memory.words, memory.bits, memory.banks) == (
        "buf_U",
        "toy_buf_RAM",
        784,
        8,
        1,
    )


def test_fixture_utilization_ultrascale_with_prohibited_column() -> None:
    report = read_report(FIXTURES / "toy_utilization_synth.rpt")
    assert report.tool == "vivado"
    assert report.tool_version == "2022.1"
    assert (report.part, report.top) == ("xczu3eg-sbva484-1-e", "toy")
    assert report.utilization_kind == "post_synthesis"
    # FF counts flip-flops only (latches excluded); BRAM_18K = 2 x RAMB36 + RAMB18.
    assert report.resources == _res(1210, 1015, 10, 5, 0)
    assert report.available == _res(70560, 141120, 360, 432, 0)
    assert (report.target_clock_ns, report.latency_cycles, report.interval) == (None,) * 3


def test_content_decides_not_file_name(tmp_path: Path) -> None:
    renamed = tmp_path / "whatever.txt"
    renamed.write_bytes((FIXTURES / "vivado_hls_2020_csynth.xml").read_bytes())
    assert read_report(renamed).resources["LUT"] == 2000
    renamed.write_bytes((FIXTURES / "toy_utilization_synth.rpt").read_bytes())
    assert read_report(str(renamed)).tool == "vivado"


@pytest.mark.parametrize("name", READABLE_FIXTURES)
def test_report_value_round_trips_and_hashes(name: str) -> None:
    report = read_report(FIXTURES / name)
    again = HlsReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again == report
    assert hash(again) == hash(report)
    assert report.to_dict()["version"] == 2


def test_version_1_dictionaries_still_read() -> None:
    report = read_report(FIXTURES / "vivado_hls_2020_csynth.xml")
    data = report.to_dict()
    for key in ("complete", "incomplete_reason", "warnings"):
        del data[key]
    assert HlsReport.from_dict({**data, "version": 1}) == report


def test_fixtures_stay_small() -> None:
    for path in FIXTURES.iterdir():
        assert path.stat().st_size < 10_000, path


# --- malformed and hostile inputs -----------------------------------------------------------

_GOOD_XML = (FIXTURES / "vivado_hls_2020_csynth.xml").read_text()


def _write(tmp_path: Path, content: str | bytes, name: str = "report.xml") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def _error(path: Path) -> ReportError:
    with pytest.raises(ReportError) as info:
        read_report(path)
    error = info.value
    message = str(error)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message
    assert error.path == str(path)
    assert isinstance(error, HardwareModelError)
    assert isinstance(error, ValueError)
    return error


def test_missing_file(tmp_path: Path) -> None:
    assert "no such file" in _error(tmp_path / "absent_csynth.xml").reason


def test_directory(tmp_path: Path) -> None:
    assert "not a regular file" in _error(tmp_path).reason


@pytest.mark.parametrize("content", ["", "   \n\t\n"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    assert _error(_write(tmp_path, content)).reason == "empty file"


def test_binary_file(tmp_path: Path) -> None:
    reason = _error(_write(tmp_path, b"\x7fELF\x02\x01\x01\x00\x00\x00garbage")).reason
    assert "binary" in reason


def test_truncated_xml(tmp_path: Path) -> None:
    reason = _error(_write(tmp_path, _GOOD_XML[: len(_GOOD_XML) // 2])).reason
    assert reason.startswith("malformed XML:")


def test_malformed_xml(tmp_path: Path) -> None:
    reason = _error(_write(tmp_path, "<profile><Part>x</Prt></profile>")).reason
    assert "malformed XML: mismatched tag" in reason


def test_undefined_entity_without_dtd(tmp_path: Path) -> None:
    reason = _error(_write(tmp_path, _GOOD_XML.replace("toy", "&xxe;"))).reason
    assert "malformed XML: undefined entity" in reason


_OPENED: list[str] = []
_AUDITING: list[bool] = []


def _audit(event: str, args: tuple) -> None:
    if _AUDITING and event == "open" and args and isinstance(args[0], str | bytes | os.PathLike):
        _OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


def test_external_entity_is_refused_and_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4242")
    hostile = _GOOD_XML.replace(
        "<profile>",
        f'<!DOCTYPE profile [<!ENTITY xxe SYSTEM "file://{secret}">]>\n<profile>',
        1,
    ).replace("<TopModelName>toy<", "<TopModelName>&xxe;<")
    path = _write(tmp_path, hostile)
    _OPENED.clear()
    _AUDITING.append(True)
    try:
        error = _error(path)
    finally:
        _AUDITING.clear()
    assert "DTD" in error.reason
    assert "TOP-SECRET" not in str(error)
    assert str(path) in _OPENED  # the hook sees the report itself being opened...
    assert str(secret) not in _OPENED  # ...and not the file the entity points at
    assert all(Path(p).name != "secret.txt" for p in _OPENED)


def test_parameter_entity_is_refused(tmp_path: Path) -> None:
    hostile = (
        f'<!DOCTYPE profile [<!ENTITY % ext SYSTEM "file://{tmp_path}/x.dtd"> %ext;]>\n<profile/>'
    )
    assert "DTD" in _error(_write(tmp_path, hostile)).reason


def test_billion_laughs_is_refused(tmp_path: Path) -> None:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    hostile = f"<?xml version='1.0'?><!DOCTYPE profile [{entities}]><profile>&lol9;</profile>"
    assert "DTD" in _error(_write(tmp_path, hostile)).reason


def test_unknown_xml_root(tmp_path: Path) -> None:
    reason = _error(_write(tmp_path, "<project><Version>1</Version></project>")).reason
    assert "root element <project>" in reason


def test_unknown_text_kind(tmp_path: Path) -> None:
    reason = _error(_write(tmp_path, "INFO: [HLS 200-10] Running csim\n", "vivado_hls.log")).reason
    assert reason.startswith("unknown report kind")


def test_missing_required_xml_field(tmp_path: Path) -> None:
    broken = _GOOD_XML.replace("<Part>xczu3eg-sbva484-1-e</Part>", "")
    assert _error(_write(tmp_path, broken)).reason == (
        "missing required field <UserAssignments/Part>"
    )


def test_missing_required_resource(tmp_path: Path) -> None:
    broken = _GOOD_XML.replace("<LUT>2000</LUT>", "", 1)
    reason = _error(_write(tmp_path, broken)).reason
    assert reason == "missing required field <AreaEstimates/Resources/LUT>"


def test_non_numeric_resource(tmp_path: Path) -> None:
    broken = _GOOD_XML.replace("<LUT>2000</LUT>", "<LUT>lots</LUT>", 1)
    reason = _error(_write(tmp_path, broken)).reason
    assert reason == "<AreaEstimates/Resources/LUT>: expected an integer, got 'lots'"


def test_non_numeric_clock(tmp_path: Path) -> None:
    broken = _GOOD_XML.replace("<TargetClockPeriod>5.00<", "<TargetClockPeriod>fast<")
    reason = _error(_write(tmp_path, broken)).reason
    assert "<UserAssignments/TargetClockPeriod>: expected a number, got 'fast'" == reason


def test_rpt_without_total_row(tmp_path: Path) -> None:
    text = (FIXTURES / "toy_csynth.rpt").read_text().replace("|Total            |", "|Sum   |")
    reason = _error(_write(tmp_path, text, "toy_csynth.rpt")).reason
    assert reason == "Utilization Summary: missing required row 'Total'"


def test_rpt_non_numeric_cell(tmp_path: Path) -> None:
    total = "|Total            |        1|    3|     350|"
    text = (FIXTURES / "toy_csynth.rpt").read_text()
    assert total in text
    text = text.replace(total, total.replace("350", "abc"))
    reason = _error(_write(tmp_path, text, "toy_csynth.rpt")).reason
    assert "expected an integer, got 'abc'" in reason


def test_rpt_without_version(tmp_path: Path) -> None:
    text = (FIXTURES / "toy_csynth.rpt").read_text().replace("* Version:", "* Edition:")
    reason = _error(_write(tmp_path, text, "toy_csynth.rpt")).reason
    assert "'* Version:'" in reason


def test_utilization_without_lut_row(tmp_path: Path) -> None:
    text = (FIXTURES / "toy_utilization_synth.rpt").read_text().replace("CLB LUTs*", "CLB XYZ*")
    reason = _error(_write(tmp_path, text, "util.rpt")).reason
    assert reason == "missing required row 'Slice LUTs' / 'CLB LUTs'"


def test_report_error_pickles() -> None:
    error = ReportError("a/b.xml", "empty file")
    again = pickle.loads(pickle.dumps(error))
    assert (again.path, again.reason, str(again)) == ("a/b.xml", "empty file", str(error))


def test_rpt_ragged_detail_row_costs_only_its_table(tmp_path: Path) -> None:
    # The row of add_ln12 in the Expression table loses a cell: the table is left out and
    # named in the warnings, the totals and every other table stay.
    text = (FIXTURES / "toy_csynth.rpt").read_text().replace("|   0|  0|  41|", "|   0|  41|", 1)
    report = read_report(_write(tmp_path, text, "toy_csynth.rpt"))
    assert report.resources == _res(492, 350, 3, 1)
    assert (report.target_clock_ns, report.latency_cycles) == (5.0, (12, None))
    (warning,) = report.warnings
    assert warning.startswith("Expression table: malformed table at line")
    assert "6 cells where its header has 7" in warning
    assert {o.impl for o in report.operators} == {"full_dsp", None}  # the two cores only
    assert len(report.modules) == 1 and len(report.memories) == 1


def test_rpt_ragged_required_row_is_an_error(tmp_path: Path) -> None:
    total = "|Total            |        1|    3|     350|    492|    0|"
    text = (FIXTURES / "toy_csynth.rpt").read_text()
    assert total in text
    text = text.replace(total, "|Total            |        1|    3|     350|    492|")
    reason = _error(_write(tmp_path, text, "toy_csynth.rpt")).reason
    assert reason.startswith("'Utilization Estimates' / '* Summary:': malformed table at line")


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir() if p.is_file()))
def test_truncated_copies_fail_cleanly(tmp_path: Path, name: str) -> None:
    """Any prefix of a report either parses or raises ReportError, never another error."""
    data = (FIXTURES / name).read_bytes()
    path = tmp_path / name
    for cut in range(0, len(data), max(1, len(data) // 40)):
        path.write_bytes(data[:cut])
        try:
            report = read_report(path)
        except ReportError as error:
            assert "\n" not in str(error)
        else:
            assert tuple(report.resources) == RESOURCE_KEYS


def test_report_value_checks_its_fields() -> None:
    data = read_report(FIXTURES / "vivado_hls_2020_csynth.xml").to_dict()
    with pytest.raises(HardwareModelError, match="unsupported version"):
        HlsReport.from_dict({**data, "version": 0})
    with pytest.raises(HardwareModelError, match="tool must be one of"):
        HlsReport.from_dict({**data, "tool": "quartus"})
    with pytest.raises(HardwareModelError, match="resources must have exactly the keys"):
        HlsReport.from_dict({**data, "resources": {"LUT": 1}})


# --- issue 11: layouts and values of other tool versions (fixtures trimmed from the field
# reports of /work/shared/field_reports; each expected value is the one the file prints) -----


def _multiset(rows: tuple) -> list:
    return sorted(rows, key=repr)


def test_range_in_a_module_interval_keeps_the_totals() -> None:
    # Vitis 2024.1 (r01): a module's PipelineInitiationInterval is "42 ~ 105".
    report = read_report(FIXTURES / "vitis_hls_2024_wrr_csynth.xml")
    assert (report.tool, report.tool_version, report.part, report.top) == (
        "vitis_hls",
        "2024.1",
        "xc7z020-clg400-1",
        "weighted_rr",
    )
    assert report.resources == _res(2496, 1751, 0, 5)
    assert report.latency_cycles == (11, 143)
    assert report.interval == (12, 144)
    assert (report.target_clock_ns, report.estimated_clock_ns) == (10.0, 7.3)
    assert report.warnings == ()
    by_name = {m.name: m for m in report.modules}
    pipeline = by_name["Block_entry_split_proc_Pipeline_VITIS_LOOP_29_2"]
    assert (pipeline.latency_cycles, pipeline.interval) == ((43, 106), (42, 105))
    assert by_name["Block_entry_split_proc"].interval == (11, 143)
    assert by_name["weighted_rr"].interval == (12, 144)
    assert pipeline.resources == _res(439, 326, 0, 0)


def test_latency_range_reads_as_min_max(tmp_path: Path) -> None:
    # A latency cell written as a range: its low end is the best case, its high end the worst.
    text = (FIXTURES / "vitis_hls_2024_wrr_csynth.xml").read_text()
    text = text.replace("<Best-caseLatency>43<", "<Best-caseLatency>43 ~ 64<")
    text = text.replace("<Worst-caseLatency>106<", "<Worst-caseLatency>64 ~ 106<")
    assert text.count(" ~ ") == 5  # the two above and the three intervals
    report = read_report(_write(tmp_path, text))
    pipeline = {m.name: m for m in report.modules}[
        "Block_entry_split_proc_Pipeline_VITIS_LOOP_29_2"
    ]
    assert pipeline.latency_cycles == (43, 106)
    assert report.warnings == ()
    toy = (
        (FIXTURES / "toy_csynth.rpt")
        .read_text()
        .replace("|       12|        ?|", "|  12 ~ 14|   14 ~ ?|")
    )
    assert "|  12 ~ 14|   14 ~ ?|" in toy
    assert read_report(_write(tmp_path, toy, "toy_csynth.rpt")).latency_cycles == (12, None)


def test_interface_adapters_are_neither_operators_nor_memories() -> None:
    # r01's top module binds control_s_axi_U and gmem_m_axi_U as BINDTYPE="adapter" with an
    # empty OPTYPE (r02 has the same s_axilite adapter).
    report = read_report(FIXTURES / "vitis_hls_2024_wrr_csynth.xml")
    assert [o.kind for o in report.operators] == ["add", "setlt", "select", "seteq", "add"]
    assert all(o.kind for o in report.operators)
    names = {o.name for o in report.operators} | {m.name for m in report.memories}
    assert not names & {"control_s_axi_U", "gmem_m_axi_U"}
    (counters,) = report.memories
    assert (counters.name, counters.kind, counters.bram_18k, counters.impl) == (
        "counters_U",
        "ram_1p",
        1,
        "bram",
    )
    assert (counters.bits, counters.words, counters.banks) == (32, 4, 1)  # STORAGESIZE


@pytest.mark.parametrize(
    ("old", "new", "check", "warning"),
    [
        (  # a garbled module interval: the module stays, its interval is dropped
            "<PipelineInitiationInterval>42 ~ 105<",
            "<PipelineInitiationInterval>42 ~ lots<",
            lambda r: (
                {m.name: m for m in r.modules}[
                    "Block_entry_split_proc_Pipeline_VITIS_LOOP_29_2"
                ].interval
                is None
            ),
            "module 'Block_entry_split_proc_Pipeline_VITIS_LOOP_29_2': "
            "<PipelineInitiationInterval>: expected an integer or a range 'min ~ max', "
            "got '42 ~ lots'; left out",
        ),
        (  # a garbled module resource: that module record is dropped
            "<FF>326</FF>",
            "<FF>3x6</FF>",
            lambda r: [m.name for m in r.modules] == ["Block_entry_split_proc", "weighted_rr"],
            "module 'Block_entry_split_proc_Pipeline_VITIS_LOOP_29_2': "
            "<Module Block_entry_split_proc_Pipeline_VITIS_LOOP_29_2/Resources/FF>: expected "
            "an integer, got '3x6'; left out",
        ),
        (  # a garbled top-level interval: None, the totals stay
            "<Interval-min>12<",
            "<Interval-min>twelve<",
            lambda r: r.interval is None and r.latency_cycles == (11, 143),
            "<Interval-min>: expected an integer, got 'twelve'; left out",
        ),
        (  # a garbled bind node: that row is dropped
            'LATENCY="0" LOOP="" OPTYPE="add"',
            'LATENCY="zero" LOOP="" OPTYPE="add"',
            lambda r: "add_ln36_fu_312_p2" not in {o.name for o in r.operators},
            "module 'Block_entry_split_proc': BindNode 'add_ln36_fu_312_p2' LATENCY: expected "
            "an integer, got 'zero'; left out",
        ),
    ],
)
def test_unreadable_optional_detail_never_costs_the_totals(
    tmp_path: Path, old: str, new: str, check: object, warning: str
) -> None:
    text = (FIXTURES / "vitis_hls_2024_wrr_csynth.xml").read_text()
    assert text.count(old) == 1
    report = read_report(_write(tmp_path, text.replace(old, new)))
    assert report.resources == _res(2496, 1751, 0, 5)
    assert (report.part, report.top, report.target_clock_ns) == (
        "xc7z020-clg400-1",
        "weighted_rr",
        10.0,
    )
    assert report.warnings == (warning,)
    assert check(report)  # type: ignore[operator]


def test_synthesis_summary_reads_as_its_xml_twin() -> None:
    # r01: the top-level csynth.rpt ("Synthesis Summary", Vitis 2020.2+) and its csynth.xml.
    rpt = read_report(FIXTURES / "vitis_hls_2024_wrr_csynth.rpt")
    xml = read_report(FIXTURES / "vitis_hls_2024_wrr_csynth.xml")
    for field in ("tool", "tool_version", "part", "top", "resources", "utilization_kind"):
        assert getattr(rpt, field) == getattr(xml, field), field
    # The layout prints one latency and interval per module, the worst case.
    assert rpt.latency_cycles == (None, xml.latency_cycles[1]) == (None, 143)
    assert rpt.interval == (None, xml.interval[1]) == (None, 144)
    # It prints no clock period and no available resources.
    assert (rpt.target_clock_ns, rpt.estimated_clock_ns) == (None, None)
    assert rpt.available == _res(0, 0, 0, 0)
    assert _multiset(tuple((m.name, m.resources) for m in rpt.modules)) == _multiset(
        tuple((m.name, m.resources) for m in xml.modules)
    )
    worst = {m.name: m.latency_cycles[1] for m in xml.modules if m.latency_cycles}
    assert {m.name: m.latency_cycles[1] for m in rpt.modules if m.latency_cycles} == worst
    assert _multiset(rpt.operators) == _multiset(xml.operators)
    assert rpt.memories == xml.memories  # interface rows of the Storage Report left out
    assert rpt.warnings == ()


@pytest.mark.parametrize(
    ("stem", "latency", "interval", "estimated"),
    [
        ("vivado_hls_2019_mabonsoc_csynth", (51, 51), (48, 48), 8.75),  # r07, 2019.1
        ("vivado_hls_2018_c_mnist_csynth", (None, None), (None, None), 8.419),  # r08, 2018.2
    ],
)
def test_vivado_hls_2018_2019_text_layout_reads_as_its_xml_twin(
    stem: str, latency: tuple, interval: tuple, estimated: float
) -> None:
    # "+ Timing (ns):", "+ Latency (clock cycles):" and a 5-column latency summary.
    rpt = read_report(FIXTURES / f"{stem}.rpt")
    xml = read_report(FIXTURES / f"{stem}.xml")
    for field in (
        "tool",
        "tool_version",
        "part",
        "top",
        "target_clock_ns",
        "estimated_clock_ns",
        "latency_cycles",
        "interval",
        "resources",
        "available",
    ):
        assert getattr(rpt, field) == getattr(xml, field), field
    assert (rpt.target_clock_ns, rpt.estimated_clock_ns) == (10.0, estimated)
    assert (rpt.latency_cycles, rpt.interval) == (latency, interval)
    assert rpt.warnings == ()


def test_vivado_hls_2019_instances_and_expressions() -> None:
    report = read_report(FIXTURES / "vivado_hls_2019_mabonsoc_csynth.rpt")
    assert report.resources == _res(103630, 74546, 4, 1)
    modules = {m.instance: m for m in report.modules}
    log = modules["grp_log_28_15_s_fu_1233"]
    assert (log.name, log.resources, log.latency_cycles, log.interval) == (
        "log_28_15_s",
        _res(1042, 639, 4, 1),
        (6, 6),
        (1, 1),
    )
    assert modules["grp_sqrt_fixed_28_15_s_fu_1153"].latency_cycles == (10, 10)
    assert modules["mabonsoc_BUS_A_s_axi_U"].latency_cycles is None  # the bus adapter
    # Core names shortened by the tool keep their kind, not their widths or latency.
    cores = {o.name: o for o in report.operators if o.impl is None}
    assert cores["mabonsoc_sdiv_32ng8j_U42"] == OperatorRow(
        "mabonsoc_sdiv_32ng8j_U42", "sdiv", (), 1738, 2283, 0, None
    )
    assert {o.kind for o in cores.values()} == {"mux", "sdiv", "udiv"}
    expressions = [o for o in report.operators if o.impl == "fabric"]
    assert [o.kind for o in expressions] == ["and", "and", "select", "select", "xor"]
    assert expressions[2].bit_widths == (1, 4)


def test_vivado_hls_2018_instance_cores_and_unknown_latency() -> None:
    report = read_report(FIXTURES / "vivado_hls_2018_c_mnist_csynth.rpt")
    assert report.resources == _res(21133, 14744, 80, 3391)
    assert report.available == _res(1728000, 3456000, 12288, 5376, 1280)
    by_name = {o.name: o for o in report.operators}
    assert by_name["c_mnist_fadd_32nsbzo_U1"] == OperatorRow(
        "c_mnist_fadd_32nsbzo_U1", "fadd", (), 214, 227, 2, None
    )
    assert (by_name["c_mnist_fmul_32nsbAo_U17"].kind, by_name["c_mnist_fmul_32nsbAo_U17"].dsp) == (
        "fmul",
        3,
    )
    assert by_name["c_mnist_fcmp_32nsbBo_U33"].kind == "fcmp"
    assert by_name["i_14_15_fu_4620_p2"] == OperatorRow(
        "i_14_15_fu_4620_p2", "add", (64, 5), 71, 0, 0, 0, "fabric"
    )
    assert report.modules == ()
    assert [(m.name, m.words, m.bits, m.bram_18k) for m in report.memories] == [
        ("dense_6_bias_array_U", 784, 32, 2),
        ("flatten_4_output_arr_9_U", 49, 32, 1),
    ]


@pytest.mark.parametrize(
    ("name", "old", "new", "reason"),
    [
        (
            "toy_csynth.rpt",
            "+ Timing: ",
            "+ Clocking: ",
            "missing required table 'Performance Estimates' / '+ Timing:' / '* Summary:' "
            "(the target clock)",
        ),
        (
            "toy_csynth.rpt",
            "|  Clock |  Target |",
            "|  Clock |  Goal   |",
            "Timing Summary: missing required column 'Target'",
        ),
        (
            "vitis_hls_2024_wrr_csynth.rpt",
            "+ Performance & Resource Estimates: ",
            "+ Performance Estimates: ",
            "missing required table '+ Performance & Resource Estimates:'",
        ),
        (
            "vitis_hls_2024_wrr_csynth.rpt",
            "|+ weighted_rr*",
            "|+ weighted_xx*",
            "'Performance & Resource Estimates' table: missing the row of the top module "
            "'weighted_rr'",
        ),
        (
            "vitis_hls_2024_wrr_csynth.rpt",
            "|    LUT    |",
            "|    ALM    |",
            "'Performance & Resource Estimates' table: missing required column LUT",
        ),
    ],
)
def test_unknown_layout_names_what_is_missing(
    tmp_path: Path, name: str, old: str, new: str, reason: str
) -> None:
    text = (FIXTURES / name).read_text()
    assert old in text
    assert _error(_write(tmp_path, text.replace(old, new), name)).reason == reason


def test_design_synthesized_away() -> None:
    # r11: Vivado HLS 2018.2, every resource 0, estimated clock 0.000, DSP48E tag.
    report = read_report(FIXTURES / "vivado_hls_2018_empty_csynth.xml")
    assert report.resources == _res(0, 0, 0, 0)
    assert report.estimated_clock_ns == 0.0
    assert report.target_clock_ns == 3.12
    assert report.available["DSP"] == 6840
    assert report.complete


def test_incomplete_report_needs_a_reason() -> None:
    data = read_report(FIXTURES / "vivado_hls_2020_csynth.xml").to_dict()
    with pytest.raises(HardwareModelError, match="incomplete_reason must be given"):
        HlsReport.from_dict({**data, "complete": False})
    with pytest.raises(HardwareModelError, match="incomplete_reason must be given"):
        HlsReport.from_dict({**data, "incomplete_reason": "why"})
