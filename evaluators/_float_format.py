"""Bit-true custom floating-point format (``E`` exponent bits, ``M`` stored fraction bits).

IEEE-754 style: bias ``2**(E-1)-1``, the top exponent code reserved for inf/NaN, optional
subnormals. With ``(E, M)`` = (5, 10), (8, 7) and (5, 2) the results equal torch's float16,
bfloat16 and float8_e5m2 casts bit for bit, which the tests check on every exponent.

Rounding happens on the float32 input without a float64 detour, per cache-sized block:

* ``E <= 7``: every target value is a float32 normal, so the quantum of ``x`` (the distance
  between neighbouring target values around ``x``) is a power of two built from the exponent
  bits of ``x`` clamped to the subnormal floor; ``round(|x| / q) * q`` is then exact.
* ``E == 8``: target and float32 share exponent range and subnormal encoding, so rounding is
  integer arithmetic on the bit pattern (add half an ulp, mask), with carries running into the
  exponent as they should.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Literal

import torch

from evaluators._errors import FormatError
from evaluators._format_base import ElementFormat, _check_choice, _check_int, for_each_block

__all__ = ["FloatFormat", "quantize_float"]

FloatRounding = Literal["nearest_even", "truncate"]
FloatOverflow = Literal["inf", "saturate"]

_ROUNDINGS = ("nearest_even", "truncate")
_OVERFLOWS = ("inf", "saturate")
_F32_MANTISSA = 23
_F32_BIAS = 127
_EXP_MASK = 0x7F800000


@dataclass(frozen=True)
class FloatFormat(ElementFormat):
    """Custom floating-point format with ``1 + E + M`` bits.

    Values are ``(-1)**s * 2**(e - bias) * (1 + f / 2**M)`` for exponent codes
    ``1..2**E - 2``, subnormals ``2**(1 - bias) * f / 2**M`` for code 0 (when kept), and
    the top code for +-inf and NaN, with ``bias = 2**(E-1) - 1``.

    Semantics of :meth:`quantize`:

    * ``rounding="nearest_even"`` rounds to the nearest value, ties to the even significand
      (IEEE ``roundTiesToEven``); ``"truncate"`` rounds toward zero.
    * Rounding uses an unbounded exponent first; a result above :attr:`max_value` overflows:
      ``overflow="inf"`` gives +-inf (IEEE), ``"saturate"`` gives +-max_value. Truncation
      never overflows to inf: like IEEE ``roundTowardZero`` it stops at +-max_value, so
      ``overflow`` only matters with ``nearest_even``. Inputs that are already +-inf stay
      +-inf in every mode; NaN stays NaN.
    * ``subnormals=False`` emulates flush-to-zero hardware (``ap_float``, Xilinx FP cores):
      the input is rounded as if subnormals existed, and any result below
      :attr:`min_normal` becomes a zero of the input's sign. A value that rounds up to
      ``min_normal`` is kept.
    * Signed zeros are kept.

    Args:
        exponent_bits: ``E``, 2..8.
        mantissa_bits: ``M``, stored fraction bits, 0..23.
        subnormals: Keep subnormals (True) or flush them to zero (False).
        rounding: ``"nearest_even"`` or ``"truncate"``.
        overflow: ``"inf"`` or ``"saturate"``.

    Raises:
        FormatError: if a field is outside its allowed values.

    Example:
        >>> FloatFormat(5, 2).quantize(torch.tensor([0.3, 1e5, -1e-9]))
        tensor([0.3125,    inf, -0.0000])
    """

    exponent_bits: int
    mantissa_bits: int
    subnormals: bool = True
    rounding: FloatRounding = "nearest_even"
    overflow: FloatOverflow = "inf"
    kind: ClassVar[str] = "float"

    def __post_init__(self) -> None:
        _check_int("FloatFormat.exponent_bits", self.exponent_bits, 2, 8)
        _check_int("FloatFormat.mantissa_bits", self.mantissa_bits, 0, _F32_MANTISSA)
        if not isinstance(self.subnormals, bool):
            raise FormatError(
                f"FloatFormat.subnormals: must be True or False, got {self.subnormals!r}"
            )
        _check_choice("FloatFormat.rounding", self.rounding, _ROUNDINGS)
        _check_choice("FloatFormat.overflow", self.overflow, _OVERFLOWS)

    @property
    def bits(self) -> int:
        """Storage bits of one value: sign, exponent and fraction."""
        return 1 + self.exponent_bits + self.mantissa_bits

    @property
    def bias(self) -> int:
        """Exponent bias, ``2**(E-1) - 1``."""
        return (1 << (self.exponent_bits - 1)) - 1

    @property
    def max_value(self) -> float:
        """Largest finite value, ``(2 - 2**-M) * 2**bias``."""
        return math.ldexp(2.0 - math.ldexp(1.0, -self.mantissa_bits), self.bias)

    @property
    def min_normal(self) -> float:
        """Smallest positive normal value, ``2**(1 - bias)``."""
        return math.ldexp(1.0, 1 - self.bias)

    @property
    def min_subnormal(self) -> float:
        """Smallest positive value: ``2**(1 - bias - M)``, or ``min_normal`` when flushed."""
        if not self.subnormals:
            return self.min_normal
        return math.ldexp(1.0, 1 - self.bias - self.mantissa_bits)

    def quantize(self, x: torch.Tensor) -> torch.Tensor:
        """Round ``x`` to this format; returns a new float32 tensor (see class docstring)."""
        if not x.is_floating_point():
            raise FormatError(f"FloatFormat.quantize.x: must be a floating tensor, got {x.dtype}")
        if self.exponent_bits == 8:
            return for_each_block(x, _bit_pattern_body(self), (torch.float32,))
        return for_each_block(x, _quantum_body(self), (torch.int32, torch.float32))


def quantize_float(
    x: torch.Tensor,
    exponent_bits: int,
    mantissa_bits: int,
    subnormals: bool = True,
    rounding: str = "nearest_even",
    overflow: str = "inf",
) -> torch.Tensor:
    """Round ``x`` to a custom float format and return the values as float32.

    Shorthand for ``FloatFormat(...).quantize(x)``; the rules are in :class:`FloatFormat`.

    Args:
        x: Input tensor (float dtypes; converted to float32 first). Not modified.
        exponent_bits: ``E``, 2..8.
        mantissa_bits: ``M``, 0..23.
        subnormals: Keep subnormals or flush them to signed zero.
        rounding: ``"nearest_even"`` or ``"truncate"`` (toward zero).
        overflow: ``"inf"`` or ``"saturate"``.

    Returns:
        A new float32 tensor on ``x``'s device with the shape of ``x``.

    Raises:
        FormatError: for fields outside their allowed values.

    Example:
        >>> quantize_float(torch.tensor([1.0 + 2**-11]), 5, 10)  # a tie: to even
        tensor([1.])
    """
    fmt = FloatFormat(exponent_bits, mantissa_bits, subnormals, rounding, overflow)
    return fmt.quantize(x)


def _finish(fmt: FloatFormat, y: torch.Tensor, src: torch.Tensor) -> None:
    """Saturation and flush-to-zero on the rounded, signed ``y`` (in place).

    The default path (``overflow="inf"``, subnormals kept) needs neither: overflow to inf is
    produced by the rounding bodies themselves, because float-to-bool passes cost as much as
    the whole rounding on CPU.
    """
    if fmt.overflow == "saturate" or fmt.rounding == "truncate":
        y.clamp_(-fmt.max_value, fmt.max_value)
        torch.where(torch.isinf(src), src, y, out=y)  # inputs that are inf stay inf
    if not fmt.subnormals:
        y.mul_(y.abs() >= fmt.min_normal)  # keeps the sign of zero and NaN


def _quantum_body(fmt: FloatFormat) -> Callable[..., None]:
    """``E <= 7``: round ``x`` to a multiple of its power-of-two quantum, in float32.

    The exponent field of ``x`` read as a float is ``2**e``; clamped to
    ``[2**(1-bias), 2**(bias+1)]`` it gives the quantum ``2**(e' - M)`` and its inverse
    (exact powers of two, normal float32 for ``E <= 7``). The lower clamp is the subnormal
    floor; the upper one keeps huge inputs above ``max_value`` after rounding. Rounding is
    symmetric (half to even, or toward zero), so the sign and signed zeros come through.
    For ``overflow="inf"`` the product is taken with the quantum scaled by
    ``2**(127 - bias)``: exactly the results beyond ``max_value`` (all ``>= 2**(bias+1)``)
    overflow float32 to inf, the others are scaled back exactly.
    """
    m = fmt.mantissa_bits
    low, high = math.ldexp(1.0, 1 - fmt.bias), math.ldexp(1.0, fmt.bias + 1)
    inverse_bits = (2 * _F32_BIAS + m) << _F32_MANTISSA  # bits(2**(m-e)) = that - bits(2**e)
    headroom = _F32_BIAS - fmt.bias if fmt.overflow == "inf" else 0
    # With M == 0 the scaled quantum at the clamp ceiling is 2**128 = inf; the multiple it
    # meets there is >= 1, so the product is still the wanted inf.
    scale = math.ldexp(1.0, headroom - m) if headroom - m < 128 else math.inf
    round_ = torch.Tensor.round_ if fmt.rounding == "nearest_even" else torch.Tensor.trunc_

    def body(src: torch.Tensor, out: torch.Tensor, bits: torch.Tensor, q: torch.Tensor) -> None:
        torch.bitwise_and(src.view(torch.int32), _EXP_MASK, out=bits)
        power = bits.view(torch.float32).clamp_(low, high)
        torch.neg(bits, out=q.view(torch.int32)).add_(inverse_bits)  # 1 / quantum
        torch.mul(src, q, out=out)  # exact: a power of two with a normal result
        round_(out)
        out.mul_(power.mul_(scale))
        if headroom:
            out.mul_(math.ldexp(1.0, -headroom))
        _finish(fmt, out, src)

    return body


def _bit_pattern_body(fmt: FloatFormat) -> Callable[..., None]:
    """``E == 8``: round the float32 bit pattern at bit ``23 - M`` with integer arithmetic.

    Works on the signed pattern: two's-complement addition on the low bits is the same as
    on the magnitude, and rounding up past the largest finite pattern carries into the inf
    pattern, as IEEE wants. NaN patterns may carry anywhere; ``maximum`` with
    ``min(x, -inf)`` (-inf for numbers, NaN for NaN) restores NaN without a bool pass.
    """
    drop = _F32_MANTISSA - fmt.mantissa_bits
    keep_mask = ~((1 << drop) - 1)
    half_minus_one = (1 << (drop - 1)) - 1 if drop > 0 else 0
    nearest = fmt.rounding == "nearest_even"

    def body(src: torch.Tensor, out: torch.Tensor, scratch: torch.Tensor) -> None:
        bits = out.view(torch.int32)
        bits.copy_(src.view(torch.int32))
        if drop > 0:
            if nearest:  # + (half ulp - 1) + lsb: ties go to the even pattern
                lsb = torch.bitwise_right_shift(bits, drop, out=scratch.view(torch.int32))
                if fmt.mantissa_bits == 0:
                    # No fraction bit: a normal tie 1.5 * 2**e goes to 2**(e+1), the even
                    # multiple of the quantum 2**e, as on the E <= 7 path; below the
                    # normal range (exponent field 0) the tie goes to zero.
                    lsb.bitwise_and_(0xFF).clamp_(max=1)
                else:
                    lsb.bitwise_and_(1)
                bits.add_(lsb).add_(half_minus_one)
            bits.bitwise_and_(keep_mask)
        torch.maximum(out, torch.clamp(src, max=-math.inf, out=scratch), out=out)
        _finish(fmt, out, src)

    return body
