"""`dse export STUDY.yaml (--trial N | --where ... --min NAME) [--to DIR]`: one point of a
study as an hls4ml project, a C header of its weights and test vectors."""

from __future__ import annotations

import argparse
from pathlib import Path

from dse.cli._report import load_result
from dse.config import load_study
from dse.study import load_workload, output_dir
from results import ResultsError, StudyResult, export_point, points_table, select_points

HELP = (
    "export a point of a study (--trial N, or --where/--min/--max over the front) to an "
    "hls4ml project, a C header of its weights and test vectors"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", help="the study file (study.yaml)")
    parser.add_argument("--trial", type=int, default=None, metavar="N", help="the trial to export")
    parser.add_argument(
        "--where",
        default=None,
        help='pick among the front points where all conditions hold, e.g. "accuracy_drop<=0.01, '
        'lut<=20000" (with --min/--max when several match)',
    )
    best = parser.add_mutually_exclusive_group()
    best.add_argument("--min", default=None, metavar="NAME", help="the point of least NAME")
    best.add_argument("--max", default=None, metavar="NAME", help="the point of most NAME")
    parser.add_argument(
        "--to",
        type=Path,
        default=None,
        metavar="DIR",
        help="the export folder (default: <study output>/export/trial-<N>/)",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=1000,
        metavar="N",
        help="test vectors to write, from the test split (default: 1000)",
    )


def main(args: argparse.Namespace) -> int:
    by_query = args.where is not None or args.min is not None or args.max is not None
    if (args.trial is None) == (not by_query):
        raise ResultsError(
            "export: pick one point, with --trial N or with --where/--min/--max (not both)"
        )
    config = load_study(args.study)
    result = load_result(config, args.study)
    number = args.trial if args.trial is not None else pick(result, args)
    folder = args.to or output_dir(config) / "export" / f"trial-{number}"
    workload = load_workload(config, args.study)
    export = export_point(
        result,
        number,
        workload.model,
        workload.data,
        folder,
        study_file=args.study,
        samples=args.samples,
    )
    values = ", ".join(
        f"{name} {value:.6g}"
        for name, value in zip(
            result.objective_names,
            next(r for r in result.records if r.number == export.number).values or (),
            strict=False,
        )
    )
    print(f"trial {export.number} ({values}) -> {export.folder}")
    print(f"  configuration.json, state_dict.pt, weights.h, {export.samples} test vectors")
    if not export.has_project:
        print("  no hls4ml project (not verified): " + "; ".join(export.unsupported))
    elif export.exact:
        print(f"  hls4ml project: hls4ml/ (bit-exact expected: dse verify {export.folder})")
    else:
        print("  hls4ml project: hls4ml/ (not bit-exact: " + "; ".join(export.notes) + ")")
    return 0


def pick(result: StudyResult, args: argparse.Namespace) -> int:
    """The one front point `--where`/`--min`/`--max` select.

    Raises:
        ResultsError: none matches, or several do without --min/--max to choose.
    """
    rows = select_points(result, where=args.where, minimize=args.min, maximize=args.max)
    on_front = len(points_table(result))
    if not len(rows):
        query = ", ".join(
            text
            for text in (
                args.where,
                None if args.min is None else f"min {args.min}",
                None if args.max is None else f"max {args.max}",
            )
            if text
        )
        raise ResultsError(f"export: no front point matches {query} ({on_front} on the front)")
    numbers = [int(n) for n in rows["number"]]
    if len(numbers) > 1:
        shown = ", ".join(str(n) for n in numbers[:10]) + (", ..." if len(numbers) > 10 else "")
        raise ResultsError(
            f"export: {len(numbers)} front points match ({shown}): add --min NAME or --max "
            "NAME to pick one, or give --trial N"
        )
    return numbers[0]
