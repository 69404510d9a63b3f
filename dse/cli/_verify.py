"""`dse verify EXPORT_DIR [--n N]`: compile an export's hls4ml project and hold its C
simulation against dse's emulation, bit for bit."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dse.cli._common import format_table
from dse.config import load_study
from dse.study import load_workload
from results import ResultsError, Verification, read_manifest, verify_export

HELP = (
    "compile an export's hls4ml project (g++) and compare its C simulation with dse's "
    "emulation: per-layer outputs and logits bit for bit, top-1 agreement, accuracy"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("export", type=Path, help="an export folder (written by dse export)")
    parser.add_argument(
        "--n", type=int, default=None, metavar="N", help="test vectors to run (default: all)"
    )
    parser.add_argument(
        "--study",
        default=None,
        help="the study file (default: the one the export was made from)",
    )


def main(args: argparse.Namespace) -> int:
    manifest = read_manifest(args.export)
    if manifest.get("hls4ml") is None:
        reasons = "; ".join(manifest.get("unsupported") or ())
        raise ResultsError(f"{args.export}: no hls4ml project, not verified: {reasons}")
    study = args.study or manifest.get("study_file")
    if study is None:
        raise ResultsError(f"{args.export}: the export names no study file: pass --study")
    config = load_study(study)
    workload = load_workload(config, study)
    if workload.data.fingerprint != manifest["data_fingerprint"]:
        raise ResultsError(
            f"{study}: its data (fingerprint {workload.data.fingerprint}) is not the exported "
            f"point's ({manifest['data_fingerprint']})"
        )
    verification = verify_export(args.export, workload.model, samples=args.n)
    (Path(args.export) / "verification.json").write_text(
        json.dumps(verification.to_dict(), indent=2) + "\n", encoding="utf-8"
    )
    print(report(verification))
    return 0 if verification.passed else 1


def report(verification: Verification) -> str:
    """The comparison as text: one row per layer, then the verdict."""
    rows = [
        {
            "layer": a.name,
            "values": a.elements,
            "bit-exact": f"{100 * a.exact_fraction:.1f}%",
            "max diff (LSB)": f"{a.max_lsb:g}",
        }
        for a in (*verification.layers, verification.logits)
    ]
    v = verification
    lines = [
        f"trial {v.trial}: {v.samples} test vectors, hls4ml C simulation "
        f"({v.simulation_s:.0f} s to compile and run)",
        format_table(rows, ["layer", "values", "bit-exact", "max diff (LSB)"]),
        f"top-1 agreement {100 * v.top1_agreement:.1f}%; test accuracy: dse "
        f"{v.accuracy_dse:.4f}, hls4ml {v.accuracy_hls4ml:.4f}",
    ]
    if v.bit_exact:
        lines.append("bit-exact: every logit equals dse's")
    elif v.expected_exact:
        lines.append(
            f"NOT bit-exact: {v.logits.elements - v.logits.exact} logits differ, though every "
            "format has an exact hls4ml type"
        )
    else:
        lines.append("not bit-exact, as expected: " + "; ".join(v.notes))
    return "\n".join(lines)
