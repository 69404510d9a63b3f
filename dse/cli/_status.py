"""`dse status STUDY.yaml`: counts of trials and the current front."""

from __future__ import annotations

import argparse

from dse.cli._common import format_table, load_records
from dse.config import load_study
from results import front_rows, trials_table

HELP = "show how far a study is: trials complete, failed, remaining, and the current front"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", help="the study file (study.yaml)")


def main(args: argparse.Namespace) -> int:
    config = load_study(args.study)
    table = trials_table(load_records(config), config.objective_names, config.directions)
    states = table["state"].value_counts().to_dict() if len(table) else {}
    complete = int(states.get("COMPLETE", 0))
    budget = config.optimizer.budget
    print(
        f"study {config.study.name}: {complete} complete, {int(states.get('FAIL', 0))} failed, "
        f"{int(states.get('RUNNING', 0))} running, {max(0, budget - complete)} remaining "
        f"of a budget of {budget}"
        + (f" ({states['DUPLICATE']} repeated proposals skipped)" if "DUPLICATE" in states else "")
    )
    front = front_rows(table)
    print(f"current front: {len(front)} trial(s)")
    if len(front):
        columns = ["number", *config.objective_names]
        print(format_table(front[columns].to_dict("records"), columns))
    return 0
