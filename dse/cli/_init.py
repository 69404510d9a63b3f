"""`dse init STUDY.yaml`: the study's one-time work, once, before workers start."""

from __future__ import annotations

import argparse

from dse.config import load_study
from dse.storage import redact_url, storage_url
from dse.study import init_study

HELP = (
    "do a study's one-time work: create it in its storage, train or load the model into the "
    "shared cache, fix its reference point, queue its first points (run and worker do it "
    "when it was not done; safe when many start together)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", help="the study file (study.yaml)")


def main(args: argparse.Namespace) -> int:
    config = load_study(args.study)
    result = init_study(config, args.study)
    where = redact_url(storage_url(config))
    problem = result.problem
    model = "" if problem.workload is None else f"{problem.workload.description}; "
    if result.did_init:
        print(
            f"study {config.study.name} initialized in {where} in {result.seconds:.1f} s: "
            f"{model}float accuracy {problem.reference_accuracy:.4f}; "
            f"{result.queued} point(s) queued"
        )
    else:
        print(
            f"study {config.study.name} in {where} was initialized before "
            f"({result.queued} point(s) queued); {model}float accuracy "
            f"{problem.reference_accuracy:.4f}"
        )
    return 0
