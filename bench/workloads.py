"""Speed and memory of real workloads: ResNet-20 on the 10,000 Fashion-MNIST test images.

    python bench/workloads.py                     # scoring speed and the prefix cache
    python bench/workloads.py --study   # + peak memory of a 500-trial study and the wall
                                        #   time of examples/resnet20_fashion.yaml
    python bench/workloads.py --only sweep example   # any of scoring, sweep, pricing, study,
                                                     #   example

Tables (markdown, for docs/benchmarks.md):
1. exact scorings per second on the test split, dse against the float model's own inference:
   weight formats only; weights and activations with accumulators wide enough that products
   add exactly (the fast path); narrow accumulators (every product cast, the slow path);
2. a one-layer-at-a-time sweep with and without the prefix cache, and the most any prefix
   cache could gain on it (the float model's time after each layer's start);
   then milliseconds per configuration of the example's space (decode, digest, hardware model);
3. (with --study) peak resident memory of a 500-trial study with the example's evaluator,
   and the example's wall time.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evaluators import (  # noqa: E402
    AccuracyEvaluator,
    Configuration,
    DatasetSpec,
    FixedPoint,
    LayerConfig,
    Workload,
    build_workload,
    calibrate_activations,
)


def workload(checkpoint: str) -> Workload:
    return build_workload(
        "resnet20", DatasetSpec("fashion_mnist"), seed=0, checkpoint=checkpoint, validation=5000
    )


def _formats(work: Workload, weights: int, activations: int | None, accumulator: int | None):
    """Uniform formats: weights and (optional) activations sized from their ranges."""
    ranges = calibrate_activations(work.model, work.data.train.x[:1000], layers=work.outputs())
    layers = {}
    for name, module in work.outputs().items():
        w = getattr(module, "weight", None)
        layer = LayerConfig(
            weights=None if w is None else FixedPoint.for_range(float(w.abs().max()), weights),
            activations=None
            if activations is None
            else FixedPoint.for_range(ranges[name], activations),
            accumulator=None
            if accumulator is None or w is None
            else FixedPoint.for_range(
                4 * ranges[name], accumulator, rounding="truncate", overflow="wrap"
            ),
        )
        layers[name] = layer
    return Configuration.of(layers)


def rate(
    evaluator: AccuracyEvaluator, configuration: Configuration | None, repeat: int
) -> tuple[float, float]:
    """(scorings per second, accuracy): best of `repeat` scorings (distinct evaluators, so
    nothing is reused between them but the weight cache of one)."""
    best = float("inf")
    accuracy = 0.0
    for _ in range(repeat):
        started = time.perf_counter()
        score = evaluator.reference() if configuration is None else evaluator.score(configuration)
        best = min(best, time.perf_counter() - started)
        accuracy = score.accuracy
    return 1.0 / best, accuracy


def scoring_table(work: Workload, repeat: int) -> None:
    print("| what | scorings/s (10,000 images) | x float inference | test accuracy |")
    print("|---|---|---|---|")
    evaluator = AccuracyEvaluator(work, split="test", batch_size=1000, cache_mb=0)
    base, accuracy = rate(evaluator, None, repeat)
    print(f"| float model (torch inference) | {base:.3f} | 1.00 | {accuracy:.4f} |")
    cases = [
        ("weights 6-bit fixed", _formats(work, 6, None, None)),
        (
            "weights 6-bit + activations 8-bit, 32-bit accumulators (fast path)",
            _formats(work, 6, 8, 32),
        ),
        (
            "weights 6-bit + activations 8-bit, 16-bit accumulators (slow path)",
            _formats(work, 6, 8, 16),
        ),
    ]
    for label, configuration in cases:
        value, accuracy = rate(evaluator, configuration, repeat)
        print(f"| {label} | {value:.3f} | {value / base:.2f} | {accuracy:.4f} |")


def sweep_table(work: Workload, choices: int) -> None:
    layers = [
        n
        for n, m in work.model.named_modules()
        if isinstance(m, torch.nn.Conv2d | torch.nn.Linear)
    ]
    sweep = [
        Configuration.of({name: LayerConfig(FixedPoint(bits, 2))})
        for name in layers
        for bits in range(3, 3 + choices)
    ]
    print(
        f"\none layer at a time: {len(layers)} layers x {choices} formats = "
        f"{len(sweep)} scorings on validation\n"
    )
    print("| prefix cache | seconds | scorings/s | speed-up |")
    print("|---|---|---|---|")
    results = {}
    times = {}
    for mb in (0, 1024):
        evaluator = AccuracyEvaluator(work, split="validation", batch_size=1000, cache_mb=mb)
        started = time.perf_counter()
        results[mb] = [evaluator.score(c).accuracy for c in sweep]
        times[mb] = time.perf_counter() - started
    assert results[0] == results[1024], "the cache changed a score"
    for mb in (0, 1024):
        label = "off" if mb == 0 else f"{mb} MiB"
        print(
            f"| {label} | {times[mb]:.1f} | {len(sweep) / times[mb]:.2f} "
            f"| {times[0] / times[mb]:.2f} |"
        )
    print(f"| ideal (the suffix alone, at float speed) | | | {prefix_bound(work, layers):.2f} |")


def prefix_bound(work: Workload, layers: list[str]) -> float:
    """The most any prefix cache can gain on a sweep that changes each of `layers` in turn.

    A configuration whose first changed layer is `name` must still run `name` and everything
    after it. Timing the float model's forward pass on the validation split with a pre-hook on
    each layer gives `before[name]`, the seconds spent before `name` starts; a cache that cost
    nothing would take `full - before[name]` per configuration instead of `full`, so the bound
    is `len(layers) * full / sum(full - before[name])` (best of 3 passes per layer).
    """
    modules = dict(work.model.named_modules())
    x = work.data.validation.x
    batches = [x[i : i + 1000] for i in range(0, len(x), 1000)]
    marks: dict[str, float] = {}

    def mark(name: str):
        def hook(_module: torch.nn.Module, _inputs: tuple) -> None:
            marks.setdefault(name, time.perf_counter())

        return hook

    handles = [modules[name].register_forward_pre_hook(mark(name)) for name in layers]
    before = dict.fromkeys(layers, float("inf"))
    full = float("inf")
    try:
        with torch.inference_mode():
            for _ in range(3):
                spent = dict.fromkeys(layers, 0.0)
                total = 0.0
                for batch in batches:
                    marks.clear()
                    started = time.perf_counter()
                    work.model(batch)
                    total += time.perf_counter() - started
                    for name in layers:
                        spent[name] += marks[name] - started
                full = min(full, total)
                before = {name: min(before[name], spent[name]) for name in layers}
    finally:
        for handle in handles:
            handle.remove()
    return len(layers) * full / sum(full - before[name] for name in layers)


def _run_example(**changes: Any) -> tuple[float, float, subprocess.CompletedProcess]:
    """`dse run` on a copy of examples/resnet20_fashion.yaml (its `study` and `optimizer`
    keys updated with `changes`) writing into a temporary folder, in a subprocess that reports
    its own peak resident memory: (wall seconds, peak MiB, the finished process)."""
    import tempfile

    import yaml

    data = yaml.safe_load((ROOT / "examples" / "resnet20_fashion.yaml").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        data["study"]["output"] = str(Path(tmp) / "runs")
        data["study"].update(changes.get("study", {}))
        data["optimizer"].update(changes.get("optimizer", {}))
        path = Path(tmp) / f"{data['study']['name']}.yaml"
        path.write_text(yaml.safe_dump(data))
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, cwd=ROOT
        )
        seconds = time.perf_counter() - started
    lines = done.stdout.strip().splitlines()
    peak = json.loads(lines[-1])["peak_mb"] if lines else float("nan")
    done.stdout = "\n".join(lines[:-1])
    return seconds, peak, done


_MEASURE = """
import json, resource, sys
from dse.cli import main
code = main(["run", sys.argv[1]])
print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
sys.exit(code)
"""


def study_table(budget: int) -> None:
    """Peak memory of a `budget`-trial study with the example's evaluator."""
    seconds, peak, done = _run_example(study={"name": "memory"}, optimizer={"budget": budget})
    if done.returncode != 0:
        print(done.stderr[-2000:])
        raise SystemExit(1)
    print("\n| study | trials | wall s | peak memory MiB |\n|---|---|---|---|")
    print(
        f"| examples/resnet20_fashion.yaml evaluator, budget {budget} | {budget} "
        f"| {seconds:.0f} | {peak:.0f} |"
    )


def pricing_table(count: int = 200) -> None:
    """Milliseconds per configuration of the example's space: decoding, hashing (what a
    sampler does to every candidate it weighs), the hardware model on random configurations
    (first and second pass) and on one-variable neighbours of a configuration already priced
    (most of what the bayesian sampler weighs: each differs from a front point in one layer)."""
    import numpy as np

    from dse import Problem
    from dse.optimizers._candidates import neighbours

    problem = Problem.from_file(ROOT / "examples" / "resnet20_fashion.yaml")
    space = problem.space
    points = space.sample(count, seed=0)
    started = time.perf_counter()
    configurations = [space.decode(p) for p in points]
    decode = time.perf_counter() - started
    started = time.perf_counter()
    for configuration in configurations:
        configuration.digest()
    digest = time.perf_counter() - started
    passes = []
    for _ in range(2):
        started = time.perf_counter()
        for configuration in configurations:
            problem.cost_model.cost(configuration)
        passes.append(time.perf_counter() - started)
    rng = np.random.default_rng(0)
    near = [space.decode(n) for n in neighbours(space, space.canonical(points[0]), rng)][:count]
    started = time.perf_counter()
    for configuration in near:
        problem.cost_model.cost(configuration)
    neighbour = (time.perf_counter() - started) / len(near)
    print(
        f"\n{count} random configurations of examples/resnet20_fashion.yaml "
        f"({len(space.variables)} variables), and {len(near)} neighbours of the first, "
        "ms each:\n"
    )
    print(
        "| decode | digest | hardware model, first pass | hardware model, again "
        "| hardware model, neighbours |"
    )
    print("|---|---|---|---|---|")
    print(
        f"| {decode / count * 1e3:.2f} | {digest / count * 1e3:.2f} "
        f"| {passes[0] / count * 1e3:.2f} | {passes[1] / count * 1e3:.2f} "
        f"| {neighbour * 1e3:.2f} |"
    )


def example_table() -> None:
    seconds, peak, done = _run_example()
    print(
        f"\n`python -m dse run examples/resnet20_fashion.yaml`: {seconds / 60:.1f} min, "
        f"peak memory {peak:.0f} MiB (exit {done.returncode})"
    )
    print(done.stdout)
    for line in done.stderr.splitlines():  # the proxy's fidelity, and any fallback
        if "proxy" in line and ("Spearman" in line or "fidelity" in line):
            print(line.strip())


TABLES = ("scoring", "sweep", "pricing", "study", "example")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="resnet20_fashion_mnist")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--choices", type=int, default=4, help="formats per layer in the sweep")
    parser.add_argument(
        "--study", action="store_true", help="also the 500-trial study and the example"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=TABLES,
        help="run only these tables (default: scoring, sweep and pricing, + study and "
        "example with --study)",
    )
    parser.add_argument("--budget", type=int, default=500)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads\n")
    tables = args.only or [*TABLES[:3], *(TABLES[3:] if args.study else [])]
    if {"scoring", "sweep"} & set(tables):
        work = workload(args.checkpoint)
        if "scoring" in tables:
            scoring_table(work, args.repeat)
        if "sweep" in tables:
            sweep_table(work, args.choices)
    if "pricing" in tables:
        pricing_table()
    if "study" in tables:
        study_table(args.budget)
    if "example" in tables:
        example_table()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nthis process' peak memory: {peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
