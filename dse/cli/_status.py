"""`dse status STUDY.yaml`: counts of trials, the workers alive, and the current front."""

from __future__ import annotations

import argparse

from dse.cli._common import format_table, load_stored_study
from dse.config import load_study
from dse.storage import (
    WorkerState,
    read_records,
    worker_states,
)
from results import front_rows, trials_table

HELP = (
    "show how far a study is: trials complete, failed, remaining, the workers alive with "
    "their last heartbeat, and the current front"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", help="the study file (study.yaml)")


def main(args: argparse.Namespace) -> int:
    config = load_study(args.study)
    study = load_stored_study(config)
    table = trials_table(read_records(study), config.objective_names, config.directions)
    states = table["state"].value_counts().to_dict() if len(table) else {}
    complete = int(states.get("COMPLETE", 0))
    budget = config.optimizer.budget
    print(
        f"study {config.study.name}: {complete} complete, {int(states.get('FAIL', 0))} failed, "
        f"{int(states.get('RUNNING', 0))} running, {max(0, budget - complete)} remaining "
        f"of a budget of {budget}"
        + (f" ({states['DUPLICATE']} repeated proposals skipped)" if "DUPLICATE" in states else "")
    )
    workers = worker_states(study, config.storage.grace_s)
    if workers:
        print(describe_workers(workers, config.storage.grace_s))
    front = front_rows(table)
    print(f"current front: {len(front)} trial(s)")
    if len(front):
        columns = ["number", *config.objective_names]
        print(format_table(front[columns].to_dict("records"), columns))
    return 0


def describe_workers(workers: list[WorkerState], grace_s: float) -> str:
    """A count of workers by state, then a table of those alive or lost."""
    counts: dict[str, int] = {}
    for worker in workers:
        counts[worker.state] = counts.get(worker.state, 0) + 1
    alive = sum(w.alive for w in workers)
    parts = [f"{alive} alive"] + [
        f"{n} {state}" for state, n in sorted(counts.items()) if state in ("stopped", "lost")
    ]
    lines = [f"workers: {', '.join(parts)} (lost: no heartbeat for {grace_s:g} s)"]
    shown = [w for w in workers if w.state != "stopped"]
    if shown:
        columns = ["worker", "state", "last heartbeat", "trial", "evaluated"]
        rows = [
            {
                "worker": w.worker,
                "state": w.state,
                "last heartbeat": "-" if w.last_beat_s is None else f"{w.last_beat_s:.0f} s ago",
                "trial": w.trial,
                "evaluated": w.evaluated,
            }
            for w in shown
        ]
        lines.append(format_table(rows, columns))
    return "\n".join(lines)
