"""`dse worker STUDY.yaml [--workers N]`: worker processes on a shared study, one summary."""

from __future__ import annotations

import argparse
import sys

from dse.config import load_study
from dse.study import WorkersResult, run_workers

HELP = (
    "run N worker processes on a study until its budget is met across all workers (start it "
    "on several hosts, or as SLURM tasks, on one PostgreSQL study or journal file); SIGTERM "
    "stops them cleanly, their trials queued again"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", help="the study file (study.yaml)")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="worker processes on this host (default 1); each uses evaluator.threads threads",
    )


def main(args: argparse.Namespace) -> int:
    config = load_study(args.study)
    result = run_workers(config, args.study, workers=args.workers)
    print(summary(config.study.name, result))
    if result.files:
        print(f"results in {result.files['study'].parent}/ (trials.csv, pareto.csv, study.json)")
    for error in result.errors:
        print(f"dse: error: {error}".replace("\n", " "), file=sys.stderr)
    if any(w.stopped for w in result.workers):
        return 143
    return 2 if result.errors and not result.evaluated else 0


def summary(name: str, result: WorkersResult) -> str:
    """One line: what the workers did and where the study stands."""
    workers = result.workers
    minutes = result.seconds / 60
    rate = result.evaluated / minutes if minutes > 0 else 0.0
    extra = [f"{sum(w.failed for w in workers)} failed"]
    duplicates = sum(w.duplicates for w in workers)
    if duplicates:
        extra.append(f"{duplicates} repeated proposals told without scoring")
    retried = sum(w.retried for w in workers)
    if retried:
        extra.append(f"{retried} trial(s) of lost workers retried")
    stopped = sorted({w.stopped for w in workers if w.stopped})
    if stopped:
        extra.append(f"stopped by {', '.join(stopped)}")
    return (
        f"study {name}: {len(workers)} worker(s) evaluated {result.evaluated} trials "
        f"({', '.join(extra)}) in {result.seconds:.1f} s ({rate:.1f}/min); the study has "
        f"{result.complete} of {result.budget} evaluated trials"
    )
