"""Running studies end to end: real model, real SQLite, real subprocesses."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
import torch

from dse import load_study, run_study
from dse.storage import make_storage, open_study, records, storage_url
from dse.study import Problem, optimize
from evaluators import Evaluator, Score
from tests.conftest import ROOT, run_cli, study_dict, write_study


def _complete(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=1) as con:
            return con.execute("select count(*) from trials where state='COMPLETE'").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_end_to_end_small_budget(tmp_path: Path, study_output: Path) -> None:
    path = write_study(
        tmp_path / "s.yaml",
        study_dict(
            "e2e", study_output, optimizer={"kind": "nsga2", "budget": 12, "population_size": 4}
        ),
    )
    done = run_cli("run", str(path), "--no-progress")
    assert done.returncode == 0, done.stderr
    folder = study_output / "e2e"
    assert f"results in {folder}/" in done.stdout
    trials = pd.read_csv(folder / "trials.csv")
    assert (trials["state"] == "COMPLETE").sum() == 12
    assert {"accuracy", "weight_bits", "config_hash", "duration_s", "fidelity"} <= set(trials)
    assert (trials["fidelity"] == "exact:validation").all()
    pareto = pd.read_csv(folder / "pareto.csv")
    assert 1 <= len(pareto) <= 12 and pareto["pareto"].all()
    assert (folder / "pareto.png").stat().st_size > 10_000
    record = json.loads((folder / "study.json").read_text())
    assert record["provenance"]["seed"] == 0
    assert len(record["provenance"]["config_hash"]) == 16
    assert record["provenance"]["versions"]["torch"].startswith("2.")
    assert record["config"]["optimizer"]["budget"] == 12
    assert 0.9 < record["reference_accuracy"] <= 1.0

    status = run_cli("status", str(path))
    assert status.returncode == 0
    assert "12 complete, 0 failed, 0 running, 0 remaining of a budget of 12" in status.stdout
    front = run_cli("pareto", str(path), "--params")
    assert front.returncode == 0
    assert "conv1.weights.kind" in front.stdout.splitlines()[0]
    assert len(front.stdout.strip().splitlines()) == len(pareto) + 1

    again = run_cli("run", str(path), "--no-progress")  # budget met: nothing more runs
    assert again.returncode == 0
    assert "0 trials this run" in again.stdout


def test_resume_after_sigkill(tmp_path: Path, study_output: Path) -> None:
    budget = 200
    path = write_study(
        tmp_path / "s.yaml",
        study_dict("killed", study_output, optimizer={"kind": "random", "budget": budget}),
    )
    db = study_output / "killed" / "study.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dse", "run", str(path), "--no-progress"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 120
    while _complete(db) < 20 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = optuna.load_study(study_name="killed", storage=f"sqlite:///{db}").get_trials()
    done_before = {
        t.number: (t.params, t.values)
        for t in before
        if t.state == optuna.trial.TrialState.COMPLETE
    }
    assert 20 <= len(done_before) < budget

    result = run_cli("run", str(path), "--no-progress")
    assert result.returncode == 0, result.stderr
    after = optuna.load_study(study_name="killed", storage=f"sqlite:///{db}").get_trials()
    complete = [t for t in after if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == budget  # the budget is met exactly
    by_number = {t.number: t for t in after}
    for number, (params, values) in done_before.items():  # nothing completed is lost or redone
        assert by_number[number].state == optuna.trial.TrialState.COMPLETE
        assert by_number[number].params == params and by_number[number].values == values
    assert not [t for t in after if t.state == optuna.trial.TrialState.RUNNING]


def test_trial_left_running_by_dead_worker_is_failed_and_retried(
    tmp_path: Path, study_output: Path
) -> None:
    path = write_study(
        tmp_path / "s.yaml",
        study_dict("stale", study_output, optimizer={"kind": "random", "budget": 5}),
    )
    config = load_study(path)
    setup = Problem.from_config(config, path)
    study = open_study(config, make_storage(storage_url(config)))
    optimize(study, setup, 2)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = study.ask(setup.space.to_optuna())
    records.tag_worker(study, orphan, f"{os.uname().nodename}:{dead.pid}")

    result = run_study(config, path)
    trials = {
        t.number: t
        for t in optuna.load_study(study_name="stale", storage=storage_url(config)).get_trials()
    }
    assert trials[orphan.number].state == optuna.trial.TrialState.FAIL
    assert records.to_record(trials[orphan.number]).fail_reason == "worker died (interrupted)"
    retry = [t for t in trials.values() if records.to_record(t).retry_of == orphan.number]
    assert len(retry) == 1 and retry[0].params == orphan.params
    assert retry[0].state == optuna.trial.TrialState.COMPLETE
    assert result.complete == 5 and result.failed == 1


class NanOnSharedWeights(Evaluator):
    """An evaluator that cannot score shared conv1 weights (a stand-in for a diverging proxy)."""

    def __init__(self, inner: Evaluator) -> None:
        self.inner = inner

    def score(self, configuration):
        if configuration["conv1"].weights.kind == "shared":
            return Score(float("nan"), "exact:validation")
        return self.inner.score(configuration)


def test_nan_trials_fail_with_reason_and_study_goes_on(tmp_path: Path, study_output: Path) -> None:
    path = write_study(
        tmp_path / "s.yaml",
        study_dict("nan", study_output, optimizer={"kind": "random", "budget": 8}),
    )
    config = load_study(path)
    setup = Problem.from_config(config, path)
    setup.evaluator = NanOnSharedWeights(setup.evaluator)
    study = open_study(config, make_storage(storage_url(config)))
    state = optimize(study, setup, 8)
    assert state.complete == 8 and state.failed > 0
    failed = [t for t in study.trials if t.state == optuna.trial.TrialState.FAIL]
    assert all("accuracy is nan" in records.to_record(t).fail_reason for t in failed)


def test_every_trial_failing_stops_with_an_error(tmp_path: Path, study_output: Path) -> None:
    class AlwaysNan(Evaluator):
        def score(self, configuration):
            return Score(float("nan"), "exact:validation")

    path = write_study(tmp_path / "s.yaml", study_dict("allnan", study_output))
    config = load_study(path)
    setup = Problem.from_config(config, path)
    setup.evaluator = AlwaysNan()
    study = open_study(config, make_storage(storage_url(config)))
    from dse import StudyRunError

    with pytest.raises(StudyRunError, match="10 trials failed in a row"):
        optimize(study, setup, 6)


def test_changed_space_refuses_to_resume(tmp_path: Path, study_output: Path) -> None:
    data = study_dict("changed", study_output, optimizer={"kind": "random", "budget": 2})
    run_study(load_study(write_study(tmp_path / "a.yaml", data)), tmp_path / "a.yaml")
    data["search_space"]["weights"]["bits"] = [3, 8]
    path = write_study(tmp_path / "b.yaml", data)
    done = run_cli("run", str(path), "--no-progress")
    assert done.returncode == 2
    assert "was created from another definition" in done.stderr


USER_MODEL = """
from torch import nn

class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(64, 32)
        self.out = nn.Linear(32, 10)

    def forward(self, x):
        return self.out(nn.functional.relu(self.hidden(x.flatten(1))))

def tiny_net():
    return TinyNet()
"""


def test_user_model_dataset_and_checkpoint(tmp_path: Path, study_output: Path) -> None:
    from sklearn.datasets import load_digits

    (tmp_path / "my_models.py").write_text(USER_MODEL)
    digits = load_digits()
    np.savez(tmp_path / "digits.npz", x=digits.data.astype(np.float32) / 16, y=digits.target)
    data = study_dict(
        "user",
        study_output,
        workload={
            "model": "my_models:tiny_net",
            "dataset": "digits.npz",
            "training": {"epochs": 30},
        },
        search_space={
            "layers": [{"name": "hidden", "weights": {"bits": [3, 6]}}],
            "weights": {"kinds": ["fixed"], "bits": [2, 8]},
        },
        optimizer={"kind": "random", "budget": 6},
    )
    path = write_study(tmp_path / "study.yaml", data)
    result = run_study(load_study(path), path)
    assert result.complete == 6
    assert result.reference_accuracy > 0.85
    bits = result.table["param:hidden.weights.bits"]
    assert bits.between(3, 6).all()  # the per-layer rule overrides the default range
    assert result.table["param:out.weights.bits"].between(2, 8).all()

    # The same model from a state-dict checkpoint scores the same reference accuracy.
    setup = Problem.from_config(load_study(path), path)
    torch.save(setup.workload.model.state_dict(), tmp_path / "tiny.pt")
    data["study"]["name"] = "user_ckpt"
    data["workload"]["checkpoint"] = "tiny.pt"
    path2 = write_study(tmp_path / "study2.yaml", data)
    result2 = run_study(load_study(path2), path2)
    assert result2.reference_accuracy == pytest.approx(result.reference_accuracy)


def test_an_exhausted_space_stores_nothing_when_run_again(
    tmp_path: Path, study_output: Path
) -> None:
    """Two configurations (fc3 at 2 or 3 bits): the study scores both and stops; a rerun
    asks for no trial at all (it used to store ~200 DUPLICATE trials each time)."""
    space = {"include": ["fc3"], "weights": {"kinds": ["fixed"], "bits": [2, 3]}}
    data = study_dict(
        "exhausted", study_output, search_space=space, optimizer={"kind": "random", "budget": 10}
    )
    path = write_study(tmp_path / "s.yaml", data)
    first = run_study(load_study(path), path)
    assert first.complete == 2
    stored = len(first.records)
    again = run_study(load_study(path), path)
    assert len(again.records) == stored and again.complete == 2


def test_trials_csv_writes_trial_numbers_as_integers(tmp_path: Path, study_output: Path) -> None:
    space = {
        "include": ["fc3"],
        "weights": {"kinds": ["fixed", "shared"], "bits": [2, 3], "clusters": [2, 3]},
    }
    data = study_dict(
        "integers", study_output, search_space=space, optimizer={"kind": "random", "budget": 6}
    )
    path = write_study(tmp_path / "s.yaml", data)
    result = run_study(load_study(path), path)
    lines = result.files["trials"].read_text().splitlines()
    header = lines[0].split(",")
    column = header.index("duplicate_of")
    values = [line.split(",")[column] for line in lines[1:]]
    duplicates = [v for v in values if v]
    assert duplicates and all(v.isdigit() for v in duplicates)
