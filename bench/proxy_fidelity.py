"""Proxy fidelity on the built-in workload: rank correlations, cost, and a proxy-driven study.

1. Draws N random configurations of the example space (per layer: fixed point 2..8 bits,
   shared weights k = 2..64, or a small float E2..5 M0..3), scores each exactly on the
   validation split and by every registered proxy, and prints Spearman and Kendall rank
   correlations per proxy (and the held-out fit of an isotonic calibration).
2. Times, in the same run and on the same configurations, exact scoring against each proxy:
   first pass (caches filling, as in a study) and cached pass.
3. Runs an exact-only NSGA-II study and proxy-driven ones (calibrated proxy, exact
   re-scoring of the front) with the same budget and seeds, and compares the hypervolume of
   their exact validation fronts and the exact scorings each spent.

Usage::

    python bench/proxy_fidelity.py [--n 500] [--budget 1000] [--seeds 0 1] [--threshold 0.7]
        [--study-proxies normalized_inertia output_noise sensitivity]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dse import load_study, run_study  # noqa: E402
from evaluators import (  # noqa: E402
    AccuracyEvaluator,
    CalibratedProxy,
    Configuration,
    FixedPoint,
    FloatFormat,
    LayerConfig,
    SensitivityProfile,
    WeightSharing,
    Workload,
    available_proxies,
    build_workload,
    fidelity_metrics,
    get_proxy,
)
from results import ParetoFront  # noqa: E402


def random_configurations(workload: Workload, n: int, seed: int) -> list[Configuration]:
    """`n` random configurations: per layer fixed (45 %), shared (45 %) or float (10 %)."""
    rng = np.random.default_rng(seed)
    layers = workload.layers()
    out = []
    for _ in range(n):
        chosen = {}
        for name, module in layers.items():
            draw = rng.random()
            if draw < 0.45:
                max_abs = float(module.weight.abs().max())
                fmt = FixedPoint.for_range(max_abs, int(rng.integers(2, 9)))
            elif draw < 0.9:
                fmt = WeightSharing(int(np.rint(np.exp2(rng.uniform(1, 6)))))
            else:
                fmt = FloatFormat(int(rng.integers(2, 6)), int(rng.integers(0, 4)))
            chosen[name] = LayerConfig(fmt)
        out.append(Configuration.of(chosen))
    return out


def fidelity_table(workload: Workload, configs: list[Configuration]) -> None:
    exact = AccuracyEvaluator(workload)
    start = time.perf_counter()
    accuracy = np.array([exact.score(c).accuracy for c in configs])
    exact_first = (time.perf_counter() - start) / len(configs)
    start = time.perf_counter()
    for c in configs:
        exact.score(c)
    exact_cached = (time.perf_counter() - start) / len(configs)
    print(
        f"{len(configs)} configurations; exact validation accuracy: min {accuracy.min():.3f}, "
        f"median {np.median(accuracy):.3f}, max {accuracy.max():.3f}; "
        f"float {exact.reference().accuracy:.4f}\n"
    )
    print(
        "| proxy | Spearman | Kendall | isotonic R^2 (held out) | MAE (held out) "
        "| first pass ms/config | cached us/config | exact / proxy (first) "
        "| exact / proxy (cached) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in available_proxies():
        cls = get_proxy(name)
        profile = SensitivityProfile(workload) if name.startswith("sensitivity") else None
        proxy = cls(workload) if profile is None else cls(workload, profile=profile)
        start = time.perf_counter()
        values = np.array([proxy.value(c) for c in configs])
        first = (time.perf_counter() - start) / len(configs)
        start = time.perf_counter()
        for c in configs:
            proxy.value(c)
        cached = (time.perf_counter() - start) / len(configs)
        m = fidelity_metrics(-values, accuracy)
        cal = CalibratedProxy().fit(values, accuracy)
        extra = f" ({profile.measured_} layer choices profiled)" if profile is not None else ""
        print(
            f"| {name}{extra} | {m['spearman']:.3f} | {m['kendall']:.3f} | {cal.r2_:.3f} "
            f"| {cal.mae_:.3f} | {first * 1e3:.2f} | {cached * 1e6:.1f} "
            f"| {exact_first / first:.0f}x | {exact_cached / cached:.0f}x |"
        )
    print(
        f"\nexact scoring: {exact_first * 1e3:.2f} ms/config first pass (weights approximated), "
        f"{exact_cached * 1e3:.2f} ms/config with cached weights (forward pass only)\n"
    )


STUDY_SPACE = {
    "weights": {
        "kinds": ["fixed", "shared", "float"],
        "bits": [2, 8],
        "clusters": [2, 64],
        "exponent_bits": [2, 5],
        "mantissa_bits": [0, 3],
    }
}


def run_one(folder: Path, name: str, seed: int, budget: int, evaluator: dict) -> dict:
    import yaml

    data = {
        "study": {"name": name, "seed": seed, "output": str(folder)},
        "search_space": STUDY_SPACE,
        "objectives": ["accuracy", "weight_bits"],
        "optimizer": {"kind": "nsga2", "budget": budget, "population_size": 20},
        "evaluator": evaluator,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    start = time.perf_counter()
    result = run_study(load_study(path), path)
    seconds = time.perf_counter() - start
    import pandas as pd

    rescored = pd.read_csv(folder / name / "rescored.csv")
    table = result.table[result.table["state"] == "COMPLETE"]
    report = json.loads((folder / name / "fidelity.json").read_text())
    exact_search = int(report["scorings"]["exact_search"])  # distinct configurations
    points = rescored[["accuracy_exact_validation", "weight_bits"]].to_numpy(float)
    return {
        "points": points,
        "test_points": rescored[["accuracy_test", "weight_bits"]].to_numpy(float),
        "all_bits": table["weight_bits"].to_numpy(float),
        "exact_search": exact_search,
        "rescored": int(rescored["validation_rescored"].sum()),  # test scores are the report
        "seconds": seconds,
    }


def hypervolume(points: np.ndarray, reference: tuple[float, float]) -> float:
    return ParetoFront.from_points(points, ("maximize", "minimize")).hypervolume(reference)


def study_table(
    budget: int, seeds: list[int], proxies: list[str], calibration: int, threshold: float
) -> None:
    cache = ROOT / "runs" / ".cache"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copytree(cache, folder / ".cache")
        runs: dict[tuple[str, int], dict] = {}
        for seed in seeds:
            runs[("exact", seed)] = run_one(
                folder, f"exact{seed}", seed, budget, {"kind": "exact"}
            )
            for proxy in proxies:
                evaluator = {
                    "kind": proxy,
                    "calibration_trials": calibration,
                    "refresh_every": 100,
                    "fidelity_threshold": threshold,
                }
                runs[(proxy, seed)] = run_one(folder, f"{proxy}{seed}", seed, budget, evaluator)
    bits = max(float(r["all_bits"].max()) for r in runs.values())
    reference = (0.0, bits)
    print(
        f"NSGA-II, population 20, budget {budget} trials, space {STUDY_SPACE['weights']}; "
        f"hypervolume of (validation accuracy, weight bits) w.r.t. (0, {bits:.0f}) "
        "(the largest weight_bits of any trial)\n"
    )
    print(
        "| evaluator | seed | HV validation | HV / exact-only | HV test / exact-only test "
        "| exact scorings (search + front re-score) | / exact-only | wall s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for (kind, seed), run in runs.items():
        base = runs[("exact", seed)]
        hv = hypervolume(run["points"], reference)
        hv_test = hypervolume(run["test_points"], reference)
        base_hv = hypervolume(base["points"], reference)
        base_test = hypervolume(base["test_points"], reference)
        spent = run["exact_search"] + (run["rescored"] if kind != "exact" else 0)
        print(
            f"| {kind} | {seed} | {hv:.0f} | {hv / base_hv:.2%} | {hv_test / base_test:.2%} "
            f"| {run['exact_search']} + {run['rescored'] if kind != 'exact' else 0} = {spent} "
            f"| {spent / base['exact_search']:.1%} | {run['seconds']:.0f} |"
        )


def main(argv: list[str] | None = None) -> int:
    """Print the fidelity, cost and study tables; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="random configurations")
    parser.add_argument("--budget", type=int, default=1000, help="trials per study")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--calibration", type=int, default=20, help="calibration_trials")
    parser.add_argument("--threshold", type=float, default=0.7, help="fidelity_threshold")
    parser.add_argument(
        "--study-proxies",
        nargs="*",
        default=["normalized_inertia", "output_noise", "sensitivity"],
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    workload = build_workload("lenet5", "digits", seed=0, cache_dir=ROOT / "runs" / ".cache")
    fidelity_table(workload, random_configurations(workload, args.n, seed=0))
    if args.budget > 0:
        study_table(args.budget, args.seeds, args.study_proxies, args.calibration, args.threshold)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
