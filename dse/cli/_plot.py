"""`dse plot STUDY.yaml --x lut --y accuracy`: a figure to publish, studies overlaid."""

from __future__ import annotations

import argparse
from pathlib import Path

from dse.cli._common import format_table
from dse.cli._report import load_result
from dse.config import load_study
from dse.study import output_dir
from results import FIGURE_FORMATS, TradeoffDisplay, TradeoffInfo

HELP = (
    "draw one trade-off of a study (any two objectives or metrics) as a PNG, SVG or PDF "
    "figure, other studies overlaid with --compare, hypervolumes from one reference point"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", help="the study file (study.yaml)")
    parser.add_argument("--x", required=True, metavar="NAME", help="metric on the x axis (lut)")
    parser.add_argument("--y", required=True, metavar="NAME", help="metric on the y axis")
    parser.add_argument(
        "--format",
        choices=FIGURE_FORMATS,
        default=None,
        help="file format (default: the --output suffix, else png)",
    )
    parser.add_argument(
        "--compare",
        nargs="+",
        default=[],
        metavar="STUDY",
        help="other study files drawn over the first (optimizers or proxies side by side)",
    )
    parser.add_argument(
        "--where", default=None, help='only points where all hold, e.g. "accuracy>=0.9"'
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="file to write (default: <study folder>/plot_<x>_<y>.<format>)",
    )


def main(args: argparse.Namespace) -> int:
    configs = [load_study(path) for path in [args.study, *args.compare]]
    results = [
        load_result(config, path)
        for config, path in zip(configs, [args.study, *args.compare], strict=True)
    ]
    info = TradeoffInfo.from_results(results, args.x, args.y, where=args.where)
    display = TradeoffDisplay(info).plot()
    fmt = args.format or (args.output.suffix.lstrip(".") if args.output else "") or "png"
    output = args.output or output_dir(configs[0]) / f"plot_{args.x}_{args.y}.{fmt}"
    path = display.save(output, format=fmt)
    if info.reference is not None:
        rows = [
            {"study": s.label, "front_2d": len(s.front_x), "hypervolume": s.hypervolume}
            for s in info.series
        ]
        print(format_table(rows, ["study", "front_2d", "hypervolume"]))
        reference = ", ".join(
            f"{n}={v:g}" for n, v in zip(info.hypervolume_names, info.reference, strict=True)
        )
        print(f"hypervolume over {', '.join(info.hypervolume_names)} from ({reference})")
    print(f"figure: {path}")
    return 0
