"""What each layer tensor of a study may become: the space's own small value types.

The study file's schema (in `dse`) resolves its defaults, layer-type and layer-name rules into
one `LayerChoices` per layer; a Python user may build them directly. Ranges are inclusive
`(low, high)` pairs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CodebookChoice:
    """The format shared-weight centroids are stored in.

    Attributes:
        kind: `fixed` (`bits` wide, integer bits from the weights' range) or `float`
            (`exponent_bits`, `mantissa_bits`).
    """

    kind: str
    bits: int | None = None
    exponent_bits: int | None = None
    mantissa_bits: int | None = None


@dataclass(frozen=True)
class _FormatChoices:
    """Fields weights and activations share: the kinds allowed, fixed and float ranges."""

    kinds: tuple[str, ...] = ("fixed",)
    bits: tuple[int, int] | None = (4, 16)
    integer_bits: int | str = "auto"
    rounding: str = "nearest_even"
    overflow: str = "saturate"
    exponent_bits: tuple[int, int] | None = (2, 8)
    mantissa_bits: tuple[int, int] | None = (0, 10)
    subnormals: bool = True
    float_overflow: str = "inf"


@dataclass(frozen=True)
class WeightChoices(_FormatChoices):
    """What a layer's weights may become: `fixed` (`bits`), `float` (E, M) or `shared`
    (k in `clusters`, at one of `granularity`, centroids in `codebook`; `None`: float32)."""

    clusters: tuple[int, int] | None = (2, 64)
    granularity: tuple[str, ...] = ("layer",)
    codebook: CodebookChoice | None = None


@dataclass(frozen=True)
class ActivationChoices(_FormatChoices):
    """What a layer's output activations may become, how their range is calibrated
    (`minmax`, `percentile` at `percentile`, or `mse`), and the accumulator word lengths
    (`None`: the exact sum)."""

    calibration: str = "minmax"
    percentile: float = 99.99
    accumulator_bits: tuple[int, int] | None = None


@dataclass(frozen=True)
class LayerChoices:
    """The resolved choices of one layer (`None`: that tensor stays float32)."""

    weights: WeightChoices | None = None
    activations: ActivationChoices | None = None
