"""Optimal 1-D k-means by dynamic programming, for weight sharing and its inertia curve.

Lloyd iterations stop in local optima, and the inertia curve (SSE for k = 1..k_max) that a
search uses to pick k would inherit their noise. In one dimension the optimum is a partition
of the sorted values into contiguous runs, found exactly by the DP

    D[k][j] = min_{i < j} D[k-1][i] + sse(i, j)

whose rows at ``j = n`` are the inertia curve. ``sse`` is O(1) from prefix sums, and the best
``i`` never decreases with ``j`` (the cost is Monge), so each row is solved by the
divide-and-conquer optimisation in O(n log n). Here the recursion runs level by level, all
sub-problems of a level in one vectorised numpy step, and many independent groups (channels,
kernels) are solved in the same step by concatenating them.

Points are the distinct values with their counts. Groups with more values than
``min(_BINS, max(_MIN_BINS, 64 * k))`` are binned to that many weighted points first (count,
sum and sum of squares per bin, so every cost is still the exact SSE of the raw values); only
cluster boundaries are then restricted to bin edges, which costs well under 0.1 % of the
inertia in practice (the tests compare against the exact ``kmeans1d``).

Centroids are exact where they can be: each is a member of its cluster plus the mean
deviation from it, clipped to the cluster's range, so a cluster of identical values (pruned
zeros, already quantized weights) has exactly that value as centroid and no inertia. The DP's
costs use sums centred on the group mean for accuracy; centroids never go through them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from evaluators._errors import FormatError

if TYPE_CHECKING:
    import torch

__all__ = ["cluster_rows", "inertia_curve", "kmeans_1d"]

_BINS = 8192  # most points per group: larger groups are binned
_BINS_PER_CLUSTER = 64  # fewer bins suffice for small k: the binning error scales as (k/bins)**2
_MIN_BINS = 1024
_SAMPLE = 1 << 16  # values used to place the equal-count bin edges
_MAX_CHOICES = 1 << 25  # back-pointers kept at once (int32): bounds the memory per batch


@dataclass(frozen=True)
class _Points:
    """Weighted 1-D points of several groups, concatenated in group order, sorted per group.

    Attributes:
        weight: Values per point (count).
        total: Sum of the (centred) values per point.
        square: Sum of squares of the (centred) values per point.
        offsets: ``offsets[g]:offsets[g+1]`` are the points of group ``g``.
        element_point: Global point index of every input value, shape of the input rows.
        shift: Mean subtracted from each group before the sums (for accurate costs).
        low: Smallest raw (uncentred) value per point.
        high: Largest raw value per point (equal to ``low`` for a point of one value).
    """

    weight: np.ndarray
    total: np.ndarray
    square: np.ndarray
    offsets: np.ndarray
    element_point: np.ndarray
    shift: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def representative(self) -> np.ndarray:
        """A raw value per point: the value itself, or the bin mean clipped to the bin."""
        mean = self.total / self.weight + np.repeat(self.shift, np.diff(self.offsets))
        return np.where(self.low == self.high, self.low, np.clip(mean, self.low, self.high))


def _as_rows(values: np.ndarray | torch.Tensor, field: str) -> np.ndarray:
    if hasattr(values, "detach"):
        values = values.detach().cpu().double().numpy()
    rows = np.asarray(values, dtype=np.float64).reshape(1, -1)
    if rows.size == 0:
        raise FormatError(f"{field}: must hold at least one value, got an empty array")
    if not np.isfinite(rows).all():
        raise FormatError(f"{field}: must be finite, got NaN or inf")
    return rows


def _check_k(field: str, k: object) -> int:
    if not isinstance(k, int | np.integer) or isinstance(k, bool) or k < 1:
        raise FormatError(f"{field}: must be an int >= 1, got {k!r}")
    return int(k)


def _distinct_points(rows: np.ndarray) -> _Points:
    """One point per distinct value of each row (exact)."""
    groups, n = rows.shape
    shift = rows.mean(axis=1)
    order = np.argsort(rows, axis=1, kind="stable")
    raw = np.take_along_axis(rows, order, axis=1)
    ordered = raw - shift[:, None]
    new = np.ones((groups, n), dtype=bool)
    new[:, 1:] = raw[:, 1:] != raw[:, :-1]  # raw values: centring may merge neighbours
    point_sorted = np.cumsum(new.ravel()) - 1
    flat = ordered.ravel()
    offsets = np.zeros(groups + 1, dtype=np.int64)
    np.cumsum(new.sum(axis=1), out=offsets[1:])
    element_point = np.empty((groups, n), dtype=np.int64)
    np.put_along_axis(element_point, order, point_sorted.reshape(groups, n), axis=1)
    return _Points(
        weight=np.bincount(point_sorted).astype(np.float64),
        total=np.bincount(point_sorted, weights=flat),
        square=np.bincount(point_sorted, weights=flat * flat),
        offsets=offsets,
        element_point=element_point,
        shift=shift,
        low=raw[new],
        high=raw[new],
    )


def _bins_for(k: int) -> int:
    """Points per group for ``k`` clusters: exact below, binned above."""
    return min(_BINS, max(_MIN_BINS, _BINS_PER_CLUSTER * k))


def _bin_edges(centred: np.ndarray, bins: int) -> np.ndarray:
    """At most ``bins + 1`` edges spaced like the optimal k-means centres of the data.

    Quantisation theory gives optimal centres a density proportional to ``pdf**(1/3)``;
    equal steps of that measure put most edges in the dense centre yet keep resolution in
    heavy tails. The measure is estimated from a strided sample: each gap between sample
    order statistics ``step`` apart holds equal probability, so its ``pdf**(1/3)`` mass is
    proportional to ``gap**(2/3)``.
    """
    low, high = centred.min(), centred.max()
    sample = np.sort(centred[:: max(1, centred.size // _SAMPLE)])
    step = 8
    anchors = np.maximum.accumulate(np.concatenate([[low], sample[step // 2 :: step], [high]]))
    mass = np.cbrt(np.square(np.diff(anchors)))
    cumulative = np.concatenate([[0.0], np.cumsum(mass)])
    targets = np.linspace(0.0, cumulative[-1], bins + 1)
    return np.unique(np.interp(targets, cumulative, anchors))


def _binned_points(rows: np.ndarray, bins: int) -> _Points:
    """Bin each (large) row to at most ``bins`` weighted points (see :func:`_bin_edges`)."""
    weights, totals, squares, points_per_row, element_point = [], [], [], [], []
    lows, highs = [], []
    shift = rows.mean(axis=1)
    offset = 0
    for row, mean in zip(rows, shift, strict=True):
        centred = row - mean
        distinct = _few_distinct(row, bins)
        if distinct is not None:  # one point per value: exact, like _distinct_points
            value, index, count = distinct
            weights.append(count.astype(np.float64))
            totals.append(count * (value - mean))
            squares.append(count * np.square(value - mean))
            lows.append(value)
            highs.append(value)
            element_point.append(index + offset)
            points_per_row.append(value.size)
            offset += value.size
            continue
        edges = _bin_edges(centred, bins)
        index = np.searchsorted(edges[1:-1], centred, side="right")
        count = np.bincount(index, minlength=edges.size)
        used = np.flatnonzero(count)
        compact = np.cumsum(count > 0) - 1
        weights.append(count[used].astype(np.float64))
        totals.append(np.bincount(index, weights=centred, minlength=edges.size)[used])
        squares.append(np.bincount(index, weights=centred * centred, minlength=edges.size)[used])
        low, high = _extremes(index, row, edges.size)
        lows.append(low[used])
        highs.append(high[used])
        element_point.append(compact[index] + offset)
        points_per_row.append(used.size)
        offset += used.size
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(points_per_row, out=offsets[1:])
    return _Points(
        weight=np.concatenate(weights),
        total=np.concatenate(totals),
        square=np.concatenate(squares),
        offsets=offsets,
        element_point=np.stack(element_point),
        shift=shift,
        low=np.concatenate(lows),
        high=np.concatenate(highs),
    )


def _few_distinct(row: np.ndarray, bins: int) -> tuple[np.ndarray, ...] | None:
    """``(values, inverse, counts)`` of a large row with at most ``bins`` distinct values.

    Such a row (pruned or already quantized weights) needs no binning, and binning could put
    two of its values in one bin. A strided sample screens continuous data out for the cost
    of sorting the sample; only rows that look discrete are sorted in full.
    """
    if np.unique(row[:: max(1, row.size // _SAMPLE)]).size > bins:
        return None
    value, index, count = np.unique(row, return_inverse=True, return_counts=True)
    return (value, index.reshape(-1), count) if value.size <= bins else None


def _extremes(labels: np.ndarray, values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest value per label (+inf and -inf for labels without values)."""
    low = np.full(size, np.inf)
    high = np.full(size, -np.inf)
    np.minimum.at(low, labels, values)
    np.maximum.at(high, labels, values)
    return low, high


def _exact_means(
    labels: np.ndarray, values: np.ndarray, counts: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean value per label, exact for labels whose values are all equal.

    Each mean is the label's smallest value plus the mean deviation from it, clipped to the
    label's range: deviations of equal values are exactly 0, so such a label's mean is its
    value bit for bit, where ``sum / count`` may not round trip (``3 * 0.1 / 3 != 0.1``).

    Args:
        labels: Label of every value, in ``0..size-1``.
        values: The raw values.
        counts: Weight of every value (a count); the mean is weighted by it.
        size: Number of labels.

    Returns:
        ``(means, weight)``: NaN where a label has no values, and the weight per label.
    """
    low, high = _extremes(labels, values, size)
    weight = np.bincount(labels, weights=counts, minlength=size)
    deviation = np.bincount(labels, weights=counts * (values - low[labels]), minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.clip(low + deviation / weight, low, high) + 0.0  # -0 -> +0
    return np.where(weight > 0, means, np.nan), weight


def _points(rows: np.ndarray, k: int) -> _Points:
    bins = _bins_for(k)
    if rows.shape[1] <= bins:
        return _distinct_points(rows)
    return _binned_points(rows, bins)


def _solve(points: _Points, k_max: int, keep_choices: bool) -> tuple[np.ndarray, list]:
    """Run the DP rows 1..k_max for every group at once.

    Returns:
        ``(curve, choices)``: ``curve[k-1, g]`` is the optimal SSE of group ``g`` with ``k``
        clusters (for ``k`` above the group's point count: its value at that count), and
        ``choices[k-2]`` (when kept) holds, at index ``j``, where the last cluster of the
        best ``k``-partition of points ``[offset, j)`` starts.
    """
    offsets = points.offsets
    starts, ends = offsets[:-1], offsets[1:]
    sizes = ends - starts
    n = int(offsets[-1])
    pw = np.concatenate([[0.0], np.cumsum(points.weight)])
    p1 = np.concatenate([[0.0], np.cumsum(points.total)])
    p2 = np.concatenate([[0.0], np.cumsum(points.square)])

    def cost(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        d1 = p1[j] - p1[i]
        return (p2[j] - p2[i]) - d1 * d1 / (pw[j] - pw[i])

    curve = np.empty((k_max, len(sizes)))
    best = np.full(n + 1, np.inf)
    j = np.arange(1, n + 1)
    best[1:] = cost(np.repeat(starts, sizes), j)
    curve[0] = best[ends]
    choices: list[np.ndarray] = []
    for k in range(2, k_max + 1):
        active = sizes >= k
        if not active.any():
            curve[k - 1 :] = curve[k - 2]
            break
        row = np.full(n + 1, np.inf)
        base = best - p2
        choice = np.zeros(n + 1, dtype=np.int32) if keep_choices else None
        j_lo, j_hi = starts[active] + k, ends[active]
        i_lo, i_hi = starts[active] + k - 1, ends[active] - 1
        while j_lo.size:
            mid = (j_lo + j_hi) >> 1
            lengths = np.minimum(i_hi, mid - 1) - i_lo + 1
            first = np.cumsum(lengths) - lengths
            cand = np.arange(int(lengths.sum())) + np.repeat(i_lo - first, lengths)
            # best[i] + sse(i, j) without the p2[j] term, which is constant per segment
            d1 = np.repeat(p1[mid], lengths) - p1[cand]
            value = base[cand] - d1 * d1 / (np.repeat(pw[mid], lengths) - pw[cand])
            low = np.minimum.reduceat(value, first)
            hits = np.flatnonzero(value == np.repeat(low, lengths))
            arg = cand[hits[np.searchsorted(hits, first)]]  # leftmost optimum
            row[mid] = low + p2[mid]
            if choice is not None:
                choice[mid] = arg
            left, right = mid > j_lo, mid < j_hi
            j_lo = np.concatenate([j_lo[left], mid[right] + 1])
            j_hi = np.concatenate([mid[left] - 1, j_hi[right]])
            i_lo, i_hi = (
                np.concatenate([i_lo[left], arg[right]]),
                np.concatenate([arg[left], i_hi[right]]),
            )
        curve[k - 1] = np.where(active, row[ends], curve[k - 2])
        best = row
        if choice is not None:
            choices.append(choice)
    # A group whose points each hold one value has no inertia once every point is a cluster;
    # the cost sums would leave rounding noise there.
    single = np.logical_and.reduceat(points.low == points.high, starts)
    covered = np.arange(1, k_max + 1)[:, None] >= sizes[None, :]
    curve[covered & single[None, :]] = 0.0
    return np.maximum(curve, 0.0), choices


def _cluster_batch(rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    points = _points(rows, k)
    _, choices = _solve(points, k, keep_choices=True)
    offsets = points.offsets
    groups = len(offsets) - 1
    sizes = np.diff(offsets)
    used = np.minimum(k, sizes)
    flag = np.zeros(int(offsets[-1]), dtype=np.int64)
    end = offsets[1:].copy()
    for clusters in range(k, 1, -1):
        sel = np.flatnonzero(used >= clusters)
        if sel.size == 0:
            continue
        begin = choices[clusters - 2][end[sel]]
        flag[begin] = 1
        end[sel] = begin
    running = np.cumsum(flag)
    group_of_point = np.repeat(np.arange(groups), sizes)
    local = running - running[offsets[:-1]][group_of_point]
    cluster_id = group_of_point * k + local
    means, _ = _exact_means(cluster_id, points.representative(), points.weight, groups * k)
    centroids = means.reshape(groups, k)
    labels = local[points.element_point]
    if rows.shape[1] > _bins_for(k):
        for g in range(groups):
            centroids[g], labels[g] = _polish(rows[g], centroids[g], used[g])
    return centroids, labels


def _polish(row: np.ndarray, centroids: np.ndarray, used: int) -> tuple[np.ndarray, np.ndarray]:
    """Move binned boundaries to the midpoints between centroids, then update the means.

    Binning only lets a cluster end at a bin edge, so a few values near a boundary sit with
    the farther centroid. One assignment step (nearest centroid) and one mean update, from
    the DP's near-optimal start, can only lower the SSE; this is a polish, not Lloyd's
    algorithm, which would need a good start and many iterations.
    """
    centres = centroids[:used]
    labels = np.searchsorted((centres[1:] + centres[:-1]) / 2, row)
    means, count = _exact_means(labels, row, np.ones_like(row), used)
    means = np.where(count > 0, means, centres)
    out = np.full_like(centroids, np.nan)
    out[:used] = means
    return out, labels


def cluster_rows(rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Optimal k-means of every row of a 2-D array, each row on its own.

    Args:
        rows: ``(groups, n)`` finite values.
        k: Clusters per row, >= 1.

    Returns:
        ``(centroids, labels)``: centroids ``(groups, k)`` ascending per row, NaN-padded where
        a row has fewer than ``k`` distinct values; labels ``(groups, n)`` index the centroids.
    """
    rows = np.asarray(rows, dtype=np.float64)
    per_batch = max(1, _MAX_CHOICES // max(1, k * min(rows.shape[1], _bins_for(k))))
    parts = [_cluster_batch(rows[s : s + per_batch], k) for s in range(0, len(rows), per_batch)]
    return np.concatenate([c for c, _ in parts]), np.concatenate([lab for _, lab in parts])


def kmeans_1d(values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Optimal (minimum-SSE) 1-D k-means.

    Args:
        values: Finite values of any shape (flattened); a torch tensor is accepted too.
        k: Number of clusters, >= 1.

    Returns:
        ``(centroids, labels, inertia)``: the centroids in ascending order (fewer than ``k``
        when the values have fewer distinct entries), the cluster index of every value (flat)
        and the sum of squared distances of the values to their centroids.

    Raises:
        FormatError: for empty or non-finite values or ``k < 1``.

    Example:
        >>> c, labels, sse = kmeans_1d(np.array([0.0, 0.1, 5.0, 5.2]), 2)
        >>> c.round(3).tolist(), labels.tolist(), round(sse, 3)
        ([0.05, 5.1], [0, 0, 1, 1], 0.025)
    """
    k = _check_k("kmeans_1d.k", k)
    rows = _as_rows(values, "kmeans_1d.values")
    centroids, labels = cluster_rows(rows, k)
    centroids, labels = centroids[0], labels[0]
    centroids = centroids[~np.isnan(centroids)]
    inertia = float(np.sum((rows[0] - centroids[labels]) ** 2))
    return centroids, labels, inertia


def inertia_curve(values: np.ndarray | torch.Tensor, k_max: int) -> np.ndarray:
    """Optimal k-means inertia (SSE) for every ``k`` in ``1..k_max``, from one DP pass.

    The DP's rows are exactly the curve, so asking for all k costs the same as the largest.
    The curve is non-increasing and reaches 0 once ``k`` covers the distinct values.

    Args:
        values: Finite values of any shape (flattened), numpy or torch.
        k_max: Largest number of clusters, >= 1.

    Returns:
        Float64 array of length ``k_max``; entry ``k-1`` is the SSE with ``k`` clusters.

    Raises:
        FormatError: for empty or non-finite values or ``k_max < 1``.

    Example:
        >>> inertia_curve(np.array([0.0, 1.0, 10.0]), 3).round(3).tolist()
        [60.667, 0.5, 0.0]
    """
    k_max = _check_k("inertia_curve.k_max", k_max)
    points = _points(_as_rows(values, "inertia_curve.values"), k_max)
    curve, _ = _solve(points, k_max, keep_choices=False)
    return np.minimum.accumulate(curve[:, 0])
