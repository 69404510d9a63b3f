"""`dse run STUDY.yaml`: run or resume a study, with a progress bar."""

from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from dse.config import load_study
from dse.study import LoopState, StopSignal, WorkerStopped, run_study

HELP = "run a study, or resume it where it stopped (the same command)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", help="the study file (study.yaml)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def main(args: argparse.Namespace) -> int:
    config = load_study(args.study)
    bar: tqdm | None = None

    def start(state: LoopState) -> None:
        nonlocal bar
        bar = tqdm(
            total=state.budget,
            initial=min(state.complete, state.budget),
            desc=config.study.name,
            unit="trial",
            disable=True if args.no_progress else None,  # None: hidden when not a terminal
        )

    def update(state: LoopState) -> None:
        assert bar is not None
        bar.n = min(state.complete, state.budget)
        bar.set_postfix(
            failed=state.failed,
            front=state.front_size,
            hv=f"{state.hypervolume:.4g}",
            refresh=False,
        )
        bar.refresh()

    try:
        with StopSignal() as stop:
            result = run_study(config, args.study, on_start=start, on_trial=update, stop=stop)
    except WorkerStopped as exc:
        print(
            f"dse: stopped by {exc.name}; the trial being evaluated is queued again, completed "
            "trials are kept: run again to resume",
            file=sys.stderr,
        )
        return 128 + exc.signum
    finally:
        if bar is not None:
            bar.close()
    t = result.timings
    rate = t["trials_this_run"] / t["optimize_s"] if t["optimize_s"] > 0 else 0.0
    print(
        f"study {result.name}: {result.complete} complete, {result.failed} failed, "
        f"front of {len(result.front)}; float accuracy {result.reference_accuracy:.4f}; "
        f"{t['trials_this_run']:.0f} trials this run in {t['optimize_s']:.1f} s "
        f"({rate:.1f}/s, setup {t['setup_s']:.1f} s)"
    )
    folder = result.files["study"].parent
    print(f"results in {folder}/ (report.html, trials.csv, pareto.csv, pareto.png, study.json)")
    return 0
