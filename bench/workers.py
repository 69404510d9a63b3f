"""Workers: evaluated trials per minute with 1, 2 and 4 workers on PostgreSQL and a journal.

Run ``python bench/workers.py`` (``--optimizers random bayesian``, ``--workers 1 2 4``,
``--backends postgresql journal``, ``--trials 200``, ``--seconds 0.5``; ``--json FILE`` keeps
the rows). Each case is a fresh study of the built-in LeNet-5/digits workload whose every
trial costs a fixed ``--seconds`` (the ``sleepy`` proxy plugin of the cluster tests: it sleeps,
then returns the normalized inertia), so the 2-core machine is not what limits the workers:
the storage, the study lock and dse's own per-trial work are. The study is initialized
(``python -m dse init``), then ``python -m dse worker STUDY --workers N`` runs it to its
budget; the numbers come from the stored trials: the window from the first evaluated trial's
start to the last one's end (process start-up is not in it), the evaluated trials per minute
in it, the scaling efficiency (rate with N workers / (N x rate with 1)), and the time each
worker spends per trial outside its evaluation ("overhead": N x window / trials - mean
evaluation time: sampling, the storage's reads and writes, the study lock, waiting).

PostgreSQL is a private server started from ``initdb`` (as the ``postgres`` user when run as
root, as the tests do; ``--postgres-url URL`` uses yours, one fresh database per case must be
creatable there); the journal is a file in a temporary folder on the local disk.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

import optuna  # noqa: E402

from dse.storage import make_storage, records  # noqa: E402
from tests.dse.conftest import sleepy_study, start_postgres  # noqa: E402


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "dse", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"python -m dse {' '.join(args)} failed:\n{done.stderr}")
    return done


def measure(url: str, name: str, workers: int, budget: int) -> dict[str, Any]:
    """The numbers of one finished case, from its stored trials."""
    study = optuna.load_study(study_name=name, storage=make_storage(url, create=False))
    trials = study.get_trials()
    evaluated = [t for t in trials if records.is_evaluated(t)]
    start = min(t.datetime_start for t in evaluated)
    end = max(t.datetime_complete for t in evaluated)
    window = (end - start).total_seconds()
    evaluation = statistics.mean(records.to_record(t).evaluation_s or 0.0 for t in evaluated)
    digests = {records.config_hash(t) for t in evaluated}
    return {
        "evaluated": len(evaluated),
        "exact": len(evaluated) == budget and len(digests) == budget,
        "duplicates": sum(records.is_duplicate(t) for t in trials),
        "failed": sum(t.state == optuna.trial.TrialState.FAIL for t in trials),
        "window_s": round(window, 1),
        "per_minute": round(len(evaluated) / window * 60, 1),
        "evaluation_s": round(evaluation, 3),
        "overhead_ms": round((workers * window / len(evaluated) - evaluation) * 1000, 1),
    }


def run_case(
    folder: Path, output: Path, url: str, name: str, *, optimizer: str, workers: int, args: Any
) -> dict[str, Any]:
    path = sleepy_study(
        folder,
        name,
        output,
        url=url,
        budget=args.trials,
        seconds=args.seconds,
        optimizer={"kind": optimizer},
        storage={"heartbeat_s": 10, "grace_s": 60},
    )
    _cli("init", str(path))
    started = time.perf_counter()
    _cli("worker", str(path), "--workers", str(workers))
    wall = time.perf_counter() - started
    return measure(url, name, workers, args.trials) | {"command_s": round(wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--optimizers", nargs="+", default=["random", "bayesian"])
    parser.add_argument("--backends", nargs="+", default=["postgresql", "journal"])
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2, 4])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--postgres-url", default=None, help="a server to create databases on")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dse-bench-workers-"))
    output = folder / "runs"
    server = None
    if "postgresql" in args.backends and args.postgres_url is None:
        server = start_postgres()
    rows: list[dict[str, Any]] = []
    try:
        for optimizer in args.optimizers:
            for backend in args.backends:
                for workers in args.workers:
                    name = f"{optimizer}_{backend}_{workers}"
                    if backend == "journal":
                        url = f"journal://{folder / name}.log"
                    elif server is not None:
                        url = server.new_database(name)
                    else:
                        import psycopg

                        with psycopg.connect(args.postgres_url, autocommit=True) as connection:
                            connection.execute(f'CREATE DATABASE "{name}"')
                        url = args.postgres_url.rsplit("/", 1)[0] + f"/{name}"
                    row = {"optimizer": optimizer, "backend": backend, "workers": workers}
                    row |= run_case(
                        folder, output, url, name, optimizer=optimizer, workers=workers, args=args
                    )
                    single = next(
                        (
                            r
                            for r in rows
                            if r["optimizer"] == optimizer
                            and r["backend"] == backend
                            and r["workers"] == 1
                        ),
                        row if workers == 1 else None,
                    )
                    if single is not None:
                        row["efficiency"] = round(
                            row["per_minute"] / (workers * single["per_minute"]), 3
                        )
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    finally:
        if server is not None:
            server.remove()
    print()
    print(
        "| optimizer | backend | workers | evaluated (exact) | window (s) | trials/min "
        "| efficiency | overhead per trial (ms) | evaluation (s) | duplicates | failed |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['optimizer']} | {r['backend']} | {r['workers']} | {r['evaluated']} "
            f"({'yes' if r['exact'] else 'NO'}) | {r['window_s']} | {r['per_minute']} "
            f"| {r.get('efficiency', '-')} | {r['overhead_ms']} | {r['evaluation_s']} "
            f"| {r['duplicates']} | {r['failed']} |"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
