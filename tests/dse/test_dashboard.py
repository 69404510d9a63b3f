"""optuna-dashboard opens a dse study's storage and shows its objectives by name: started by
`python -m dse dashboard` on the loopback address, read back over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dse.cli import main
from tests.conftest import ROOT, study_dict, write_study

pytest.importorskip(
    "optuna_dashboard", reason="optuna-dashboard is not installed (pip install -e '.[dev]')"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
        return json.loads(response.read().decode())


def test_dashboard_serves_the_study_with_its_objective_names(
    tmp_path: Path, study_output: Path
) -> None:
    path = write_study(
        tmp_path / "dash.yaml",
        study_dict("dashboard", study_output, optimizer={"kind": "random", "budget": 4}),
    )
    assert main(["run", str(path), "--no-progress"]) == 0
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "dse", "dashboard", str(path), "--host", "127.0.0.1",
         "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        studies = None
        while studies is None:
            if server.poll() is not None:
                pytest.fail(f"the dashboard exited: {server.stdout.read()}")
            try:
                studies = _get(f"{base}/api/studies")["study_summaries"]
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        (study,) = [s for s in studies if s["study_name"] == "dashboard"]
        assert [d.lower() for d in study["directions"]] == ["maximize", "minimize"]
        detail = _get(f"{base}/api/studies/{study['study_id']}")
        assert detail["objective_names"] == ["accuracy", "weight_bits"]
        complete = [t for t in detail["trials"] if t["state"].lower() == "complete"]
        assert len(complete) == 4 and all(len(t["values"]) == 2 for t in complete)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
