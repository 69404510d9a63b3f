"""hls4ml's ``ap_fixed`` types: dse's fixed-point formats spelled for HLS, and the widths that
hold a tensor or a sum exactly.

A dse `FixedPoint` is at most 32 bits; a type that holds float32 biases or an exact sum may be
wider (HLS allows 1024 bits), so the export speaks of `ApFixed`, a small value of its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from evaluators import FixedPoint
from results._errors import ResultsError

__all__ = ["MAX_WIDTH", "ApFixed"]

MAX_WIDTH = 1024
"""Widest ``ap_fixed`` the HLS headers accept by default (``AP_INT_MAX_W``)."""

QUANTIZATION = {"nearest_even": "AP_RND_CONV", "nearest_up": "AP_RND", "truncate": "AP_TRN"}
"""dse's rounding modes as HLS quantization modes."""

OVERFLOW = {"saturate": "AP_SAT", "wrap": "AP_WRAP"}
"""dse's overflow modes as HLS overflow modes."""


@dataclass(frozen=True)
class ApFixed:
    """``ap_fixed<W,I,Q,O>`` (or ``ap_ufixed``): ``W`` bits, ``I`` of them left of the point.

    Attributes:
        width: ``W``, total bits (1..1024).
        integer: ``I``, integer bits including the sign bit (may be negative or exceed ``W``).
        signed: ``ap_fixed`` (True) or ``ap_ufixed``.
        rounding: dse's name of the quantization mode (`QUANTIZATION`).
        overflow: dse's name of the overflow mode (`OVERFLOW`).

    Example:
        >>> str(ApFixed.of(FixedPoint(8, 3, rounding="truncate", overflow="wrap")))
        'ap_fixed<8,3,AP_TRN,AP_WRAP>'
        >>> ApFixed.holding([0.75, -2.0]).width, ApFixed.holding([0.75, -2.0]).integer
        (4, 2)
    """

    width: int
    integer: int
    signed: bool = True
    rounding: str = "truncate"
    overflow: str = "wrap"

    def __post_init__(self) -> None:
        if not 1 <= self.width <= MAX_WIDTH:
            raise ResultsError(
                f"ap_fixed width: {self.width} bits is outside 1..{MAX_WIDTH} (AP_INT_MAX_W)"
            )

    def __str__(self) -> str:
        kind = "ap_fixed" if self.signed else "ap_ufixed"
        modes = f"{QUANTIZATION[self.rounding]},{OVERFLOW[self.overflow]}"
        return f"{kind}<{self.width},{self.integer},{modes}>"

    @property
    def fraction_bits(self) -> int:
        """Bits right of the binary point, ``W - I``."""
        return self.width - self.integer

    @property
    def step(self) -> float:
        """The value of one LSB, ``2**-(W-I)``."""
        return math.ldexp(1.0, -self.fraction_bits)

    @property
    def bound(self) -> float:
        """The largest magnitude a value may have (``2**(I-1)`` signed, ``2**I`` unsigned)."""
        return math.ldexp(1.0, self.integer - 1 if self.signed else self.integer)

    @classmethod
    def of(cls, fmt: FixedPoint) -> ApFixed:
        """The HLS type of a dse fixed-point format, modes included."""
        return cls(fmt.word_length, fmt.integer_bits, fmt.signed, fmt.rounding, fmt.overflow)

    @classmethod
    def holding(cls, values: Iterable[float]) -> ApFixed:
        """The narrowest signed type holding every (finite, binary) value exactly.

        Raises:
            ResultsError: a value is not finite, or the type would exceed `MAX_WIDTH` bits.
        """
        fractions = []
        for value in values:
            if not math.isfinite(value):
                raise ResultsError(f"ap_fixed: cannot hold the value {value!r} exactly")
            fractions.append(Fraction(value))
        nonzero = [f for f in fractions if f != 0]
        if not nonzero:
            return cls(1, 1)
        # binary fractions: every denominator is a power of two
        fraction_bits = max(f.denominator.bit_length() - 1 for f in nonzero)
        width = max(_signed_bits(int(f * (1 << fraction_bits))) for f in nonzero)
        return cls._checked(width, width - fraction_bits, "the values")

    @classmethod
    def for_sum(cls, inputs: ApFixed, weights: ApFixed, bias: ApFixed, l1: float) -> ApFixed:
        """An accumulator holding every product, the bias and every partial sum exactly.

        Args:
            inputs: the layer's input type.
            weights: the type its weights are stored in.
            bias: the type its biases are stored in.
            l1: the largest sum of |weights| over one output's inputs.
        """
        fraction_bits = max(inputs.fraction_bits + weights.fraction_bits, bias.fraction_bits)
        largest = inputs.bound * l1 + bias.bound
        integer = max(1, math.ceil(math.log2(largest)) + 1) if largest > 0 else 1
        return cls._checked(integer + fraction_bits, integer, "an exact sum")

    @classmethod
    def _checked(cls, width: int, integer: int, what: str) -> ApFixed:
        if width > MAX_WIDTH:
            raise ResultsError(
                f"ap_fixed: holding {what} exactly takes {width} bits, more than HLS's "
                f"{MAX_WIDTH} (AP_INT_MAX_W)"
            )
        return cls(max(width, 1), integer)

    def to_fixed_point(self) -> FixedPoint | None:
        """The same format as a dse `FixedPoint` (None when wider than dse's 32 bits)."""
        if self.width > 32 or not -64 <= self.integer <= 64:
            return None
        return FixedPoint(self.width, self.integer, self.signed, self.rounding, self.overflow)


def _signed_bits(q: int) -> int:
    """Bits of the narrowest two's-complement word holding the integer ``q``."""
    return (q if q >= 0 else -q - 1).bit_length() + 1
