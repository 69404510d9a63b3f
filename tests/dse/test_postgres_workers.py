"""Many workers on one study in a real PostgreSQL server (the `postgres` fixture).

Every trial of these studies sleeps (the `sleepy` proxy), so workers overlap the way slow
evaluations make them, on a machine with few cores.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dse.cli import main
from dse.storage import records
from tests.dse.conftest import (
    PostgresServer,
    assert_budget_met_exactly,
    dse,
    finish,
    kill_a_worker_on_another_host,
    load,
    sleepy_study,
    wait_for,
)


def test_workers_started_together_on_a_fresh_database_all_run(
    postgres: PostgresServer, tmp_path: Path, study_output: Path
) -> None:
    """Four processes (`worker` and `run`) on a database without tables: one creates the
    schema and the study and does the one-time work, all run, the budget is met exactly and
    no configuration is scored twice (it used to fail with "duplicate key value violates
    unique constraint pg_type_typname_nsp_index")."""
    url = postgres.new_database("together")
    budget = 16
    path = sleepy_study(tmp_path, "together", study_output, url=url, budget=budget, seconds=0.5)
    commands = [("worker",), ("worker",), ("run", "--no-progress"), ("worker",)]
    processes = [dse(command[0], str(path), *command[1:]) for command in commands]
    outputs = finish(processes)
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        assert "Traceback" not in err, err
    assert all(f"the study has {budget} of {budget} evaluated" in out for out, _ in outputs[:2])
    evaluated = assert_budget_met_exactly(load(url, "together"), budget)
    assert len({records.worker(t) for t in evaluated}) >= 2
    assert (study_output / "together" / "study.json").exists()


def test_killed_worker_is_noticed_by_its_heartbeat_and_its_trial_retried(
    postgres: PostgresServer, tmp_path: Path, study_output: Path
) -> None:
    url = postgres.new_database("killed")
    kill_a_worker_on_another_host(url, tmp_path, study_output, "killed", workers=1)


def test_workers_reconnect_when_the_server_restarts(
    postgres: PostgresServer,
    tmp_path: Path,
    study_output: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = postgres.new_database("restarted")
    budget = 16
    path = sleepy_study(tmp_path, "restarted", study_output, url=url, budget=budget, seconds=0.3)
    assert main(["init", str(path)]) == 0  # in this process: no start-up to wait for
    out = capsys.readouterr().out
    assert out.startswith("study restarted initialized in postgresql://postgres@/restarted?")
    assert "3 point(s) queued" in out  # uniform 8 bits and 16 clusters, a design point
    workers = dse("worker", str(path), "--workers", "2")
    study = load(url, "restarted")
    wait_for(
        lambda: sum(records.is_evaluated(t) for t in study.get_trials()) >= 3,
        300,
        "3 evaluated trials",
    )
    postgres.stop("fast")  # ends every session, as a database restart does
    time.sleep(1)
    postgres.start()
    out, err = workers.communicate(timeout=600)
    assert workers.returncode == 0, err
    assert "unreachable" in err  # the workers noticed, and waited
    assert f"the study has {budget} of {budget} evaluated trials" in out
    assert_budget_met_exactly(load(url, "restarted"), budget)


def test_password_from_the_environment_never_reaches_files(
    postgres: PostgresServer,
    tmp_path: Path,
    study_output: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The password comes from `${VAR}` (or is written in the URL): studies run over TCP with
    password authentication, and no file of the study folder nor any output holds it."""
    secret = "pa55-w0rd-not-in-files"
    postgres.execute(f"CREATE ROLE dse LOGIN PASSWORD '{secret}'")
    postgres.execute("CREATE DATABASE secret OWNER dse")
    tcp = f"127.0.0.1:{postgres.port}/secret"
    urls = {
        "from_env": f"postgresql://dse:${{DSE_TEST_PG_PASSWORD}}@{tcp}",
        "literal": f"postgresql://dse:{secret}@{tcp}",
    }
    paths = [
        sleepy_study(tmp_path, name, study_output, url=url, budget=4, seconds=0.01)
        for name, url in urls.items()
    ]
    monkeypatch.setenv("DSE_TEST_PG_PASSWORD", secret)
    for path in paths:  # in this process: its logs are `caplog`'s
        assert main(["run", str(path), "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert "study from_env: 4 complete" in out and "study literal: 4 complete" in out
    assert secret not in out + err + caplog.text
    for name in urls:
        for file in (study_output / name).rglob("*"):
            if file.is_file():
                assert secret.encode() not in file.read_bytes(), file
    literal = (study_output / "literal" / "study.json").read_text()
    assert "postgresql://dse:***@127.0.0.1" in literal
    from_env = (study_output / "from_env" / "study.json").read_text()
    assert "postgresql://dse:${DSE_TEST_PG_PASSWORD}@127.0.0.1" in from_env
