"""The examples a user copies from run as shipped."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

LIBRARY = ROOT / "examples" / "library.py"


def test_library_example_runs_and_draws_the_front(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(LIBRARY)], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) >= 3  # one per front point: objectives, then each layer's format
    assert all("'accuracy'" in line and "weight_bits" in line for line in lines)
    assert (tmp_path / "library_front.png").stat().st_size > 10_000


def test_library_example_uses_at_most_ten_lines_of_dse_code() -> None:
    tree = ast.parse(LIBRARY.read_text(encoding="utf-8"))
    start = next(
        i for i, line in enumerate(LIBRARY.read_text().splitlines(), 1) if "# --- dse" in line
    )
    statements = [n for n in tree.body if n.lineno > start]
    imports = [
        n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module in ("dse", "evaluators")
    ]
    assert len(statements) + len(imports) <= 10
