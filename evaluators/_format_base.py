"""What every number format shares: field checks, the JSON form, the block-wise kernel loop."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import fields
from functools import cache
from typing import Any, ClassVar, Self

import torch

from evaluators._errors import FormatError


@cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind))


_BLOCK = 1 << 18  # elements per block: 1 MiB of float32, fits L2 next to the scratch buffers
_FORMAT_VERSION = 1


def for_each_block(
    x: torch.Tensor,
    body: Callable[..., None],
    scratch: tuple[torch.dtype, ...] = (),
) -> torch.Tensor:
    """Run ``body(src_block, out_block, *scratch_blocks)`` over cache-sized blocks of ``x``.

    Why: torch runs one memory pass per element-wise op. Chaining five ops on a 40 MB tensor
    costs five passes; on 1 MiB blocks the intermediates stay in cache and only the input read
    and the output write reach memory. On accelerators the whole tensor is one block.

    Args:
        x: Input tensor of any floating dtype; it is read, never written. It is converted to
            float32 first (the formats emulate float32 inputs).
        body: Writes the result for one block into ``out_block``; may use the scratch blocks.
        scratch: Dtypes of the scratch buffers handed to ``body`` (each as long as the block).

    Returns:
        A new float32 tensor with the shape and device of ``x``.
    """
    src = x.detach().to(torch.float32).contiguous().reshape(-1)
    out = torch.empty_like(src)
    n = src.numel()
    block = _BLOCK if src.device.type == "cpu" else max(n, 1)
    buffers = [torch.empty(min(n, block), dtype=dt, device=src.device) for dt in scratch]
    for start in range(0, n, block):
        stop = min(start + block, n)
        body(src[start:stop], out[start:stop], *(b[: stop - start] for b in buffers))
    return out.view(x.shape)


def _check_choice(field: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise FormatError(f"{field}: must be one of {list(allowed)}, got {value!r}")


def _check_int(field: str, value: object, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise FormatError(f"{field}: must be an int in {low}..{high}, got {value!r}")


def _fields_from_dict(cls: type, d: dict[str, Any]) -> dict[str, Any]:
    """Check ``kind``/``version`` of a format dict and return its remaining fields."""
    if not isinstance(d, dict):
        raise FormatError(f"{cls.__name__}.from_dict: expected a dict, got {type(d).__name__}")
    fields = dict(d)
    kind = fields.pop("kind", None)
    version = fields.pop("version", None)
    if kind != cls.kind:
        raise FormatError(f"{cls.__name__}.from_dict.kind: must be {cls.kind!r}, got {kind!r}")
    if version != _FORMAT_VERSION:
        raise FormatError(
            f"{cls.__name__}.from_dict.version: must be {_FORMAT_VERSION}, got {version!r}"
        )
    known = set(cls.__dataclass_fields__)
    unknown = sorted(set(fields) - known)
    if unknown:
        raise FormatError(
            f"{cls.__name__}.from_dict: unknown fields {unknown}; allowed {sorted(known)}"
        )
    return fields


class ElementFormat:
    """Mixin of the formats that store every value on its own (`FixedPoint`, `FloatFormat`).

    Subclasses are frozen dataclasses with a `kind` and a `bits` property; this gives them the
    storage size of a tensor and the versioned JSON form.
    """

    kind: ClassVar[str]
    bits: int

    def storage_bits(self, shape: tuple[int, ...]) -> int:
        """Bits needed to store a tensor of ``shape`` in this format."""
        return math.prod(shape) * self.bits

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict with ``kind`` and ``version``; inverse of :meth:`from_dict`."""
        # its fields are plain values: what `dataclasses.asdict` gives, without its deep copies
        # (a sampler hashes the formats of every candidate it weighs)
        values = {name: getattr(self, name) for name in _field_names(type(self))}
        return {"kind": self.kind, "version": _FORMAT_VERSION, **values}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        """Rebuild a format written by :meth:`to_dict`.

        Raises:
            FormatError: if ``kind`` or ``version`` do not match or a field is unknown.
        """
        return cls(**_fields_from_dict(cls, d))
