"""Operator rows from report folders: which files characterization uses, skips, and why."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from hardware_models import (
    HardwareModelError,
    OperatorLibrary,
    ReportScan,
    SkippedReport,
    characterize,
    rows_from_reports,
    scan_reports,
)
from tests.conftest import run_cli

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIELD_REPORTS = Path(
    os.environ.get(
        "DSE_FIELD_REPORTS", Path(__file__).resolve().parents[3] / "shared" / "field_reports"
    )
)
needs_field = pytest.mark.skipif(
    not FIELD_REPORTS.is_dir(), reason=f"field report folder {FIELD_REPORTS} is absent"
)

# Fixture -> why scan_reports skips it (every one but the c_mnist .rpt).
SKIPPED = {
    "vivado_2019_clock_utilization_routed.rpt": (
        "not read: a Vivado report_clock_utilization report, not a report_utilization one: "
        "it holds no resource counts of the design"
    ),
    "vivado_2019_blackbox_utilization_synth.rpt": (
        "no operator rows: a post-synthesis utilization report"
    ),
    "vivado_hls_2018_c_mnist_csynth.xml": "no operator rows in the report",
    # Vitis bind nodes carry no LUT counts.
    "vitis_hls_2024_wrr_csynth.xml": (
        "none of its 5 operator rows has a library kind, a LUT count and a known latency"
    ),
    "vitis_hls_2024_wrr_csynth.rpt": (
        "none of its 5 operator rows has a library kind, a LUT count and a known latency"
    ),
}


def _folder(tmp_path: Path, names: list[str]) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    for name in names:
        shutil.copy(FIXTURES / name, folder / name)
    return folder


def test_scan_says_which_files_it_skipped_and_why(tmp_path: Path) -> None:
    folder = _folder(tmp_path, [*SKIPPED, "vivado_hls_2018_c_mnist_csynth.rpt"])
    scan = scan_reports(folder)
    assert isinstance(scan, ReportScan)
    assert scan.used == (folder / "vivado_hls_2018_c_mnist_csynth.rpt",)
    assert {entry.path.name: entry.reason for entry in scan.skipped} == SKIPPED
    assert all(isinstance(entry, SkippedReport) for entry in scan.skipped)
    assert all("\n" not in entry.reason for entry in scan.skipped)
    assert list(scan.rows) == rows_from_reports(folder)


def test_old_text_report_gives_its_expression_rows(tmp_path: Path) -> None:
    # Vivado HLS 2018.2 (r08 layout): Expression rows (+ and icmp) become library rows;
    # the fadd/fmul cores of its Instance table have shortened names without a latency and
    # are left out rather than recorded with a made-up latency.
    rows = rows_from_reports(_folder(tmp_path, ["vivado_hls_2018_c_mnist_csynth.rpt"]))
    assert [(r.kind, r.widths, r.lut, r.latency_cycles) for r in rows] == [
        ("add", (4,), 12.0, 0.0),
        ("add", (64,), 71.0, 0.0),
        ("compare", (9,), 13.0, 0.0),
        ("compare", (10,), 13.0, 0.0),
    ]
    assert {r.family for r in rows} == {"ultrascale_plus"}  # xcvu13p
    assert rows[1].source == "hls report vivado_hls_2018_c_mnist_csynth.rpt: i_14_15_fu_4620_p2"


def test_twin_without_usable_rows_does_not_hide_the_other(tmp_path: Path) -> None:
    # The .xml and .rpt of one synthesis share a stem; the file with usable rows is read even
    # when its twin has more operator rows (Vitis bind nodes, which carry no LUT counts).
    folder = tmp_path / "reports"
    folder.mkdir()
    shutil.copy(FIXTURES / "vitis_hls_2024_wrr_csynth.xml", folder / "design_csynth.xml")
    text = (FIXTURES / "toy_csynth.rpt").read_text()
    icmp = next(line for line in text.splitlines(keepends=True) if "icmp_ln30" in line)
    (folder / "design_csynth.rpt").write_text(text.replace(icmp, ""))  # 4 rows against 5
    scan = scan_reports(folder)
    assert scan.used == (folder / "design_csynth.rpt",)
    assert {(r.kind, r.widths) for r in scan.rows} == {
        ("fadd", (8, 23)),
        ("mul_dsp", (8, 8)),
        ("add", (34,)),
        ("add", (11,)),
    }
    (skipped,) = scan.skipped
    assert skipped.path == folder / "design_csynth.xml"


def test_characterize_records_the_skipped_files(tmp_path: Path) -> None:
    folder = _folder(tmp_path, [*SKIPPED, "vivado_hls_2018_c_mnist_csynth.rpt"])
    library = characterize(folder)
    assert library.provenance is not None
    recorded = {
        Path(entry["path"]).name: entry["reason"]
        for entry in library.provenance["skipped_reports"]
    }
    assert recorded == SKIPPED
    output = tmp_path / "operators.json"
    library.to_json(output)
    assert (
        OperatorLibrary.from_json(output).provenance["skipped_reports"]
        == (library.provenance["skipped_reports"])
    )


def test_no_usable_row_names_what_was_skipped(tmp_path: Path) -> None:
    folder = _folder(tmp_path, ["vivado_2019_clock_utilization_routed.rpt"])
    with pytest.raises(HardwareModelError) as info:
        characterize(folder)
    message = str(info.value)
    assert "no operator rows found in the HLS reports (1 file(s) skipped, first: " in message
    assert "report_clock_utilization" in message and "\n" not in message


def test_cli_prints_the_skipped_files(tmp_path: Path) -> None:
    folder = _folder(tmp_path, [*SKIPPED, "vivado_hls_2018_c_mnist_csynth.rpt"])
    output = tmp_path / "operators.json"
    done = run_cli("characterize", "--reports", str(folder), "--output", str(output))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["kind", "family", "rows"]
    start = lines.index(f"skipped {len(SKIPPED)} report file(s):")
    printed = lines[start + 1 :]
    for name, reason in SKIPPED.items():
        assert f"  {folder / name}: {reason}" in printed


@needs_field
def test_field_old_text_reports_give_operator_rows(tmp_path: Path) -> None:
    # r07 (2019.1) and r08 (2018.2): the .rpt has the Expression and Instance tables, the
    # .xml of the same stem has none, so the .rpt is read and the .xml named as skipped.
    for folder, part_family in (
        ("r07_vivado2019_1_z7020_util", "7series"),
        ("r08_vivadohls2018_2_rpt", "ultrascale_plus"),
    ):
        scan = scan_reports(FIELD_REPORTS / folder)
        assert [p.suffix for p in scan.used] == [".rpt"]
        assert {r.family for r in scan.rows} == {part_family}
        assert {"add", "compare"} <= {r.kind for r in scan.rows}
        assert all(r.source.startswith(f"hls report {scan.used[0].name}: ") for r in scan.rows)


@needs_field
def test_field_folder_scan_names_every_skipped_file() -> None:
    scan = scan_reports(FIELD_REPORTS)
    reasons = {entry.path.relative_to(FIELD_REPORTS).as_posix(): entry for entry in scan.skipped}
    clock = reasons["r07_vivado2019_1_z7020_util/design_1_wrapper_clock_utilization_routed.rpt"]
    assert clock.reason.startswith("not read: a Vivado report_clock_utilization report")
    used = {p.relative_to(FIELD_REPORTS).as_posix() for p in scan.used}
    files = {p.relative_to(FIELD_REPORTS).as_posix() for p in FIELD_REPORTS.rglob("*.*")}
    report_files = {f for f in files if f.endswith((".xml", ".rpt"))}
    assert used | set(reasons) == report_files
    assert not used & set(reasons)
