"""Weight sharing: optimal codebooks per granularity, codebook formats, storage, contract."""

from __future__ import annotations

import json

import kmeans1d
import numpy as np
import pytest
import torch

from evaluators._errors import FormatError
from evaluators._fixed_point import FixedPoint
from evaluators._float_format import FloatFormat
from evaluators._granularity import (
    PerChannel,
    PerKernel,
    PerLayer,
    PerNetwork,
    granularity_from_name,
)
from evaluators._weight_sharing import WeightSharing, share_weights

GROUPS = {"network": 1, "layer": 1, "channel": 6, "kernel": 6 * 4}


def exact_inertia(values: np.ndarray, k: int) -> float:
    labels, centroids = kmeans1d.cluster(values.tolist(), k)
    return float(np.sum((values - np.asarray(centroids)[np.asarray(labels)]) ** 2))


def conv_weight(seed: int, shape: tuple[int, ...] = (6, 4, 3, 3)) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    w = (
        torch.distributions.StudentT(3.0).sample(shape)
        if seed % 2
        else torch.randn(shape, generator=g)
    )
    return w.float()


@pytest.mark.parametrize("granularity", ["network", "layer", "channel", "kernel"])
@pytest.mark.parametrize("k", [1, 3, 8])
def test_optimal_per_group(granularity: str, k: int) -> None:
    torch.manual_seed(0)
    w = conv_weight(k)
    y = WeightSharing(k, granularity).quantize(w)
    groups = GROUPS[granularity]
    for original, shared in zip(w.reshape(groups, -1), y.reshape(groups, -1), strict=True):
        values = original.double().numpy()
        assert len(torch.unique(shared)) <= k
        sse = float(np.sum((values - shared.double().numpy()) ** 2))
        assert sse <= exact_inertia(values, min(k, len(values))) * (1 + 1e-3) + 1e-6


def test_large_layer_within_tolerance() -> None:
    w = torch.distributions.Laplace(0.0, 0.05).sample((64, 32, 3, 3))
    y = WeightSharing(32).quantize(w)
    values = w.double().numpy().ravel()
    sse = float(np.sum((values - y.double().numpy().ravel()) ** 2))
    assert sse <= exact_inertia(values, 32) * 1.001


def test_issue_example_keeps_zeros_exact() -> None:
    y = WeightSharing(8).quantize(torch.tensor([0, 0, 0.25, -0.125, 0]))
    assert y.tolist() == [0.0, 0.0, 0.25, -0.125, 0.0]
    assert torch.signbit(y).tolist() == [False, False, False, True, False]


def pruned_weight(seed: int, shape: tuple[int, ...]) -> torch.Tensor:
    """Zeros (60 %) and a few float32 values whose means do not round trip in float64."""
    g = torch.Generator().manual_seed(seed)
    palette = torch.tensor([0.1, 1 / 3, -0.7, 0.3], dtype=torch.float32)
    w = palette[torch.randint(0, len(palette), shape, generator=g)]
    return torch.where(torch.rand(shape, generator=g) < 0.6, torch.zeros(()), w)


@pytest.mark.parametrize("granularity", ["network", "layer", "channel", "kernel"])
@pytest.mark.parametrize("shape", [(6, 4, 3, 3), (64, 48, 3, 3)])  # the second is binned
def test_identical_values_keep_their_value(granularity: str, shape: tuple[int, ...]) -> None:
    """Issue 11 class 5: with k >= distinct values every weight comes back bit for bit."""
    w = pruned_weight(len(shape) + shape[0], shape)
    for fmt in (WeightSharing(5, granularity), WeightSharing(8, granularity)):
        y = share_weights([w, w[:2].clone()], fmt)[0]
        assert torch.equal(y, w)  # the reference: the input itself
        assert not torch.signbit(y[w == 0]).any()


@pytest.mark.parametrize("granularity", ["network", "layer", "channel", "kernel"])
def test_pruned_zeros_stay_zero(granularity: str) -> None:
    g = torch.Generator().manual_seed(5)
    w = torch.randn(32, 16, 3, 3, generator=g) * 0.05
    w = torch.where(w.abs() < 0.06, torch.zeros(()), w.sign() * 0.5 + w)  # zeros far from rest
    y = WeightSharing(4, granularity).quantize(w)
    assert torch.all(y[w == 0] == 0) and not torch.signbit(y[w == 0]).any()


def test_linear_kernel_equals_channel() -> None:
    w = torch.randn(5, 40)
    assert torch.equal(
        WeightSharing(4, "kernel").quantize(w), WeightSharing(4, "channel").quantize(w)
    )
    assert WeightSharing(4, "kernel").codebooks((5, 40)) == 5


@pytest.mark.parametrize("codebook", [FixedPoint(6, 1), FloatFormat(4, 2)])
def test_codebook_rounding_applied(codebook: FixedPoint | FloatFormat) -> None:
    w = torch.randn(16, 8, 3, 3) * 0.3
    y = WeightSharing(8, "channel", codebook).quantize(w)
    assert torch.equal(codebook.quantize(y), y)
    plain = WeightSharing(8, "channel").quantize(w)
    assert not torch.equal(plain, y)
    assert torch.equal(codebook.quantize(plain), y)


def test_share_weights_network_uses_one_codebook() -> None:
    tensors = [torch.randn(8, 4, 3, 3), torch.randn(10, 8) * 3, torch.randn(7)]
    shared = share_weights(tensors, WeightSharing(5, PerNetwork()))
    assert len(torch.unique(torch.cat([s.reshape(-1) for s in shared]))) <= 5
    assert [s.shape for s in shared] == [t.shape for t in tensors]
    joint = np.concatenate([t.double().numpy().ravel() for t in tensors])
    sse = sum(float(((t - s).double() ** 2).sum()) for t, s in zip(tensors, shared, strict=True))
    assert sse <= exact_inertia(joint, 5) * 1.001 + 1e-6
    per_layer = share_weights(tensors, WeightSharing(5, "layer"))
    for t, s in zip(tensors, per_layer, strict=True):
        assert torch.equal(s, WeightSharing(5).quantize(t))


def test_storage_accounting() -> None:
    shape = (64, 32, 3, 3)
    assert [WeightSharing(k).index_bits for k in (1, 2, 3, 4, 5, 256)] == [0, 1, 2, 2, 3, 8]
    assert WeightSharing(16, "channel").codebooks(shape) == 64
    assert WeightSharing(16, "kernel").codebooks(shape) == 64 * 32
    assert WeightSharing(16, "network").codebooks(shape) == 1
    fmt = WeightSharing(16, "channel", FixedPoint(8, 2))
    assert fmt.codebook_bits == 8 and WeightSharing(16).codebook_bits == 32
    assert fmt.storage_bits(shape) == 64 * 32 * 9 * 4 + 64 * 16 * 8


def test_granularity_names_normalised() -> None:
    assert WeightSharing(4, "channel") == WeightSharing(4, PerChannel())
    assert hash(WeightSharing(4, "kernel")) == hash(WeightSharing(4, PerKernel()))
    assert WeightSharing(4).granularity == PerLayer()
    assert [granularity_from_name(n).name for n in ("network", "layer", "channel", "kernel")] == [
        "network",
        "layer",
        "channel",
        "kernel",
    ]
    with pytest.raises(FormatError, match=r"one of \['channel', 'kernel', 'layer', 'network'\]"):
        WeightSharing(4, "tensor")


def test_round_trip() -> None:
    for fmt in (
        WeightSharing(4),
        WeightSharing(16, "kernel", FixedPoint(8, 1, rounding="truncate")),
        WeightSharing(2, "network", FloatFormat(5, 2)),
    ):
        d = json.loads(json.dumps(fmt.to_dict()))
        assert d["kind"] == "shared" and d["version"] == 1
        assert WeightSharing.from_dict(d) == fmt
    with pytest.raises(FormatError, match="codebook.kind"):
        WeightSharing.from_dict({**WeightSharing(2).to_dict(), "codebook": {"kind": "posit"}})


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"clusters": 0}, "clusters"),
        ({"clusters": 2.5}, "clusters"),
        ({"clusters": 2, "codebook": "fixed8"}, "codebook"),
    ],
)
def test_validation(kwargs: dict, field: str) -> None:
    with pytest.raises(FormatError, match=f"WeightSharing.{field}:.*got"):
        WeightSharing(**kwargs)


def test_quantize_is_pure_and_rejects_nan() -> None:
    w = torch.randn(8, 3, 3, 3)
    before = w.clone()
    fmt = WeightSharing(4, "channel", FloatFormat(4, 3))
    a, b = fmt.quantize(w), fmt.quantize(w)
    assert torch.equal(w, before) and torch.equal(a, b) and a.dtype == torch.float32
    w[0, 0, 0, 0] = float("nan")
    with pytest.raises(FormatError, match="finite"):
        fmt.quantize(w)
