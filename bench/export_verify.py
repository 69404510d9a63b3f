"""Export and verification: every front point of a study through hls4ml's C simulation.

For each study file (run first when its budget is not met), every Pareto-front point is
exported (`results.export_point`: configuration, C header, hls4ml project, all test vectors)
and, when hls4ml expresses its formats (no custom float), its project is compiled with g++
and run on the whole test split with hls4ml's tracing (`results.verify_export`), against dse's
emulation of the same configuration on the same inputs. Prints one table per study (the one
in docs/benchmarks.md) and writes the rows to ``<out>/export_verify.json``.

Usage::

    python bench/export_verify.py [--studies examples/lenet_hls4ml.yaml examples/lenet_fpga.yaml]
        [--out runs/bench_export] [--n SAMPLES] [--jobs 1] [--max-points K] [--budget B]

``--max-points K`` keeps K front points spread over the first objective (both ends kept), for
a study whose every point takes minutes to compile (ResNet-20); ``--budget B`` runs a study
that is not complete to B trials only (a later ``dse run`` resumes it to its own budget).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dse import load_study, run_study  # noqa: E402
from dse.cli._common import load_records  # noqa: E402
from dse.cli._report import load_result  # noqa: E402
from dse.study import load_workload  # noqa: E402
from evaluators import Configuration, FixedPoint, FloatFormat, WeightSharing  # noqa: E402
from results import export_point, verify_export  # noqa: E402

_MODELS: dict[str, Any] = {}


def formats(configuration: Configuration) -> tuple[str, str]:
    """Compact per-layer weight and output formats: `f6` fixed, `s8` shared k=8, `e4m3`
    float; outputs `a8/18` (activation / accumulator bits)."""
    weights, outputs = [], []
    for _, layer in configuration.layers:
        fmt = layer.weights
        if isinstance(fmt, FixedPoint):
            weights.append(f"f{fmt.word_length}")
        elif isinstance(fmt, WeightSharing):
            weights.append(f"s{fmt.clusters}")
        elif isinstance(fmt, FloatFormat):
            weights.append(f"e{fmt.exponent_bits}m{fmt.mantissa_bits}")
        else:
            weights.append("-")
        act = layer.activations
        bits = "-" if act is None else str(act.bits)
        if layer.accumulator is not None:
            bits += f"/{layer.accumulator.word_length}"
        outputs.append(f"a{bits}")
    return " ".join(weights), " ".join(outputs)


def short_reason(configuration: Configuration, notes: tuple[str, ...]) -> str:
    """Why a point is not bit-exact with hls4ml, short: its custom floats, else the notes."""
    floats = []
    for name, layer in configuration.layers:
        for part in (layer.weights, getattr(layer.weights, "codebook", None), layer.activations):
            if isinstance(part, FloatFormat):
                floats.append(f"{name} E{part.exponent_bits}M{part.mantissa_bits}")
    if floats:
        return "custom float (no hls4ml type): " + ", ".join(floats)
    return "; ".join(notes)


def _verify(args: tuple[str, str, int | None]) -> dict[str, Any]:
    """Verify one export folder (in a worker process: the study's model is loaded once)."""
    folder, study, samples = args
    if study not in _MODELS:
        _MODELS[study] = load_workload(load_study(study), study).model
    verification = verify_export(Path(folder), _MODELS[study], samples=samples)
    return verification.to_dict()


def spread(points: list[Any], k: int | None) -> list[Any]:
    """`k` of `points` (in order) at even steps, the first and last kept; all when k is None."""
    if k is None or len(points) <= k:
        return points
    if k <= 1:
        return points[:k]
    return [points[round(i * (len(points) - 1) / (k - 1))] for i in range(k)]


def bench_study(
    path: str,
    out: Path,
    samples: int | None,
    jobs: int,
    max_points: int | None = None,
    budget: int | None = None,
) -> list[dict[str, Any]]:
    """Export the front points of a study (all, or `max_points` spread over the first
    objective) and verify the ones with an hls4ml project."""
    config = load_study(path)
    try:
        done = sum(r.state == "COMPLETE" for r in load_records(config))
    except Exception:  # never run: no storage yet
        done = 0
    target = config.optimizer.budget if budget is None else min(budget, config.optimizer.budget)
    if done < target:
        print(f"running {path} to {target} trials ({done} stored)", flush=True)
        optimizer = config.optimizer.model_copy(update={"budget": target})
        run_study(config.model_copy(update={"optimizer": optimizer}), path)
    result = load_result(config, path)
    workload = load_workload(config, path)
    rows: list[dict[str, Any]] = []
    pending = []
    first = result.objective_names[0]
    points = sorted(result.front.points, key=lambda p: p.values[first], reverse=True)
    front = len(points)
    points = spread(points, max_points)
    for point in points:
        folder = out / config.study.name / f"trial-{point.number}"
        export = export_point(
            result,
            point.number,
            workload.model,
            workload.data,
            folder,
            study_file=path,
            samples=samples,
        )
        weights, outputs = formats(export.configuration)
        row: dict[str, Any] = {
            "trial": point.number,
            **{name: float(value) for name, value in point.values.items()},
            "weights": weights,
            "outputs": outputs,
            "project": export.has_project,
            "expected_exact": export.exact,
            "reason": short_reason(export.configuration, export.notes),
        }
        rows.append(row)
        if export.has_project:
            pending.append((row, (str(folder), path, samples)))
    start = time.perf_counter()
    if jobs > 1:
        # spawn, not fork: a forked child of a process with torch's thread pools can hang
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=spawn) as pool:
            outcomes = list(pool.map(_verify, [job for _, job in pending]))
    else:
        outcomes = [_verify(job) for _, job in pending]
    for (row, _), outcome in zip(pending, outcomes, strict=True):
        logits = outcome["layers"][-1]
        row |= {
            "samples": outcome["samples"],
            "bit_exact": outcome["bit_exact"],
            "logits_exact": logits["exact"] / logits["elements"] if logits["elements"] else 1.0,
            "max_lsb": max(layer["max_lsb"] for layer in outcome["layers"]),
            "layers_exact": all(lay["exact"] == lay["elements"] for lay in outcome["layers"]),
            "top1_agreement": outcome["top1_agreement"],
            "accuracy_dse": outcome["accuracy_dse"],
            "accuracy_hls4ml": outcome["accuracy_hls4ml"],
            "simulation_s": outcome["simulation_s"],
        }
    print(
        f"{config.study.name}: {len(rows)} of {front} front points, {len(pending)} compiled "
        "and run "
        f"in {time.perf_counter() - start:.0f} s",
        flush=True,
    )
    return rows


def table(name: str, rows: list[dict[str, Any]], objectives: list[str]) -> str:
    """The markdown table of one study's rows."""
    head = ["trial", *objectives, "weights", "outputs", "logits bit-exact", "max diff (LSB)"]
    head += ["top-1 agree", "acc. dse", "acc. hls4ml", "note"]
    lines = [f"**{name}**", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        values = [f"{row[o]:.4g}" for o in objectives]
        if "bit_exact" in row:
            verdict = [
                f"{100 * row['logits_exact']:.1f} %",
                f"{row['max_lsb']:g}",
                f"{100 * row['top1_agreement']:.1f} %",
                f"{row['accuracy_dse']:.4f}",
                f"{row['accuracy_hls4ml']:.4f}",
            ]
        else:
            verdict = ["not run", "", "", "", ""]
        note = row["reason"] or ("exact types" if row["expected_exact"] else "")
        cells = [str(row["trial"]), *values, row["weights"], row["outputs"], *verdict, note]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary(name: str, rows: list[dict[str, Any]]) -> str:
    """One line: how many points, how many verified bit-exact, top-1 agreement."""
    exact = [r for r in rows if r["expected_exact"]]
    run = [r for r in rows if "bit_exact" in r]
    return (
        f"{name}: {len(rows)} front points, {len(exact)} with formats hls4ml expresses "
        f"exactly, of them {sum(r.get('bit_exact', False) for r in exact)} bit-exact; "
        f"{len(run)} compiled, top-1 agreement "
        f"{min((r['top1_agreement'] for r in run), default=1.0):.1%} at worst; "
        f"{len(rows) - len(run)} not exportable to hls4ml"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--studies", nargs="+", default=["examples/lenet_hls4ml.yaml", "examples/lenet_fpga.yaml"]
    )
    parser.add_argument("--out", type=Path, default=Path("runs/bench_export"))
    parser.add_argument("--n", type=int, default=None, help="test vectors (default: all)")
    parser.add_argument("--jobs", type=int, default=1, help="C simulations side by side")
    parser.add_argument(
        "--max-points", type=int, default=None, help="front points per study (default: all)"
    )
    parser.add_argument(
        "--budget", type=int, default=None, help="trials to run a study to (default: its own)"
    )
    args = parser.parse_args(argv)
    report: dict[str, Any] = {}
    failed = 0
    for path in args.studies:
        config = load_study(path)
        rows = bench_study(path, args.out, args.n, args.jobs, args.max_points, args.budget)
        objectives = list(config.objective_names)
        report[config.study.name] = rows
        print()
        print(table(config.study.name, rows, objectives))
        print()
        print(summary(config.study.name, rows))
        failed += sum(r["expected_exact"] and not r.get("bit_exact", False) for r in rows)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "export_verify.json").write_text(json.dumps(report, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
