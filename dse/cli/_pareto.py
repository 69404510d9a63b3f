"""`dse pareto STUDY.yaml`: the Pareto front as a table, with each point's formats."""

from __future__ import annotations

import argparse

from dse.cli._common import format_table, load_trials
from dse.config import load_study
from dse.results import front_rows, trials_table

HELP = "print the Pareto front of a study as a table"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", help="the study file (study.yaml)")
    parser.add_argument("--params", action="store_true", help="also print each point's parameters")


def main(args: argparse.Namespace) -> int:
    config = load_study(args.study)
    table = trials_table(load_trials(config), config.objective_names, config.directions)
    front = front_rows(table)
    if not len(front):
        print("the front is empty (no complete, feasible trial yet)")
        return 0
    first = config.objective_names[0]
    front = front.sort_values(first, ascending=config.directions[0] == "minimize")
    columns = ["number", *config.objective_names]
    if args.params:
        columns += [c for c in front.columns if c.startswith("param:")]
    print(format_table(front[columns].to_dict("records"), columns))
    return 0
