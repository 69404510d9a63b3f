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
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from evaluators._fixed_point import FixedPoint  # noqa: E402
from evaluators._float_format import FloatFormat  # noqa: E402
from evaluators._kmeans import inertia_curve, kmeans_1d  # noqa: E402

RESNET18_SHAPES: list[tuple[str, tuple[int, ...]]] = [
    ("conv1", (64, 3, 7, 7)),
    *[(f"layer1.{b}.conv{c}", (64, 64, 3, 3)) for b in range(2) for c in (1, 2)],
    ("layer2.0.conv1", (128, 64, 3, 3)),
    ("layer2.0.conv2", (128, 128, 3, 3)),
    ("layer2.0.downsample", (128, 64, 1, 1)),
    ("layer2.1.conv1", (128, 128, 3, 3)),
    ("layer2.1.conv2", (128, 128, 3, 3)),
    ("layer3.0.conv1", (256, 128, 3, 3)),
    ("layer3.0.conv2", (256, 256, 3, 3)),
    ("layer3.0.downsample", (256, 128, 1, 1)),
    ("layer3.1.conv1", (256, 256, 3, 3)),
    ("layer3.1.conv2", (256, 256, 3, 3)),
    ("layer4.0.conv1", (512, 256, 3, 3)),
    ("layer4.0.conv2", (512, 512, 3, 3)),
    ("layer4.0.downsample", (512, 256, 1, 1)),
    ("layer4.1.conv1", (512, 512, 3, 3)),
    ("layer4.1.conv2", (512, 512, 3, 3)),
    ("fc", (1000, 512)),
]


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
    g = torch.Generator().manual_seed(seed)
    weights = []
    for name, shape in RESNET18_SHAPES:
        w = torch.empty(shape)
        torch.nn.init.kaiming_normal_(w, generator=g)
        weights.append((name, w.numpy().ravel()))
    return weights


def bench_quantizers() -> None:
    x = torch.randn(10_000_000, generator=torch.Generator().manual_seed(0)) * 4
    nbytes = 2 * x.numel() * x.element_size()
    rows = [("`x.clone()`", lambda: x.clone())]
    for fmt in (FixedPoint(8, 3), FloatFormat(5, 2), FloatFormat(4, 3)):
        rows.append((f"`{fmt!r}`".replace("'", ""), lambda fmt=fmt: fmt.quantize(x)))
    copy = None
    print("| kernel (10M float32) | ms | GB/s | % of copy |")
    print("|---|---:|---:|---:|")
    for name, fn in rows:
        seconds = best_time(fn)
        copy = copy or seconds
        print(
            f"| {name} | {seconds * 1e3:.1f} | {nbytes / seconds / 1e9:.1f} "
            f"| {100 * copy / seconds:.0f} % |"
        )


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


def main() -> None:
    torch.set_num_threads(2)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    print()
    bench_quantizers()
    bench_kmeans()


if __name__ == "__main__":
    main()
