"""Benchmark of the number-format kernels and the optimal 1-D k-means.

Run ``python bench/kernels.py``; prints markdown tables. Everything is timed side by side in
one process with ``torch.set_num_threads(2)``:

* quantization throughput on 10M float32 values against a plain ``x.clone()`` (both
  allocate their output; GB/s counts one read and one write of float32);
* ``inertia_curve`` for every k <= 256 on every layer of a ResNet-18-sized weight set
  (real conv/linear shapes, kaiming-normal weights, no torchvision), beside scikit-learn's
  KMeans on one large layer and the exact ``kmeans1d`` (k = 16 on every layer).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import astuple
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from evaluators import (  # noqa: E402
    APPROXIMABLE,
    AccuracyEvaluator,
    Configuration,
    FixedPoint,
    FloatFormat,
    LayerConfig,
    ResNet18,
    WeightSharing,
    build_workload,
    inertia_curve,
    kmeans_1d,
)


def best_time(fn: Callable[[], object], repeats: int = 7) -> float:
    """Fastest of ``repeats`` runs after one warm-up, in seconds."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def resnet18_weights(seed: int = 0) -> list[tuple[str, np.ndarray]]:
    """Every Conv/Linear weight of the project's ResNet-18 (11.7M weights, torch's init)."""
    torch.manual_seed(seed)
    model = ResNet18()
    return [
        (name, module.weight.detach().numpy().ravel())
        for name, module in model.named_modules()
        if isinstance(module, APPROXIMABLE)
    ]


def bench_quantizers() -> None:
    """Quantizer throughput against a copy, at 1 and 2 torch threads, side by side."""
    x = torch.randn(10_000_000, generator=torch.Generator().manual_seed(0)) * 4
    nbytes = 2 * x.numel() * x.element_size()
    rows = [("`x.clone()`", lambda: x.clone())]
    for fmt in (FixedPoint(8, 3), FloatFormat(5, 2), FloatFormat(4, 3), FloatFormat(5, 10)):
        label = f"`{type(fmt).__name__}{astuple(fmt)[:2]}`"
        rows.append((label, lambda fmt=fmt: fmt.quantize(x)))
    print("| kernel (10M float32) | threads | ms | GB/s | % of copy |")
    print("|---|---:|---:|---:|---:|")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        copy = None
        for name, fn in rows:
            seconds = best_time(fn)
            copy = copy or seconds
            print(
                f"| {name} | {threads} | {seconds * 1e3:.1f} | {nbytes / seconds / 1e9:.1f} "
                f"| {100 * copy / seconds:.0f} % |"
            )
    print()


def bench_kmeans() -> None:
    from sklearn.cluster import KMeans

    try:
        import kmeans1d
    except ImportError:  # a dev dependency: the comparison rows need it
        kmeans1d = None

    weights = resnet18_weights()
    total = sum(w.size for _, w in weights)
    start = time.perf_counter()
    curves = [inertia_curve(w, 256) for _, w in weights]
    curve_seconds = time.perf_counter() - start

    big_name, big = max(weights, key=lambda item: item[1].size)
    print()
    print(f"ResNet-18-sized weight set: {len(weights)} layers, {total / 1e6:.2f}M weights")
    print()
    print("| method | work | seconds | inertia vs exact |")
    print("|---|---|---:|---|")
    print(
        f"| `inertia_curve` (this DP) | every k <= 256, all {len(weights)} layers "
        f"| {curve_seconds:.2f} | see k = 16 row |"
    )

    start = time.perf_counter()
    ours = [kmeans_1d(w, 16)[2] for _, w in weights]
    ours_seconds = time.perf_counter() - start
    if kmeans1d is not None:
        start = time.perf_counter()
        exact = []
        for _, w in weights:
            labels, centroids = kmeans1d.cluster(w, 16)
            exact.append(float(np.sum((w - np.asarray(centroids)[np.asarray(labels)]) ** 2)))
        exact_seconds = time.perf_counter() - start
        curve_gap = max(c[15] / e - 1 for c, e in zip(curves, exact, strict=True))
        kmeans_gap = max(o / e - 1 for o, e in zip(ours, exact, strict=True))
        print(
            f"| `kmeans1d.cluster` (exact, C++) | k = 16, all layers | {exact_seconds:.2f} "
            "| reference |"
        )
        print(
            f"| `kmeans_1d` (this DP) | k = 16, all layers | {ours_seconds:.2f} "
            f"| max +{100 * kmeans_gap:.4f} % |"
        )
        print(
            f"| `inertia_curve`, k = 16 entry | (from the row above) | - "
            f"| max +{100 * curve_gap:.4f} % |"
        )
    else:
        print(f"| `kmeans_1d` (this DP) | k = 16, all layers | {ours_seconds:.2f} | - |")
        print("| `kmeans1d.cluster` | not installed (pip install kmeans1d) | - | - |")

    column = big.reshape(-1, 1)
    for k in (16, 64):
        start = time.perf_counter()
        km = KMeans(n_clusters=k, n_init=1, random_state=0).fit(column)
        seconds = time.perf_counter() - start
        best = curves[[n for n, _ in weights].index(big_name)][k - 1]
        print(
            f"| scikit-learn `KMeans` (Lloyd, n_init=1) | k = {k}, {big_name} "
            f"({big.size / 1e6:.2f}M) | {seconds:.2f} | +{100 * (km.inertia_ / best - 1):.3f} % "
            "vs this DP |"
        )


def bench_scoring() -> None:
    """Exact scoring of one configuration of the built-in LeNet/digits workload, warm."""
    torch.set_num_threads(1)  # how studies run small models (see dse.study.build_setup)
    workload = build_workload("lenet5", "digits", seed=0, cache_dir=Path("runs/.cache"))
    evaluator = AccuracyEvaluator(workload)
    layers = list(workload.layers())
    configs = {
        "fixed 6-bit, every layer": {
            n: LayerConfig(
                weights=FixedPoint.for_range(
                    float(workload.model.get_submodule(n).weight.abs().max()), 6
                )
            )
            for n in layers
        },
        "float E4M3, every layer": {n: LayerConfig(weights=FloatFormat(4, 3)) for n in layers},
        "shared k=16 per layer": {n: LayerConfig(weights=WeightSharing(16)) for n in layers},
        "shared k=16 per channel": {
            n: LayerConfig(weights=WeightSharing(16, "channel")) for n in layers
        },
        "fixed 8-bit weights + activations": {
            n: LayerConfig(weights=FixedPoint(8, 1), activations=FixedPoint(12, 6)) for n in layers
        },
    }
    print("| configuration (LeNet-5, 359 validation digits) | first scoring ms | warm ms |")
    print("|---|---:|---:|")
    for label, layer_configs in configs.items():
        config = Configuration.of(layer_configs)
        start = time.perf_counter()
        evaluator.score(config)
        first = time.perf_counter() - start
        warm = best_time(lambda config=config: evaluator.score(config), repeats=20)
        print(f"| {label} | {1e3 * first:.1f} | {1e3 * warm:.2f} |")
    print()


def main() -> None:
    torch.set_num_threads(2)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    print()
    bench_quantizers()
    bench_kmeans()
    bench_scoring()


if __name__ == "__main__":
    main()
