"""Several workers sharing one study through its database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import optuna

from dse.cli import main
from dse.storage import records
from tests.conftest import ROOT, study_dict, write_study
from tests.dse.conftest import sleepy_study


def _run_alone_then_two_workers(
    study_output: Path,
    name: str,
    write: Callable[[int], Path],
    budgets: tuple[int, int],
) -> list[optuna.trial.FrozenTrial]:
    """One worker up to the first budget (in this process: it trains the model once, so both
    workers find it cached), then two `dse run` processes together up to the second (the
    study file rewritten by `write(budget)`); the evaluated trials, in order (repeats of a
    scored configuration are told, not scored, and not counted)."""
    assert main(["run", str(write(budgets[0])), "--no-progress"]) == 0
    path = write(budgets[1])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "dse", "run", str(path), "--no-progress"]
    workers = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=600) for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    trials = optuna.load_study(
        study_name=name, storage=f"sqlite:///{study_output / name / 'study.db'}"
    ).get_trials()
    return [t for t in trials if records.is_evaluated(t)]


def test_two_workers_share_one_sqlite_study(tmp_path: Path, study_output: Path) -> None:
    """Half a second per trial (the `sleepy` proxy), so that neither process can meet the
    budget alone before the other has started."""

    def write(budget: int) -> Path:
        return sleepy_study(tmp_path, "shared", study_output, url=None, budget=budget, seconds=0.5)

    budget = 12
    complete = _run_alone_then_two_workers(study_output, "shared", write, (budget, 3 * budget))
    assert len(complete) == 3 * budget  # exactly: a budget slot is taken under the study lock
    assert len({records.worker(t) for t in complete[budget:]}) == 2  # both worked
    assert len({t.number for t in complete}) == len(complete)


def test_two_bayesian_workers_never_score_one_configuration_twice(
    tmp_path: Path, study_output: Path
) -> None:
    """The cost-aware sampler leaves out what other workers run or are proposing."""
    path = tmp_path / "bayes.yaml"

    def write(budget: int) -> Path:
        optimizer = {"kind": "bayesian", "n_startup_trials": 5, "budget": budget}
        return write_study(path, study_dict("bayes", study_output, optimizer=optimizer))

    scored = _run_alone_then_two_workers(study_output, "bayes", write, (12, 36))
    assert len(scored) == 36
    assert len({records.worker(t) for t in scored[12:]}) == 2
    digests = [records.config_hash(t) for t in scored]
    assert len(set(digests)) == len(digests)
