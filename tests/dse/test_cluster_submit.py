"""Workers as batch jobs: `dse submit` through submitit (its local executor), and SIGTERM."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import pytest
from optuna.trial import TrialState

from dse.cli import main
from dse.storage import records
from tests.conftest import ROOT
from tests.dse.conftest import (
    assert_budget_met_exactly,
    dse,
    load,
    open_when_created,
    sleepy_study,
    wait_for,
)


def test_submit_runs_workers_as_jobs_with_a_log_each(
    tmp_path: Path,
    study_output: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("submitit")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the jobs import dse from this checkout
    url = f"journal://{tmp_path / 'submitted.log'}"
    budget = 10
    path = sleepy_study(tmp_path, "submitted", study_output, url=url, budget=budget, seconds=0.3)
    logs = tmp_path / "logs"
    code = main(
        ["submit", str(path), "--workers", "2", "--cluster", "local", "--time", "10",
         "--logs", str(logs), "--wait"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "submitted 2 worker(s) of study submitted to local" in out
    assert "2 worker(s) evaluated" in out
    assert f"the study has {budget} of {budget} evaluated trials" in out
    assert len(list(logs.glob("*_log.out"))) == 2 and len(list(logs.glob("*_log.err"))) == 2
    assert_budget_met_exactly(load(url, "submitted"), budget)
    assert (study_output / "submitted" / "study.json").exists()  # the last job wrote it


def test_sigterm_fails_the_current_trial_and_queues_its_point(
    tmp_path: Path, study_output: Path
) -> None:
    """What a SLURM time limit does: the worker stops within its evaluation, the trial is
    failed with the reason, its point queued; the next worker scores it.

    Its trials last 10 minutes (`DSE_TEST_SLEEP_S`), so SIGTERM is sure to arrive within the
    evaluation, however slow the machine."""
    url = f"journal://{tmp_path / 'terminated.log'}"
    budget = 3  # the two warm-start points queued before the retry, then the retry
    path = sleepy_study(tmp_path, "terminated", study_output, url=url, budget=budget, seconds=1.0)
    worker = dse("worker", str(path), env={"DSE_TEST_SLEEP_S": "600"})
    me = f"{socket.gethostname()}:{worker.pid}"
    study = open_when_created(url, "terminated", worker)
    current: list = []

    def evaluating() -> bool:
        assert worker.poll() is None, worker.communicate()
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        current[:] = [t for t in running if records.worker(t) == me and records.evaluating(t)]
        return bool(current)

    try:
        wait_for(evaluating, 300, "the worker to evaluate a trial")
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=120)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 143, err
    assert "stopped by SIGTERM" in out
    stopped = current[0]
    trials = load(url, "terminated").get_trials()
    failed = records.to_record(next(t for t in trials if t.number == stopped.number))
    assert failed.state == "FAIL" and failed.fail_reason == "worker stopped by SIGTERM"
    queued = [t for t in trials if records.to_record(t).retry_of == stopped.number]
    assert len(queued) == 1 and queued[0].state == TrialState.WAITING
    assert main(["worker", str(path)]) == 0  # in this process: no start-up to wait for
    evaluated = assert_budget_met_exactly(load(url, "terminated"), budget)
    assert any(records.to_record(t).retry_of == stopped.number for t in evaluated)


def test_run_stops_cleanly_on_sigterm_too(
    tmp_path: Path,
    study_output: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`dse run` (in this process, its trials lasting 10 minutes) stopped by SIGTERM: exit
    code 143, its trial failed with the reason and its point queued, what was stored written."""
    import os
    import threading

    url = f"journal://{tmp_path / 'run_terminated.log'}"
    path = sleepy_study(tmp_path, "run_terminated", study_output, url=url, budget=3, seconds=0.1)
    monkeypatch.setenv("DSE_TEST_SLEEP_S", "600")
    seen: list = []

    def terminate_when_evaluating() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                running = load(url, "run_terminated").get_trials(
                    deepcopy=False, states=(TrialState.RUNNING,)
                )
            except Exception:  # noqa: BLE001 - not created yet
                running = []
            seen[:] = [t for t in running if records.evaluating(t)]
            if seen:
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(0.1)

    thread = threading.Thread(target=terminate_when_evaluating, daemon=True)
    thread.start()
    assert main(["run", str(path), "--no-progress"]) == 143
    thread.join()
    assert "dse: stopped by SIGTERM" in capsys.readouterr().err
    trials = load(url, "run_terminated").get_trials()
    failed = records.to_record(next(t for t in trials if t.number == seen[0].number))
    assert failed.state == "FAIL" and failed.fail_reason == "worker stopped by SIGTERM"
    assert [records.to_record(t).retry_of for t in trials if t.state == TrialState.WAITING] == [
        None,
        None,
        seen[0].number,
    ]
    assert (study_output / "run_terminated" / "trials.csv").exists()
