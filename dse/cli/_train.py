"""`dse train STUDY.yaml`: the workload step alone: train (or load) the float model, report it."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from dse.config import load_study
from dse.study import load_workload
from evaluators import AccuracyEvaluator, read_checkpoint, save_checkpoint
from results import atomic_write, provenance

HELP = (
    "train the study's float model (resuming an interrupted training), or load it; print its "
    "validation and test accuracy; --output copies the checkpoint with a provenance file"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", help="the study file (study.yaml)")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        metavar="FILE.pt",
        help="also write the trained weights (unfolded, with their input normalization and the "
        "data split they were trained on) "
        "there, and FILE.json with the command, recipe, seed and accuracies",
    )


def main(args: argparse.Namespace) -> int:
    config = load_study(args.study)
    started = time.perf_counter()
    workload = load_workload(config, args.study)
    seconds = time.perf_counter() - started
    accuracy = {
        split: AccuracyEvaluator(workload, split=split).reference().accuracy
        for split in ("validation", "test")
        if workload.data.test is not None or split == "validation"
    }
    print(f"{workload.description}: " + ", ".join(f"{k} {v:.4f}" for k, v in accuracy.items()))
    if args.output is not None:
        if workload.weights_file is None or not workload.weights_file.exists():
            print("dse: error: no weights file to copy (the model has no cache)", file=sys.stderr)
            return 2
        args.output.parent.mkdir(parents=True, exist_ok=True)
        held = read_checkpoint(workload.weights_file)
        if config.workload.checkpoint is None:  # trained here (or cached): on this split
            split_seed, fingerprint = config.study.seed, workload.data.fingerprint
        else:  # the study's own checkpoint: what it records
            split_seed, fingerprint = held.split_seed, held.data_fingerprint
        save_checkpoint(
            held.state_dict,
            held.normalization or workload.data.normalization,
            args.output,
            split_seed=split_seed,
            data_fingerprint=fingerprint,
        )
        record = {
            "command": "python -m dse train " + " ".join(sys.argv[2:]),
            "study_file": str(args.study),
            "workload": config.workload.model_dump(mode="json"),
            "seed": config.study.seed,
            "split_seed": split_seed,
            "accuracy": accuracy,
            "normalization": workload.data.normalization.to_dict(),
            "data_fingerprint": workload.data.fingerprint,
            "seconds": round(seconds, 1),
            "provenance": provenance(
                config.config_hash(), config.identity_hash(), config.study.seed
            ),
        }
        note = args.output.with_suffix(".json")
        atomic_write(note, json.dumps(record, indent=2, sort_keys=True) + "\n")
        print(f"weights -> {args.output}, provenance -> {note}")
    return 0
