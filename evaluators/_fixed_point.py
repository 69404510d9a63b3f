"""Bit-true fixed-point format: the arithmetic of HLS ``ap_fixed<W,I>`` / ``ap_ufixed<W,I>``.

A value is an integer ``q`` of ``W`` bits times the step ``2**-(W-I)``. Rounding follows the
HLS quantization modes (``AP_RND_CONV``, ``AP_RND``, ``AP_TRN``) and overflow the HLS overflow
modes (``AP_SAT``, ``AP_WRAP``), so an emulated layer computes what the synthesised one will.

The kernels work block by block on cache-sized slices of the input (:func:`for_each_block`):
a handful of element-wise torch ops per block stay in L2, so the cost is one read of the input
and one write of the output, close to a plain copy, instead of one memory pass per op.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Literal

import torch

from evaluators._errors import FormatError
from evaluators._format_base import (
    ElementFormat,
    _check_choice,
    _check_int,
    for_each_block,
)

__all__ = ["FixedPoint", "for_each_block", "quantize_fixed", "round_scaled_", "to_integers_"]

FixedRounding = Literal["nearest_even", "nearest_up", "truncate"]
FixedOverflow = Literal["saturate", "wrap"]

_ROUNDINGS = ("nearest_even", "nearest_up", "truncate")
_OVERFLOWS = ("saturate", "wrap")
_MAX_WORD_LENGTH = 32
_INTEGER_BITS_RANGE = (-64, 64)
_FAST_MAX_INTEGER = 1 << 22  # float32 rounding trick bound on |q| (see _fast_body)
# Scaled infinities: inputs that overflow the scaled range wrap to 0 (a multiple of 2**W).
_HUGE = math.ldexp(1.0, 200)


@dataclass(frozen=True)
class FixedPoint(ElementFormat):
    """Fixed-point number format with the semantics of ``ap_fixed<W,I,Q,O>``.

    The value of a stored integer ``q`` is ``q * 2**-(W-I)``. Signed formats hold ``q`` in
    ``[-2**(W-1), 2**(W-1)-1]``, unsigned ones in ``[0, 2**W-1]``. ``integer_bits`` counts the
    sign bit, may be negative (all bits fractional, values below 0.5) or larger than ``W``
    (a step above 1), exactly as in HLS.

    Args:
        word_length: ``W``, total bits, 1..32.
        integer_bits: ``I``, integer bits including the sign bit, -64..64.
        signed: ``ap_fixed`` (True) or ``ap_ufixed`` (False).
        rounding: ``"nearest_even"`` (``AP_RND_CONV``), ``"nearest_up"`` (``AP_RND``, ties
            toward +inf) or ``"truncate"`` (``AP_TRN``, toward -inf).
        overflow: ``"saturate"`` (``AP_SAT``) or ``"wrap"`` (``AP_WRAP``, two's complement).

    Raises:
        FormatError: if a field is outside its allowed values.

    Example:
        >>> FixedPoint(8, 3).quantize(torch.tensor([0.1, 5.0, -9.0]))
        tensor([ 0.0938,  3.9688, -4.0000])
    """

    word_length: int
    integer_bits: int
    signed: bool = True
    rounding: FixedRounding = "nearest_even"
    overflow: FixedOverflow = "saturate"
    kind: ClassVar[str] = "fixed"

    def __post_init__(self) -> None:
        _check_int("FixedPoint.word_length", self.word_length, 1, _MAX_WORD_LENGTH)
        _check_int("FixedPoint.integer_bits", self.integer_bits, *_INTEGER_BITS_RANGE)
        if not isinstance(self.signed, bool):
            raise FormatError(f"FixedPoint.signed: must be True or False, got {self.signed!r}")
        _check_choice("FixedPoint.rounding", self.rounding, _ROUNDINGS)
        _check_choice("FixedPoint.overflow", self.overflow, _OVERFLOWS)

    @property
    def bits(self) -> int:
        """Storage bits of one value (the word length)."""
        return self.word_length

    @property
    def fraction_bits(self) -> int:
        """Bits right of the binary point, ``W - I`` (negative when ``I > W``)."""
        return self.word_length - self.integer_bits

    @property
    def step(self) -> float:
        """Distance between neighbouring values, ``2**-(W-I)``."""
        return math.ldexp(1.0, -self.fraction_bits)

    @property
    def _int_range(self) -> tuple[int, int]:
        if self.signed:
            return -(1 << (self.word_length - 1)), (1 << (self.word_length - 1)) - 1
        return 0, (1 << self.word_length) - 1

    @property
    def min_value(self) -> float:
        """Smallest representable value (exact as a Python float)."""
        return math.ldexp(float(self._int_range[0]), -self.fraction_bits)

    @property
    def max_value(self) -> float:
        """Largest representable value (exact as a Python float)."""
        return math.ldexp(float(self._int_range[1]), -self.fraction_bits)

    def quantize(self, x: torch.Tensor) -> torch.Tensor:
        """Round ``x`` to this format; see :func:`quantize_fixed` for the exact rules."""
        return _quantize(x, self)

    @classmethod
    def for_range(
        cls,
        max_abs: float,
        word_length: int,
        signed: bool = True,
        *,
        rounding: FixedRounding = "nearest_even",
        overflow: FixedOverflow = "saturate",
    ) -> FixedPoint:
        """Format of ``word_length`` bits with just enough integer bits to hold ``max_abs``.

        Picks the smallest ``integer_bits`` whose ``max_value`` is at least ``max_abs``, so no
        value of magnitude up to ``max_abs`` saturates and every spare bit goes to precision
        (for signed formats ``-max_abs`` then fits too).

        Args:
            max_abs: Largest magnitude to represent, > 0 and finite.
            word_length: Total bits ``W``.
            signed: Signed (``ap_fixed``) or unsigned (``ap_ufixed``).
            rounding: Rounding mode of the returned format.
            overflow: Overflow mode of the returned format.

        Raises:
            FormatError: if ``max_abs`` is not positive and finite or no ``integer_bits`` in
                -64..64 holds it.

        Example:
            >>> FixedPoint.for_range(3.2, 8).integer_bits
            3
        """
        if not isinstance(max_abs, int | float) or not (0 < max_abs < math.inf):
            raise FormatError(
                f"FixedPoint.for_range.max_abs: must be a finite number > 0, got {max_abs!r}"
            )
        _check_int("FixedPoint.word_length", word_length, 1, _MAX_WORD_LENGTH)
        top = (1 << (word_length - 1)) - 1 if signed else (1 << word_length) - 1
        low, high = _INTEGER_BITS_RANGE
        # max_value = top * 2**(I - W); solve for the smallest I, then fix float rounding.
        guess = word_length + math.ceil(math.log2(max_abs / top)) if top > 0 else high + 1
        guess = min(max(guess - 1, low), high + 1)
        while guess <= high and math.ldexp(float(top), guess - word_length) < max_abs:
            guess += 1
        if guess > high:
            raise FormatError(
                f"FixedPoint.for_range.max_abs: no integer_bits in {low}..{high} holds "
                f"{max_abs!r} with word_length={word_length}, signed={signed}"
            )
        return cls(word_length, guess, signed, rounding, overflow)


def quantize_fixed(
    x: torch.Tensor,
    word_length: int,
    integer_bits: int,
    signed: bool = True,
    rounding: str = "nearest_even",
    overflow: str = "saturate",
) -> torch.Tensor:
    """Round ``x`` to ``ap_fixed<word_length, integer_bits>`` and return the values as float32.

    Bit-true rules: ``q = round(x * 2**F)`` with ``F = W - I`` under the rounding mode, then
    ``q`` is saturated to the integer range or wrapped modulo ``2**W`` (two's complement),
    and the result is ``q * 2**-F``. NaN maps to 0 (hardware has no NaN); +-inf saturate to
    the max/min and wrap to 0 (like every float32 too large to have bits inside the word).
    Zero is always +0. Results are exact for ``W <= 24`` (every value is a float32); for
    wider words the integer arithmetic is still exact (float64) and only the final float32
    holds the value rounded to 24 significant bits.

    Args:
        x: Input tensor (float dtypes; converted to float32 first). Not modified.
        word_length: ``W``, 1..32.
        integer_bits: ``I`` including the sign bit, -64..64.
        signed: Two's-complement (True) or unsigned (False).
        rounding: ``"nearest_even"``, ``"nearest_up"`` or ``"truncate"``.
        overflow: ``"saturate"`` or ``"wrap"``.

    Returns:
        A new float32 tensor on ``x``'s device with the shape of ``x``.

    Raises:
        FormatError: for fields outside their allowed values.

    Example:
        >>> quantize_fixed(torch.tensor([0.3, 1.75]), 4, 1, overflow="wrap")
        tensor([ 0.2500, -0.2500])
    """
    return _quantize(x, FixedPoint(word_length, integer_bits, signed, rounding, overflow))


def _quantize(x: torch.Tensor, fmt: FixedPoint) -> torch.Tensor:
    if not (x.is_floating_point()):
        raise FormatError(f"FixedPoint.quantize.x: must be a floating tensor, got {x.dtype}")
    if _fast_path_exact(fmt):
        return for_each_block(x, _fast_body(fmt))
    return for_each_block(x, _exact_body(fmt), (torch.float64, torch.float64))


def _fast_path_exact(fmt: FixedPoint) -> bool:
    """Whether :func:`_fast_body` is bit-true for ``fmt``: the bound is on the stored integer.

    The float32 rounding trick is exact while ``|q| <= 2**22`` (see :func:`_fast_body`), and
    the clamp bounds ``q`` by the integer range: signed ``W <= 23`` and unsigned ``W <= 22``.
    """
    q_low, q_high = fmt._int_range
    return (
        fmt.rounding == "nearest_even"
        and fmt.overflow == "saturate"
        and max(-q_low, q_high) <= _FAST_MAX_INTEGER
    )


def _fast_body(fmt: FixedPoint) -> Callable[..., None]:
    """Four float32 ops per block for the common case (round half to even, saturate).

    Clamping before rounding equals clamping after (the bounds are grid points). Adding and
    subtracting ``1.5 * 2**(23-F)`` rounds to a multiple of the step with the FPU's own
    round-half-to-even: ``q + 1.5 * 2**23`` (``q = x * 2**F``) lies in ``[2**23, 2**24]``,
    where float32 values are the integers, only while ``|q| <= 2**22``; the clamp guarantees
    it for the formats :func:`_fast_path_exact` admits. The subtraction also turns -0 into +0.
    """
    low, high = fmt.min_value, fmt.max_value
    magic = math.ldexp(1.5, 23 - fmt.fraction_bits)

    def body(src: torch.Tensor, out: torch.Tensor) -> None:
        torch.nan_to_num(src, nan=0.0, posinf=high, neginf=low, out=out)
        out.clamp_(low, high).add_(magic).sub_(magic)

    return body


def _exact_body(fmt: FixedPoint) -> Callable[..., None]:
    """General path in float64: every step below is exact for float32 inputs and W <= 32."""
    scale = math.ldexp(1.0, fmt.fraction_bits)

    def body(src: torch.Tensor, out: torch.Tensor, q: torch.Tensor, tmp: torch.Tensor) -> None:
        q.copy_(src).mul_(scale)
        to_integers_(q, fmt, tmp)
        torch.mul(q, 1.0 / scale, out=q)
        out.copy_(q)

    return body


def to_integers_(
    scaled: torch.Tensor, fmt: FixedPoint, scratch: torch.Tensor | None = None
) -> torch.Tensor:
    """Turn ``x * 2**F`` into the stored integer ``q`` of ``fmt``, in place, in float64.

    Bit-true whenever ``scaled`` holds at most 52 significant bits per value, which covers
    float32 values and exact products of two float32 values (48 bits): the scaling by
    ``2**F`` was exact, rounding to an integer is exact (``nearest_up`` adds 0.5 before the
    floor, exact below 53 bits), and the wrap keeps a subset of the bits of ``q``. NaN becomes
    0, +-inf saturate or wrap to 0, and -0 becomes +0, as in :func:`quantize_fixed`. A float32
    tensor works the same for finite values below ``2**23`` (the accumulator uses both).

    Args:
        scaled: float64 tensor of ``x * 2**F``; overwritten with ``q``.
        fmt: The format (its word length, signedness, rounding and overflow are used).
        scratch: buffer shaped and typed like ``scaled`` (allocated when None); only the wrap
            mode uses it.

    Returns:
        ``scaled``, now holding integer-valued float64 in the format's integer range.

    Example:
        >>> to_integers_(torch.tensor([2.5, -7.0], dtype=torch.float64), FixedPoint(3, 3))
        tensor([ 2., -4.], dtype=torch.float64)
    """
    q = round_scaled_(scaled, fmt.rounding)
    q_low, q_high = fmt._int_range
    torch.nan_to_num(q, nan=0.0, posinf=_HUGE, neginf=-_HUGE, out=q)
    if fmt.overflow == "saturate":
        q.clamp_(q_low, q_high)
    else:
        tmp = torch.empty_like(q) if scratch is None else scratch
        modulus = float(1 << fmt.word_length)
        # q mod 2**W keeps a subset of q's bits, so both lines are exact.
        torch.mul(q, 1.0 / modulus, out=tmp).floor_()
        q.sub_(tmp.mul_(modulus))
        if fmt.signed:  # [0, 2**W) -> [-2**(W-1), 2**(W-1))
            torch.sub(q, modulus, out=tmp)
            torch.where(q > q_high, tmp, q, out=q)
    return q.add_(0.0)  # -0 -> +0: fixed point has a single zero


def round_scaled_(scaled: torch.Tensor, rounding: str) -> torch.Tensor:
    """Round float64 ``x * 2**F`` to an integer in place with a FixedPoint rounding mode.

    Only the quantization step of :func:`to_integers_` (no overflow, NaN and inf kept), under
    the same contract: exact for float64 values of at most 52 significant bits, and float32
    values below ``2**23``.

    Example:
        >>> round_scaled_(torch.tensor([2.5, -2.5], dtype=torch.float64), "nearest_up")
        tensor([ 3., -2.], dtype=torch.float64)
    """
    if rounding == "nearest_even":
        return scaled.round_()
    if rounding == "nearest_up":
        return scaled.add_(0.5).floor_()  # exact below 53 significant bits (see above)
    return scaled.floor_()
