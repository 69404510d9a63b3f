"""Several workers sharing one study through its database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import optuna

from tests.conftest import ROOT, study_dict, write_study


def test_two_workers_share_one_sqlite_study(tmp_path: Path, study_output: Path) -> None:
    budget = 40
    path = write_study(
        tmp_path / "s.yaml",
        study_dict("shared", study_output, optimizer={"kind": "random", "budget": budget}),
    )
    # Train the model once first, so both workers find it cached.
    first = subprocess.run(
        [sys.executable, "-m", "dse", "run", str(path), "--no-progress"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    assert first.returncode == 0, first.stderr
    data = study_dict("shared", study_output, optimizer={"kind": "random", "budget": 2 * budget})
    path = write_study(tmp_path / "s.yaml", data)
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "dse", "run", str(path), "--no-progress"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    trials = optuna.load_study(
        study_name="shared", storage=f"sqlite:///{study_output / 'shared' / 'study.db'}"
    ).get_trials()
    complete = [
        t
        for t in trials
        if t.state == optuna.trial.TrialState.COMPLETE and "dse:duplicate_of" not in t.user_attrs
    ]  # evaluated: repeats of a scored configuration are told, not scored, and not counted
    # Each worker checks the budget before it asks: at most one trial per extra worker over.
    assert 2 * budget <= len(complete) <= 2 * budget + 1
    assert len({t.user_attrs["dse:worker"] for t in complete[budget:]}) == 2  # both worked
    assert len({t.number for t in complete}) == len(complete)


def test_two_bayesian_workers_never_score_one_configuration_twice(
    tmp_path: Path, study_output: Path
) -> None:
    """The cost-aware sampler leaves out what other workers run or are proposing."""
    optimizer = {"kind": "bayesian", "n_startup_trials": 5, "budget": 12}
    path = write_study(tmp_path / "b.yaml", study_dict("bayes", study_output, optimizer=optimizer))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "dse", "run", str(path), "--no-progress"]
    first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    optimizer["budget"] = 36
    write_study(tmp_path / "b.yaml", study_dict("bayes", study_output, optimizer=optimizer))
    workers = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    trials = optuna.load_study(
        study_name="bayes", storage=f"sqlite:///{study_output / 'bayes' / 'study.db'}"
    ).get_trials()
    scored = [
        t
        for t in trials
        if t.state == optuna.trial.TrialState.COMPLETE and "dse:duplicate_of" not in t.user_attrs
    ]
    assert 36 <= len(scored) <= 37
    assert len({t.user_attrs["dse:worker"] for t in scored[12:]}) == 2
    digests = [t.user_attrs["config_hash"] for t in scored]
    assert len(set(digests)) == len(digests)
