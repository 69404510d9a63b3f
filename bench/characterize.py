"""Regenerate the shipped operator libraries by Yosys synthesis.

Runs :data:`hardware_models._characterize.DEFAULT_SWEEP` for 7-series and UltraScale+ and
writes ``hardware_models/data/operators_<family>.json`` with provenance (Yosys version, command,
date, sweep, run time). About 250 synthesis runs per family, ~3 s each on one core.

Usage::

    python bench/characterize.py [--families 7series ultrascale_plus] [--workers 2] [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hardware_models._characterize import DEFAULT_SWEEP, characterize_synthesis  # noqa: E402
from hardware_models._operators import OperatorLibrary  # noqa: E402
from hardware_models._yosys import FAMILIES, yosys_version  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run the sweep and write one JSON library per family; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "hardware_models" / "data")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    version = yosys_version()
    for family in args.families:
        start = time.perf_counter()
        rows = characterize_synthesis(family, DEFAULT_SWEEP, workers=args.workers)
        seconds = time.perf_counter() - start
        provenance = {
            "tool": version,
            "command": "python bench/characterize.py "
            + " ".join(sys.argv[1:] if argv is None else argv),
            "synthesis": f"read_verilog; synth_xilinx -family {FAMILIES[family]} -top <top> "
            "-flatten -noiopad [-nodsp for *_lut kinds]; stat -json",
            "form": "operator between input and output registers (registered=True)",
            "family": family,
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "workers": args.workers,
            "runtime_s": round(seconds, 1),
            "sweep": {kind: [list(w) for w in points] for kind, points in DEFAULT_SWEEP.items()},
        }
        library = OperatorLibrary(rows, provenance=provenance).fit()
        path = args.out / f"operators_{family}.json"
        library.to_json(path)
        print(f"{family}: {len(rows)} operators in {seconds:.0f} s -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
