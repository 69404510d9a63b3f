"""Weight sharing: each weight replaced by the nearest of ``k`` centroids from optimal k-means.

Hardware stores ``ceil(log2 k)``-bit indices plus small codebooks, so the format's cost is
index bits per weight plus codebook bits per group; the group is set by the granularity.
Clustering is the exact 1-D DP of :mod:`evaluators._kmeans`, so a configuration always maps
to the same (optimal) weights: deterministic, no seeds, no local optima.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from evaluators._errors import FormatError
from evaluators._fixed_point import FixedPoint
from evaluators._float_format import FloatFormat
from evaluators._format_base import _FORMAT_VERSION, _check_int, _fields_from_dict
from evaluators._granularity import (
    Granularity,
    PerChannel,
    PerKernel,
    PerLayer,
    PerNetwork,
    granularity_from_name,
)
from evaluators._kmeans import cluster_rows

__all__ = ["WeightSharing", "share_weights"]

_MAX_CLUSTERS = 1 << 16
_FLOAT32_BITS = 32


@dataclass(frozen=True)
class WeightSharing:
    """Weight-sharing format: ``clusters`` shared values per codebook.

    Args:
        clusters: ``k`` >= 1, values per codebook.
        granularity: Codebook scope: ``PerLayer()`` (one per tensor), ``PerChannel()`` (one
            per output channel, dim 0), ``PerKernel()`` (one per (out, in) slice of a conv;
            for a 2-D Linear weight the same as per channel), or ``PerNetwork()`` (one for
            all tensors, fitted jointly by :func:`share_weights`; on a single tensor the same
            as per layer). The names ``"layer"``... are accepted and normalised.
        codebook: Format the centroids are stored in, or None for float32.

    Raises:
        FormatError: if a field is outside its allowed values.

    Example:
        >>> w = torch.tensor([[0.0, 0.1, 1.0, 1.1]])
        >>> WeightSharing(2).quantize(w)
        tensor([[0.0500, 0.0500, 1.0500, 1.0500]])
    """

    clusters: int
    granularity: Granularity = PerLayer()  # a frozen value: safe to share as a default
    codebook: FixedPoint | FloatFormat | None = None
    kind: ClassVar[str] = "shared"

    def __post_init__(self) -> None:
        _check_int("WeightSharing.clusters", self.clusters, 1, _MAX_CLUSTERS)
        object.__setattr__(self, "granularity", granularity_from_name(self.granularity))
        if self.codebook is not None and not isinstance(self.codebook, FixedPoint | FloatFormat):
            raise FormatError(
                "WeightSharing.codebook: must be a FixedPoint, a FloatFormat or None, "
                f"got {self.codebook!r}"
            )

    @property
    def index_bits(self) -> int:
        """Bits of one stored index, ``ceil(log2(k))`` (0 for k == 1)."""
        return (self.clusters - 1).bit_length()

    @property
    def codebook_bits(self) -> int:
        """Bits of one stored centroid (32 for float32 centroids)."""
        return _FLOAT32_BITS if self.codebook is None else self.codebook.bits

    @property
    def bits(self) -> int:
        """Bits stored per weight, not counting the codebooks (the index bits)."""
        return self.index_bits

    def codebooks(self, shape: tuple[int, ...]) -> int:
        """Number of codebooks a tensor of ``shape`` has at this granularity."""
        return _group_shape(tuple(shape), self.granularity)[0]

    def storage_bits(self, shape: tuple[int, ...]) -> int:
        """Bits to store a tensor of ``shape``: indices plus codebooks."""
        numel = math.prod(shape)
        return numel * self.index_bits + self.codebooks(shape) * self.clusters * self.codebook_bits

    def quantize(self, x: torch.Tensor) -> torch.Tensor:
        """Replace every weight of ``x`` by its centroid; returns a new float32 tensor.

        Args:
            x: A layer weight, Conv ``(out, in, kh, kw)`` or Linear ``(out, in)`` (any shape is
                accepted; see :meth:`codebooks`). Must be finite. Not modified.

        Raises:
            FormatError: if ``x`` is not a floating tensor or holds NaN/inf.
        """
        _check_tensor(x)
        return _share(x.reshape(_group_shape(tuple(x.shape), self.granularity)), self).view(
            x.shape
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict with ``kind`` and ``version``; inverse of :meth:`from_dict`."""
        return {
            "kind": self.kind,
            "version": _FORMAT_VERSION,
            "clusters": self.clusters,
            "granularity": self.granularity.name,
            "codebook": None if self.codebook is None else self.codebook.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WeightSharing:
        """Rebuild a format written by :meth:`to_dict`.

        Raises:
            FormatError: if ``kind``/``version`` do not match or a field is unknown.
        """
        fields = _fields_from_dict(cls, d)
        codebook = fields.get("codebook")
        if isinstance(codebook, dict):
            kinds = {FixedPoint.kind: FixedPoint, FloatFormat.kind: FloatFormat}
            if codebook.get("kind") not in kinds:
                raise FormatError(
                    f"WeightSharing.from_dict.codebook.kind: must be one of {sorted(kinds)}, "
                    f"got {codebook.get('kind')!r}"
                )
            fields["codebook"] = kinds[codebook["kind"]].from_dict(codebook)
        return cls(**fields)


def _group_shape(shape: tuple[int, ...], granularity: Granularity) -> tuple[int, int]:
    """``(groups, values per group)`` of a tensor: one codebook per group."""
    numel = math.prod(shape)
    if isinstance(granularity, PerLayer | PerNetwork) or len(shape) < 2 or numel == 0:
        groups = 1
    elif isinstance(granularity, PerChannel) or len(shape) == 2:
        groups = shape[0]
    else:
        assert isinstance(granularity, PerKernel)
        groups = shape[0] * shape[1]
    return groups, numel // groups if groups else 0


def _check_tensor(x: torch.Tensor) -> None:
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise FormatError(f"WeightSharing.quantize.x: must be a floating tensor, got {x!r:.60}")
    if not bool(torch.isfinite(x).all()):
        raise FormatError("WeightSharing.quantize.x: weights must be finite, got NaN or inf")


def _share(rows: torch.Tensor, sharing: WeightSharing) -> torch.Tensor:
    """Cluster every row of a ``(groups, n)`` tensor; return the centroid of every value."""
    if rows.numel() == 0:
        return torch.empty(rows.shape, dtype=torch.float32, device=rows.device)
    values = rows.detach().to(device="cpu", dtype=torch.float64).numpy()
    centroids, labels = cluster_rows(values, sharing.clusters)
    table = torch.from_numpy(centroids).float()
    if sharing.codebook is not None:
        table = sharing.codebook.quantize(table)
    shared = torch.gather(table, 1, torch.from_numpy(labels))
    return shared.to(rows.device)


def share_weights(tensors: Sequence[torch.Tensor], sharing: WeightSharing) -> list[torch.Tensor]:
    """Apply weight sharing to the weights of a network.

    With ``PerNetwork`` granularity one codebook is fitted jointly on all tensors (the
    hardware then keeps a single table); with any other granularity each tensor is
    quantized on its own, as :meth:`WeightSharing.quantize`.

    Args:
        tensors: The weights, in any order; none is modified.
        sharing: The format.

    Returns:
        New float32 tensors, one per input, same shapes and devices.

    Raises:
        FormatError: if a tensor is not floating or not finite.

    Example:
        >>> a, b = torch.tensor([0.0, 0.1]), torch.tensor([1.0, 1.1])
        >>> share_weights([a, b], WeightSharing(2, "network"))
        [tensor([0.0500, 0.0500]), tensor([1.0500, 1.0500])]
    """
    if not isinstance(sharing.granularity, PerNetwork):
        return [sharing.quantize(t) for t in tensors]
    for t in tensors:
        _check_tensor(t)
    if not tensors:
        return []
    flat = torch.cat(
        [t.detach().reshape(-1).to(device="cpu", dtype=torch.float32) for t in tensors]
    )
    shared = _share(flat.reshape(1, -1), sharing).reshape(-1)
    pieces = torch.split(shared, [t.numel() for t in tensors])
    return [p.view(t.shape).to(t.device) for p, t in zip(pieces, tensors, strict=True)]
