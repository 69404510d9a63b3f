"""Optimal 1-D k-means against the exact kmeans1d package."""

from __future__ import annotations

import kmeans1d
import numpy as np
import pytest
import torch

from evaluators._errors import FormatError
from evaluators._kmeans import cluster_rows, inertia_curve, kmeans_1d


def exact_inertia(values: np.ndarray, k: int) -> float:
    labels, centroids = kmeans1d.cluster(values.tolist(), k)
    return float(np.sum((values - np.asarray(centroids)[np.asarray(labels)]) ** 2))


def sample(kind: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "normal":
        return rng.normal(size=n)
    if kind == "laplace":
        return rng.laplace(size=n)
    return rng.standard_t(3, size=n)


@pytest.mark.parametrize("kind", ["normal", "laplace", "student_t"])
@pytest.mark.parametrize(("n", "tolerance"), [(700, 1e-9), (40_000, 1e-3)])
def test_within_tolerance_of_exact(kind: str, n: int, tolerance: float) -> None:
    values = sample(kind, n, seed=n)
    for k in (1, 2, 5, 16, 64, 256):
        centroids, labels, inertia = kmeans_1d(values, k)
        best = exact_inertia(values, k)
        assert inertia <= best * (1 + tolerance) + 1e-12, (k, inertia, best)
        assert np.all(np.diff(centroids) > 0) and len(centroids) == k
        assert labels.shape == (n,) and labels.min() == 0 and labels.max() == k - 1
        recomputed = np.sum((values - centroids[labels]) ** 2)
        assert inertia == pytest.approx(recomputed, rel=1e-12)


def test_each_value_goes_to_its_nearest_centroid() -> None:
    values = sample("laplace", 5000, 4)
    centroids, labels, _ = kmeans_1d(values, 12)
    nearest = np.argmin(np.abs(values[:, None] - centroids[None, :]), axis=1)
    assert np.array_equal(labels, nearest)


def test_few_distinct_values() -> None:
    values = np.array([3.0, 1.0, 3.0, 1.0, 2.0])
    centroids, labels, inertia = kmeans_1d(values, 8)
    assert centroids.tolist() == [1.0, 2.0, 3.0] and inertia == 0.0
    assert centroids[labels].tolist() == values.tolist()
    assert kmeans_1d(np.zeros(4), 1)[0].tolist() == [0.0]


@pytest.mark.parametrize("n", [300, 20_000])
def test_inertia_curve_matches_per_k(n: int) -> None:
    values = sample("student_t", n, 5)
    curve = inertia_curve(torch.from_numpy(values).float(), 40)
    assert curve.shape == (40,)
    assert np.all(np.diff(curve) <= 0)
    values32 = values.astype(np.float32).astype(np.float64)
    for k in (1, 2, 3, 10, 40):
        best = exact_inertia(values32, k)
        assert curve[k - 1] == pytest.approx(best, rel=1e-3 if n > 2000 else 1e-9)


def test_inertia_curve_reaches_zero() -> None:
    curve = inertia_curve(np.array([0.0, 1.0, 10.0]), 5)
    np.testing.assert_allclose(curve, [182 / 3, 0.5, 0.0, 0.0, 0.0], atol=1e-12)


# Values whose sums do not round trip: 3 * 0.1 / 3 != 0.1, and a mean far from zero.
AWKWARD = np.array([0.1, 1 / 3, -0.125, 0.0, 7.3, 1e-7])


@pytest.mark.parametrize("n", [60, 40_000])  # distinct points, then the binned path
def test_identical_values_are_their_own_centroid(n: int) -> None:
    """Issue 11 class 5: a cluster of equal values has exactly that value, no inertia."""
    rng = np.random.default_rng(n)
    values = rng.choice(AWKWARD, size=n, p=[0.1, 0.2, 0.1, 0.5, 0.05, 0.05])
    for k in (len(AWKWARD), len(AWKWARD) + 3):
        centroids, labels, inertia = kmeans_1d(values, k)
        assert centroids.tolist() == sorted(AWKWARD.tolist())  # exact: np.unique is the ref
        assert np.array_equal(centroids[labels], values)
        assert inertia == 0.0
        assert inertia_curve(values, k)[-1] == 0.0
    zeros = kmeans_1d(-np.abs(values), len(AWKWARD))[0]
    assert 0.0 in zeros and not np.signbit(zeros[zeros == 0]).any()  # -0.0 inputs give +0


def test_issue_example_has_exact_zero_centroid() -> None:
    centroids, labels, inertia = kmeans_1d(np.array([0, 0, 0.25, -0.125, 0]), 8)
    assert centroids.tolist() == [-0.125, 0.0, 0.25] and inertia == 0.0
    assert labels.tolist() == [1, 1, 2, 0, 1]
    curve = inertia_curve(np.array([0, 0, 0.25, -0.125, 0.1, 0.1, 0.1]), 5)
    assert curve[3:].tolist() == [0.0, 0.0]


def test_pruned_zeros_keep_a_zero_centroid_with_few_clusters() -> None:
    rng = np.random.default_rng(3)
    for n in (500, 30_000):  # exact and binned
        values = np.where(rng.random(n) < 0.6, 0.0, np.sign(rng.normal(size=n)) * 0.3)
        values = values + np.where(values != 0, rng.normal(size=n) * 0.01, 0.0)
        centroids, labels, _ = kmeans_1d(values, 3)
        zero = centroids[labels[values == 0]]
        assert np.all(zero == 0.0) and not np.signbit(zero).any()


def test_cluster_rows_solves_rows_independently() -> None:
    rows = np.stack([sample("normal", 500, s) * (s + 1) for s in range(4)])
    centroids, labels = cluster_rows(rows, 6)
    for row, c, lab in zip(rows, centroids, labels, strict=True):
        alone, alone_labels, _ = kmeans_1d(row, 6)
        np.testing.assert_allclose(c, alone, rtol=1e-12)
        assert np.array_equal(lab, alone_labels)


@pytest.mark.parametrize(
    ("values", "k", "field"),
    [
        (np.array([]), 2, "values"),
        (np.array([1.0, np.nan]), 2, "values"),
        (np.array([1.0]), 0, r"\.k"),
        (np.array([1.0]), 2.0, r"\.k"),
    ],
)
def test_validation(values: np.ndarray, k: object, field: str) -> None:
    with pytest.raises(FormatError, match=field):
        kmeans_1d(values, k)
    with pytest.raises(FormatError):
        inertia_curve(values, k)
