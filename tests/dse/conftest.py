"""Fixtures of the cluster tests: a private PostgreSQL server, studies with a slow proxy.

The server is a real one: `initdb` in a temporary folder, its own socket folder and port,
run as the `postgres` user when the tests run as root (PostgreSQL refuses to run as root).
Without PostgreSQL installed the tests that need it are skipped, except in CI (`CI` set),
where they fail: CI must install it (`apt-get install -y postgresql`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, study_dict, write_study

SLEEPY_PROXY = '''
"""A proxy that costs a fixed time per configuration (a stand-in for a slow evaluator)."""
import os
import time
from dataclasses import dataclass

from evaluators import Proxy, get_proxy, register_proxy


@dataclass(frozen=True)
class SleepySettings:
    seconds: float = 0.5
    free_calls: int = 3


@register_proxy("sleepy", SleepySettings)
class SleepyProxy(Proxy):
    """Sleeps `seconds` per value (`DSE_TEST_SLEEP_S` in this process's environment, if
    set), except for the first `free_calls` of a process: the calibration design, fitted as
    each worker starts, so that only trials cost time."""

    def __init__(self, workload, *, calibration_samples=256, options=None):
        super().__init__(workload, calibration_samples=calibration_samples, options=options)
        inner = get_proxy("normalized_inertia")
        self._inner = inner(workload, calibration_samples=calibration_samples)
        self._calls = 0

    def value(self, configuration):
        self._calls += 1
        if self._calls > self.options.free_calls:
            time.sleep(float(os.environ.get("DSE_TEST_SLEEP_S", self.options.seconds)))
        return self._inner.value(configuration)
'''


def sleepy_study(
    folder: Path,
    name: str,
    output: Path,
    *,
    url: str | None,
    budget: int,
    seconds: float,
    optimizer: dict[str, Any] | None = None,
    storage: dict[str, Any] | None = None,
) -> Path:
    """A study file whose every trial sleeps `seconds` (the `sleepy` proxy plugin), on `url`,
    with fast heartbeats (0.5 s, lost after 5 s: ten missed, so a loaded machine does not
    lose a live worker) unless `storage` says otherwise."""
    (folder / "sleepy_proxy.py").write_text(SLEEPY_PROXY)
    data = study_dict(
        name,
        output,
        optimizer={"kind": "random", "budget": budget, **(optimizer or {})},
        evaluator={
            "kind": "sleepy",
            "options": {"seconds": seconds},
            "calibration_trials": 3,
            "refresh_every": 0,
            "fidelity_threshold": -1,
            "rescore_front": False,
        },
        storage=(storage or {"heartbeat_s": 0.5, "grace_s": 5, "reconnect_s": 120})
        | ({"url": url} if url else {}),
    )
    data["plugins"] = ["sleepy_proxy"]
    return write_study(folder / f"{name}.yaml", data)


def dse(*args: str, env: dict[str, str] | None = None, **popen: Any) -> subprocess.Popen:
    """`python -m dse ARGS` started in the background (output captured)."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "dse", *args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def finish(processes: list[subprocess.Popen], timeout: float = 600) -> list[tuple[str, str]]:
    """Wait for every process; their (stdout, stderr)."""
    return [p.communicate(timeout=timeout) for p in processes]


# --- PostgreSQL -----------------------------------------------------------------------------


def _postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    """A private PostgreSQL cluster: its binaries, data and socket folders, and port."""

    bin: Path
    folder: Path
    port: int
    as_user: tuple[str, ...]

    @property
    def socket_dir(self) -> Path:
        return self.folder

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self.as_user, str(self.bin / tool), *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=300"
        )
        self._run(
            "pg_ctl", "-D", str(self.folder / "data"), "-o", options, "-l",
            str(self.folder / "server.log"), "-w", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", mode, "-w", "stop")

    def execute(self, sql: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(
            host=str(self.socket_dir), port=self.port, user="postgres", dbname=database,
            autocommit=True,
        ) as connection:  # fmt: skip
            connection.execute(sql)

    def remove(self) -> None:
        """Stop the server at once and delete its folder."""
        data = str(self.folder / "data")
        self._run("pg_ctl", "-D", data, "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str) -> str:
        """A URL of `database` over the server's socket (no password needed there)."""
        return f"postgresql://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def new_database(self, name: str) -> str:
        """Create an empty database; its URL."""
        self.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def postgres_missing() -> str | None:
    """Why no private PostgreSQL server can be started here, or None."""
    if _postgres_bin() is None:
        return "PostgreSQL is not installed (no initdb)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[dev]')"
    return None


def start_postgres() -> PostgresServer:
    """`initdb` a cluster in a new temporary folder and start it (as `postgres` when root).

    Raises:
        RuntimeError: PostgreSQL or psycopg is not installed (`postgres_missing`).
    """
    missing = postgres_missing()
    if missing is not None:
        raise RuntimeError(missing)
    bindir = _postgres_bin()
    assert bindir is not None
    folder = Path(tempfile.mkdtemp(prefix="dse-pg-"))
    as_user: tuple[str, ...] = ()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        as_user = ("runuser", "-u", "postgres", "--")
    server = PostgresServer(bindir, folder, _free_port(), as_user)
    server._run(
        "initdb", "-D", str(folder / "data"), "-U", "postgres", "-E", "UTF8",
        "--auth-local=trust", "--auth-host=scram-sha-256",
    )  # fmt: skip
    server.start()
    return server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of the session's own, started from `initdb`."""
    missing = postgres_missing()
    if missing is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{missing}, and CI is set: install postgresql (apt) and psycopg")
        pytest.skip(f"{missing}; CI runs these tests")
    server = start_postgres()
    try:
        yield server
    finally:
        server.remove()


def wait_for(condition: Any, timeout: float, what: str) -> None:
    """Poll `condition()` every 0.1 s until true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def open_when_created(url: str, name: str, creator: subprocess.Popen, timeout: float = 300) -> Any:
    """Study `name` at `url` once `creator` (a worker starting) has created it; one storage
    connection, for the test's reads while workers run."""
    import optuna

    from dse.storage import make_storage

    storage = make_storage(url)

    def created() -> bool:
        assert creator.poll() is None, creator.communicate()
        return name in [s.study_name for s in storage.get_all_studies()]

    wait_for(created, timeout, f"study {name} to be created")
    return optuna.load_study(study_name=name, storage=storage)


# --- scenarios shared by the PostgreSQL and journal tests --------------------------------------


def load(url: str, name: str) -> Any:
    """The stored study `name` at `url` (a fresh connection)."""
    import optuna

    from dse.storage import make_storage

    return optuna.load_study(study_name=name, storage=make_storage(url, create=False))


def assert_budget_met_exactly(study: Any, budget: int) -> list[Any]:
    """Exactly `budget` evaluated trials, no configuration evaluated twice, none left running;
    the evaluated trials."""
    from optuna.trial import TrialState

    from dse.storage import records

    trials = study.get_trials()
    evaluated = [t for t in trials if records.is_evaluated(t)]
    assert len(evaluated) == budget
    digests = [records.config_hash(t) for t in evaluated]
    assert None not in digests and len(set(digests)) == budget  # none scored twice
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    return evaluated


def kill_a_worker_on_another_host(
    url: str, folder: Path, output: Path, name: str, *, workers: int, budget: int = 6
) -> None:
    """SIGKILL a worker mid-trial; the others must fail its trial by its silent heartbeat,
    retry its point once and still meet the budget exactly.

    The victim names its host `remote-host` (`DSE_WORKER_HOST`), so the survivors cannot see
    its process is gone: they must notice its heartbeat stopped, as for a worker on another
    machine. Its trials last 10 minutes (`DSE_TEST_SLEEP_S`), so the trial it evaluates is
    the one it dies in, however slow the machine; it is killed once the others (`dse worker
    --workers N`) work.
    """
    from optuna.trial import TrialState

    from dse.storage import records

    path = sleepy_study(folder, name, output, url=url, budget=budget, seconds=0.5)
    victim = dse(
        "worker", str(path), env={"DSE_WORKER_HOST": "remote-host", "DSE_TEST_SLEEP_S": "600"}
    )
    victim_id = f"remote-host:{victim.pid}"
    others: subprocess.Popen | None = None
    target: list[Any] = []
    try:
        study = open_when_created(url, name, victim)

        def victim_evaluates() -> bool:
            assert victim.poll() is None, victim.communicate()
            running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            target[:] = [
                t for t in running if records.worker(t) == victim_id and records.evaluating(t)
            ]
            return bool(target)

        def others_work() -> bool:
            assert others is not None and others.poll() is None, others.communicate()
            trials = study.get_trials(deepcopy=False)
            return any(records.worker(t) not in (None, victim_id) for t in trials)

        wait_for(victim_evaluates, 300, "the victim to evaluate a trial")
        others = dse("worker", str(path), "--workers", str(workers))
        wait_for(others_work, 300, "the other workers to start trials")
        kill_outside_locks(victim, url)
        out, err = others.communicate(timeout=600)
    finally:
        for process in (victim, others):
            if process is not None and process.poll() is None:
                process.kill()
                process.communicate()
    assert others.returncode == 0, err
    assert "1 trial(s) of lost workers retried" in out, out
    killed = target[0]
    study = load(url, name)
    trials = {t.number: t for t in study.get_trials()}
    lost = records.to_record(trials[killed.number])
    assert lost.state == "FAIL"
    assert lost.fail_reason.startswith("worker lost: no heartbeat for"), lost.fail_reason
    retries = [t for t in trials.values() if records.to_record(t).retry_of == killed.number]
    assert len(retries) == 1 and retries[0].params == killed.params
    assert records.is_evaluated(retries[0])
    assert_budget_met_exactly(study, budget)
    status = cli_output("status", str(path))  # the victim is listed as lost
    assert f"workers: 0 alive, 1 lost, {workers} stopped (lost: no heartbeat for 5 s)" in status
    assert any(
        line.split()[:2] == [victim_id, "lost"] and line.split()[-1] == "0"
        for line in status.splitlines()
    ), status


def cli_output(*args: str) -> str:
    """What `python -m dse ARGS` prints, run in this process (no start-up to wait for)."""
    import contextlib
    import io

    from dse.cli import main

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(list(args))
    assert code == 0, buffer.getvalue()
    return buffer.getvalue()


def kill_outside_locks(process: subprocess.Popen, url: str) -> None:
    """SIGKILL `process`, at a moment it holds none of a journal's lock files (Optuna's and the
    study lock): the others would break them only after 30 s. It is frozen (SIGSTOP) to look."""
    import signal

    path = url.removeprefix("journal://")
    locks = [Path(f"{path}.lock"), Path(f"{path}.dse-lock")] if url.startswith("journal") else []
    deadline = time.monotonic() + 60
    while True:
        process.send_signal(signal.SIGSTOP)
        if not any(lock.exists() for lock in locks) or time.monotonic() > deadline:
            process.kill()
            process.wait()
            return
        process.send_signal(signal.SIGCONT)
        time.sleep(0.02)
