"""`dse characterize --reports DIR`: fit an operator library from HLS reports (and Yosys)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from dse._errors import DseError
from dse.cli._common import format_table
from hardware_models import characterize

HELP = (
    "fit the operator cost library from the operator rows of the HLS reports under a folder "
    "(and optionally a Yosys synthesis sweep); print each kind's fit error, write the JSON"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reports", type=Path, help="folder searched recursively for HLS reports (.xml, .rpt)"
    )
    parser.add_argument(
        "--synthesis",
        action="store_true",
        help="also characterize the default sweep by Yosys synthesis (minutes)",
    )
    parser.add_argument(
        "--family",
        choices=("7series", "ultrascale_plus"),
        default="7series",
        help="device family of the synthesis sweep (report rows keep their part's family)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("operators.json"),
        help="library file to write (default: operators.json); hardware.library reads it",
    )
    parser.add_argument("--workers", type=int, default=2, help="parallel Yosys processes")


def main(args: argparse.Namespace) -> int:
    if args.reports is None and not args.synthesis:
        raise DseError("characterize: give --reports DIR, --synthesis, or both")
    library = characterize(
        args.reports, synthesis=args.synthesis, family=args.family, workers=args.workers
    )
    rows = []
    for kind, family in sorted(library.fit_error_):
        errors = library.fit_error_[(kind, family)]
        rows.append(
            {
                "kind": kind,
                "family": family,
                "rows": errors["lut"].n_rows,
                "lut_mape_%": _number(errors["lut"].mape),
                "lut_max_abs": _number(errors["lut"].max_abs),
                "ff_max_abs": _number(errors["ff"].max_abs),
                "dsp_max_abs": _number(errors["dsp"].max_abs),
            }
        )
    columns = list(rows[0])
    print(format_table(rows, columns))
    print("fit error: leave-one-out over the rows of each kind (n/a with fewer than 2 rows)")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    library.to_json(args.output)
    print(f"{len(library.rows_)} operator rows, {len(rows)} kinds -> {args.output}")
    skipped = (library.provenance or {}).get("skipped_reports", [])
    if skipped:
        print(f"skipped {len(skipped)} report file(s):")
        for entry in skipped:
            print(f"  {entry['path']}: {entry['reason']}")
    return 0


def _number(value: float) -> float | str:
    return "n/a" if math.isnan(value) else round(value, 2)
