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
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    # Each worker checks the budget before it asks: at most one trial per extra worker over.
    assert 2 * budget <= len(complete) <= 2 * budget + 1
    assert len({t.user_attrs["dse:worker"] for t in complete[budget:]}) == 2  # both worked
    assert len({t.number for t in complete}) == len(complete)
