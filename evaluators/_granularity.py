"""Granularity value types: how many codebooks (or scales) a tensor gets.

Modelled on torchao's ``PerTensor`` / ``PerAxis``: a granularity is a value, not a string, so a
configuration can be hashed and compared; the names (``"layer"``...) are accepted wherever a
user writes one (study.yaml, keyword arguments) and normalised once with
:func:`granularity_from_name`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from evaluators._errors import FormatError

__all__ = [
    "Granularity",
    "PerChannel",
    "PerKernel",
    "PerLayer",
    "PerNetwork",
    "granularity_from_name",
]


@dataclass(frozen=True)
class PerNetwork:
    """One codebook shared by every layer of the network (fitted jointly)."""

    name: ClassVar[str] = "network"


@dataclass(frozen=True)
class PerLayer:
    """One codebook per weight tensor."""

    name: ClassVar[str] = "layer"


@dataclass(frozen=True)
class PerChannel:
    """One codebook per output channel (dim 0 of the weight)."""

    name: ClassVar[str] = "channel"


@dataclass(frozen=True)
class PerKernel:
    """One codebook per (output, input) kernel slice of a convolution weight."""

    name: ClassVar[str] = "kernel"


Granularity = PerNetwork | PerLayer | PerChannel | PerKernel

_BY_NAME: dict[str, Granularity] = {
    g.name: g for g in (PerNetwork(), PerLayer(), PerChannel(), PerKernel())
}


def granularity_from_name(name_or_obj: str | Granularity) -> Granularity:
    """Return the granularity value for a name or pass a granularity object through.

    Args:
        name_or_obj: ``"network"``, ``"layer"``, ``"channel"``, ``"kernel"`` or one of the
            granularity objects.

    Returns:
        The matching granularity object.

    Raises:
        FormatError: for an unknown name or an object of another type.

    Example:
        >>> granularity_from_name("channel")
        PerChannel()
    """
    if isinstance(name_or_obj, PerNetwork | PerLayer | PerChannel | PerKernel):
        return name_or_obj
    if isinstance(name_or_obj, str) and name_or_obj in _BY_NAME:
        return _BY_NAME[name_or_obj]
    raise FormatError(
        f"granularity: must be one of {sorted(_BY_NAME)} or a granularity object, "
        f"got {name_or_obj!r}"
    )
