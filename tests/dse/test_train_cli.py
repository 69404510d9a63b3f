"""`dse train`: the workload step alone, its checkpoint and provenance."""

from __future__ import annotations

import json
from pathlib import Path

from evaluators import read_checkpoint
from tests.conftest import run_cli, study_dict, write_study


def test_train_writes_a_checkpoint_a_study_can_name(tmp_path: Path) -> None:
    data = study_dict(
        "train_only",
        tmp_path / "runs",
        workload={"model": "lenet5", "dataset": "digits", "training": {"epochs": 3}},
    )
    path = write_study(tmp_path / "s.yaml", data)
    out = tmp_path / "weights" / "lenet.pt"
    done = run_cli("train", str(path), "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert "validation" in done.stdout and "test" in done.stdout
    state, rule, split_seed, fingerprint = read_checkpoint(out)
    assert "conv1.weight" in state and rule is not None and rule.identity
    assert split_seed == 0  # the study's: the split it was trained on
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["command"].startswith("python -m dse train")
    assert record["seed"] == 0 and record["workload"]["training"]["epochs"] == 3
    assert record["split_seed"] == 0 and fingerprint == record["data_fingerprint"]
    trained = record["accuracy"]["validation"]

    data["workload"]["checkpoint"] = str(out)
    again = run_cli("train", str(write_study(tmp_path / "c.yaml", data)))
    assert again.returncode == 0, again.stderr
    assert f"validation {trained:.4f}" in again.stdout  # the same model, loaded


def test_train_of_a_missing_dataset_is_a_one_line_error(tmp_path: Path) -> None:
    data = study_dict(
        "no_data", tmp_path, workload={"dataset": {"format": "idx", "path": "nowhere"}}
    )
    done = run_cli("train", str(write_study(tmp_path / "s.yaml", data)))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "nowhere: dataset not found" in done.stderr
