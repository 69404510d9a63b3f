"""Several workers sharing one study through its database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import optuna

from dse.storage import records
from tests.conftest import ROOT, study_dict, write_study


def _run_alone_then_two_workers(
    tmp_path: Path,
    study_output: Path,
    name: str,
    optimizer: dict[str, Any],
    budgets: tuple[int, int],
) -> list[optuna.trial.FrozenTrial]:
    """One worker up to the first budget (training the model once, so both workers find it
    cached), then two workers together up to the second; the evaluated trials, in order
    (repeats of a scored configuration are told, not scored, and not counted)."""
    path = tmp_path / f"{name}.yaml"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "dse", "run", str(path), "--no-progress"]

    def write(budget: int) -> None:
        section = {**optimizer, "budget": budget}
        write_study(path, study_dict(name, study_output, optimizer=section))

    write(budgets[0])
    first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    write(budgets[1])
    workers = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    trials = optuna.load_study(
        study_name=name, storage=f"sqlite:///{study_output / name / 'study.db'}"
    ).get_trials()
    return [t for t in trials if records.is_evaluated(t)]


def test_two_workers_share_one_sqlite_study(tmp_path: Path, study_output: Path) -> None:
    budget = 40
    complete = _run_alone_then_two_workers(
        tmp_path, study_output, "shared", {"kind": "random"}, (budget, 2 * budget)
    )
    # Each worker checks the budget before it asks: at most one trial per extra worker over.
    assert 2 * budget <= len(complete) <= 2 * budget + 1
    assert len({records.worker(t) for t in complete[budget:]}) == 2  # both worked
    assert len({t.number for t in complete}) == len(complete)


def test_two_bayesian_workers_never_score_one_configuration_twice(
    tmp_path: Path, study_output: Path
) -> None:
    """The cost-aware sampler leaves out what other workers run or are proposing."""
    optimizer = {"kind": "bayesian", "n_startup_trials": 5}
    scored = _run_alone_then_two_workers(tmp_path, study_output, "bayes", optimizer, (12, 36))
    assert 36 <= len(scored) <= 37
    assert len({records.worker(t) for t in scored[12:]}) == 2
    digests = [records.config_hash(t) for t in scored]
    assert len(set(digests)) == len(digests)
