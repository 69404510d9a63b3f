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


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir()))
def test_report_value_round_trips_and_hashes(name: str) -> None:
    report = read_report(FIXTURES / name)
    again = HlsReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again == report
    assert hash(again) == hash(report)
    assert report.to_dict()["version"] == 1


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


def test_rpt_ragged_table_row(tmp_path: Path) -> None:
    text = (FIXTURES / "toy_csynth.rpt").read_text().replace("|   0|  0|  41|", "|   0|  41|", 1)
    reason = _error(_write(tmp_path, text, "toy_csynth.rpt")).reason
    assert reason.startswith("malformed table at line")
    assert "6 cells where its header has 7" in reason


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir()))
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
