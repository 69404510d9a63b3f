"""`dse sensitivity STUDY.yaml`: profile each layer alone over its choices, cached."""

from __future__ import annotations

import argparse

from dse.config import load_study
from dse.study import run_sensitivity

HELP = (
    "sweep each layer alone over its choices (cached in the study folder), write a CSV and a "
    "plot per layer, and prune the space with --gate"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", help="the study file (study.yaml)")
    parser.add_argument(
        "--gate",
        type=float,
        default=None,
        metavar="DROP",
        help="prune: keep, per layer, the best k per index bit width (and the fixed widths) "
        "whose accuracy drop alone is at most DROP, e.g. 0.01",
    )


def main(args: argparse.Namespace) -> int:
    config = load_study(args.study)
    run = run_sensitivity(config, args.study, gate=args.gate)
    layers = len({e.layer for e in run.entries})
    cached = len(run.entries) - run.measured
    print(
        f"study {config.study.name}: {len(run.entries)} layer choices over {layers} layers, "
        f"{run.measured} measured in {run.seconds:.1f} s, {cached} from the cache"
    )
    if run.pruned is not None:
        print(
            f"pruned with a gate of {args.gate:g}: {run.space.size()} -> {run.pruned.size()} "
            f"points ({run.files['pruned']})"
        )
    print(f"results in {run.files['csv'].parent}/ (sensitivity.csv, sensitivity_<layer>.png)")
    return 0
