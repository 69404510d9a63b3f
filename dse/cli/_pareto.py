"""`dse pareto STUDY.yaml`: the Pareto front as a table, filtered and sorted, with formats."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from dse.cli._common import format_table
from dse.cli._report import load_result
from dse.config import load_study
from results import PointQuery, filter_names, points_table

if TYPE_CHECKING:
    import pandas as pd

    from results import StudyResult

HELP = "print the Pareto front of a study as a table (filter with --where, order with --sort)"

RELATIVE = ("accuracy_drop", "compression_ratio")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", help="the study file (study.yaml)")
    parser.add_argument(
        "--params", action="store_true", help="also print each layer's active settings"
    )
    parser.add_argument(
        "--where",
        default=None,
        help='keep points where all conditions hold, e.g. "accuracy_drop<=0.01, lut<=20000" '
        "(names: objectives and metrics; accuracy figures as fractions)",
    )
    parser.add_argument(
        "--sort", default=None, metavar="NAME", help="order by NAME (--sort=-NAME: descending)"
    )
    best = parser.add_mutually_exclusive_group()
    best.add_argument("--min", default=None, metavar="NAME", help="keep the point of least NAME")
    best.add_argument("--max", default=None, metavar="NAME", help="keep the point of most NAME")


def main(args: argparse.Namespace) -> int:
    config = load_study(args.study)
    result = load_result(config, args.study)
    table = points_table(result)
    if not len(table):
        print("the front is empty (no complete, feasible trial yet)")
        return 0
    query = PointQuery.parse(
        filter_names(result),
        where=args.where,
        sort=args.sort,
        minimize=args.min,
        maximize=args.max,
    )
    front = query.apply(table)
    if not len(front):
        print(f"no front point matches {query.describe()} ({len(table)} on the front)")
        return 0
    columns = ["number", *result.objective_names]
    columns += [c for c in RELATIVE if c in front and c not in columns]
    rows = front[columns].to_dict("records")
    if args.params:
        settings = [active_settings(result, row) for _, row in front.iterrows()]
        names = [v.name for v in result.space.variables]
        used = [n for n in names if any(n in s for s in settings)]
        for row, setting in zip(rows, settings, strict=True):
            row.update(setting)
        columns += used
    print(format_table(rows, columns))
    if query.where or query.best:
        print(f"{len(front)} of {len(table)} front points: {query.describe()}")
    return 0


def active_settings(result: StudyResult, row: pd.Series) -> dict[str, Any]:
    """The point's parameters its layers' kinds read (a shared-weight layer has no `bits`)."""
    params = {
        name.removeprefix("param:"): value
        for name, value in row.items()
        if isinstance(name, str) and name.startswith("param:")
    }
    inactive = result.space.inactive(params)
    return {name: value for name, value in params.items() if name not in inactive}
