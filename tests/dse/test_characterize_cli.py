"""`python -m dse characterize`: fit an operator library from report folders."""

from __future__ import annotations

from pathlib import Path

from hardware_models import OperatorLibrary
from tests.conftest import ROOT, run_cli

FIXTURES = ROOT / "tests" / "hardware_models" / "fixtures"


def test_characterize_fits_the_fixture_reports(tmp_path: Path) -> None:
    output = tmp_path / "lib" / "operators.json"
    done = run_cli("characterize", "--reports", str(FIXTURES), "--output", str(output))
    assert done.returncode == 0, done.stderr
    header = done.stdout.splitlines()[0].split()
    assert header[:3] == ["kind", "family", "rows"]
    assert "lut_mape_%" in header
    assert "mul_dsp" in done.stdout and "add" in done.stdout
    assert f"-> {output}" in done.stdout
    library = OperatorLibrary.from_json(output)
    assert "add" in library.kinds()


def test_empty_folder_is_a_one_line_user_error(tmp_path: Path) -> None:
    done = run_cli("characterize", "--reports", str(tmp_path))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("dse: error: ") and "no operator rows" in lines[0]


def test_missing_folder_and_missing_source_are_user_errors(tmp_path: Path) -> None:
    done = run_cli("characterize", "--reports", str(tmp_path / "nowhere"))
    assert done.returncode == 2
    assert "not a directory" in done.stderr
    done = run_cli("characterize")
    assert done.returncode == 2
    assert "--reports" in done.stderr
