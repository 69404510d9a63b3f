"""`dse export` and `dse verify` on a small run of examples/lenet_hls4ml.yaml: three front
points compiled by hls4ml (g++) and held bit for bit against dse, and the one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from dse.cli import main
from tests.conftest import ROOT
from tests.toolchain import require_hls4ml

require_hls4ml(compiler=True, module=True)

SAMPLES = 200


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory, study_output: Path) -> Path:
    """examples/lenet_hls4ml.yaml with a small budget (the whole front is in the bench)."""
    data = yaml.safe_load((ROOT / "examples" / "lenet_hls4ml.yaml").read_text())
    data["study"]["output"] = str(study_output)
    data["optimizer"] |= {"budget": 24, "population_size": 12}
    path = tmp_path_factory.mktemp("export_cli") / "lenet_hls4ml.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["run", str(path), "--no-progress"]) == 0
    return path


def _front(study: Path) -> list[dict[str, object]]:
    """The study's front points (pareto.csv rows), fewest LUTs first."""
    output = Path(yaml.safe_load(study.read_text())["study"]["output"])
    table = pd.read_csv(output / "lenet_hls4ml" / "pareto.csv")
    return table.sort_values("lut").to_dict("records")


def test_three_front_points_are_bit_exact_with_hls4ml(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    front = _front(study)
    assert len(front) >= 3

    def shared(row: dict[str, object]) -> bool:
        return "shared" in (row["param:fc1.weights.kind"], row["param:fc2.weights.kind"])

    # the fewest LUTs, the fewest weight bits among shared-weight points (codebooks expanded
    # to centroids in the project), the most accurate, then others
    assert any(shared(r) for r in front)
    ends = [
        min(front, key=lambda r: r["lut"]),
        min((r for r in front if shared(r)), key=lambda r: r["weight_bits"]),
        max(front, key=lambda r: r["accuracy"]),
    ]
    chosen = list({r["number"]: r for r in [*ends, *front]}.values())[:3]
    assert any(shared(r) for r in chosen)
    folders = []
    for row in chosen:
        folder = tmp_path / f"trial-{row['number']}"
        assert (
            main(["export", str(study), "--trial", str(row["number"]), "--to", str(folder)]) == 0
        )
        assert f"trial {row['number']} " in capsys.readouterr().out
        folders.append(folder)
    # three C simulations side by side: each compile takes tens of seconds
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "dse", "verify", str(f), "--n", str(SAMPLES)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for f in folders
    ]
    for run, folder in zip(runs, folders, strict=True):
        out, _ = run.communicate(timeout=900)
        assert run.returncode == 0, out
        assert "bit-exact: every logit equals dse's" in out
        verification = json.loads((folder / "verification.json").read_text())
        assert verification["samples"] == SAMPLES and verification["expected_exact"]
        assert verification["top1_agreement"] == 1.0
        assert verification["accuracy_dse"] == verification["accuracy_hls4ml"]
        for layer in verification["layers"]:  # conv1 .. fc3 traced, then the logits
            assert layer["exact"] == layer["elements"] > 0, layer


def test_export_picks_by_filter_into_the_study_folder(
    study: Path, study_output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    front = _front(study)
    assert main(["export", str(study), "--where", "accuracy>=0", "--min", "lut"]) == 0
    number = front[0]["number"]
    folder = study_output / "lenet_hls4ml" / "export" / f"trial-{number}"
    assert f"-> {folder}" in capsys.readouterr().out
    assert json.loads((folder / "export.json").read_text())["trial"] == number


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--trial", "9999"], "--trial 9999: study 'lenet_hls4ml' has no such trial"),
        (["--where", "lut<=1"], "export: no front point matches lut<=1"),
        (["--where", "accuracy>=0"], "front points match"),
        ([], "pick one point, with --trial N or with --where/--min/--max"),
        (["--trial", "{front}", "--to", "{file}/sub"], "cannot write there"),
    ],
)
def test_export_errors_are_one_line_with_exit_code_2(
    study: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    (tmp_path / "file").write_text("")
    number = str(_front(study)[0]["number"])
    args = [a.replace("{file}", str(tmp_path / "file")).replace("{front}", number) for a in args]
    assert main(["export", str(study), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dse: error: ") and message in err and err.count("\n") == 1


def test_verify_refuses_a_folder_without_a_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify", str(tmp_path)]) == 2
    assert "not a dse export (no export.json)" in capsys.readouterr().err
