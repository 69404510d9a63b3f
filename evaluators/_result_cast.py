"""Casting a layer's exact sum to its result type (``res_T``), bit-true.

A layer's output is the sum of two exact terms: the sum of its products (float32 where every
product and partial sum is a float32 value, else float64) and its bias (the layer's float32
bias, or that bias cast to the accumulator). Their float sum may round; the cast must see the
exact one. Knuth's TwoSum gives the rounding error of the float sum exactly, and a rounded sum
can only differ from the exact one in its cast where it lands on a rounding boundary of the
result type (a grid point for ``truncate``, a half step for the nearest modes): a boundary
between the exact sum and its rounding would be a float closer to the exact sum than the
rounding, if the boundary is a float itself. There the error's sign says on which side the
exact sum lies.

In float32 the boundaries are floats while ``|x * 2**F| < 2**22`` (``F >= 0``); beyond, a
format of at most 22 bits saturates whatever the rounding. So :func:`cast_sum` casts the
float32 sum with the format's own kernel and redoes in float64 only the outputs that land on
a boundary (few), instead of every output in float64.
"""

from __future__ import annotations

import math

import torch

from evaluators._fixed_point import FixedPoint, to_integers_

__all__ = ["cast_exact", "cast_sum"]

_SINGLE_BOUNDARIES = 22  # |x * 2**F| below 2**22: every rounding boundary is a float32
_SINGLE_SATURATES = 22  # a saturating word of at most 22 bits: past 2**21 steps, saturated
_SLICE = 1 << 18  # outputs cast at once on CPU: 1 MiB of float32, in L2 with the temporaries


def cast_exact(values: torch.Tensor, fmt: FixedPoint) -> torch.Tensor:
    """``(res_T) values``: exact float64 values cast to ``fmt``, returned as float32."""
    scale = math.ldexp(1.0, fmt.fraction_bits)
    return to_integers_(values * scale, fmt).mul_(1.0 / scale).to(torch.float32)


def cast_sum(products: torch.Tensor, bias: torch.Tensor | None, fmt: FixedPoint) -> torch.Tensor:
    """``(res_T)(products + bias)``, the exact sum of two exact terms cast to ``fmt``.

    Args:
        products: Exact sums of products, float32 or float64, any shape.
        bias: Values broadcasting against ``products`` (float32 or float64), or None.
        fmt: The result type.

    Returns:
        A new float32 tensor shaped like ``products``: what a design whose accumulator holds
        both terms exactly outputs. Exact, except for a wrapping format whose step is more
        than 2**52 times finer than the bias: float64 then drops low bits the wrap keeps.

    The float32 path (both terms float32, ``F >= 0``) needs every rounding boundary it may
    meet to be a float32: a saturating format of at most 22 bits, or sums below ``2**21``
    steps (checked on the data); otherwise, and for float64 terms, the sum is cast in float64.

    Example:
        >>> fmt = FixedPoint(8, 4, rounding="truncate")  # step 1/16
        >>> cast_sum(torch.tensor([0.5]), torch.tensor([-1e-30]), fmt)  # just below 0.5
        tensor([0.4375])
    """
    cpu = products.device.type == "cpu"
    if bias is not None and cpu and 0 < bias.dim() < products.dim() and len(products) > 0:
        per = max(1, _SLICE // max(1, products[0].numel()))  # samples per slice
        if per < len(products):  # slices whose intermediates stay in cache
            out = torch.empty(products.shape, dtype=torch.float32)
            for start in range(0, len(products), per):
                out[start : start + per] = _cast_sum(products[start : start + per], bias, fmt)
            return out
    return _cast_sum(products, bias, fmt)


def _cast_sum(products: torch.Tensor, bias: torch.Tensor | None, fmt: FixedPoint) -> torch.Tensor:
    if bias is None:
        if products.dtype == torch.float32:
            return fmt.quantize(products)  # the format's kernel is bit-true on float32
        return cast_exact(products, fmt)
    if products.dtype == bias.dtype == torch.float32 and fmt.fraction_bits >= 0:
        total = products + bias
        if _boundaries_are_single(total, fmt):
            out = fmt.quantize(total)
            edge = _on_boundary(total, out, fmt)
            if bool(edge.any()):
                near = bias.expand_as(products)[edge]
                out[edge] = _cast_two_sum(products[edge].double(), near.double(), fmt)
            return out
    return _cast_two_sum(products.double(), bias.double(), fmt)


def _boundaries_are_single(total: torch.Tensor, fmt: FixedPoint) -> bool:
    """Whether every rounding boundary the float32 ``total`` may cross is a float32 value."""
    if fmt.overflow == "saturate" and fmt.word_length <= _SINGLE_SATURATES:
        return True
    peak = float(total.abs().max()) if total.numel() else 0.0  # NaN: False
    return peak * math.ldexp(1.0, fmt.fraction_bits + 1) < math.ldexp(1.0, _SINGLE_BOUNDARIES)


def _on_boundary(total: torch.Tensor, cast: torch.Tensor, fmt: FixedPoint) -> torch.Tensor:
    """Where the float32 ``total`` is a rounding boundary of ``fmt``, ``cast`` its cast.

    Saturating: a grid point is its own cast (``truncate``), a tie lies half a step from its
    cast (the nearest modes); past the range both may also flag saturated outputs, which
    saturate whatever the rounding. Wrapping: read from ``total`` itself. Exact float32 ops.
    """
    if fmt.overflow == "saturate":
        if fmt.rounding == "truncate":
            return cast == total
        return torch.sub(total, cast).abs_() == 0.5 * fmt.step
    scaled = total * math.ldexp(1.0, fmt.fraction_bits)
    floor = scaled.floor()
    if fmt.rounding == "truncate":
        return scaled == floor
    return scaled == floor.add_(0.5)  # exact; a difference rounds just below -0.5


def _cast_two_sum(products: torch.Tensor, bias: torch.Tensor, fmt: FixedPoint) -> torch.Tensor:
    """:func:`cast_sum` in float64: the sum's rounding error by TwoSum settles boundaries."""
    total = products + bias
    back = total - products
    error = (products - (total - back)) + (bias - back)  # total + error == products + bias
    scale = math.ldexp(1.0, fmt.fraction_bits)
    scaled = total.mul_(scale)
    if fmt.rounding == "truncate":
        below = (scaled == scaled.floor()) & (error < 0)
        scaled = torch.where(below, scaled - 0.5, scaled)
    else:
        tie = scaled == scaled.floor() + 0.5  # exact (scaled - floor rounds near -0.5)
        scaled = torch.where(tie, scaled + 0.25 * torch.sign(error), scaled)
    return to_integers_(scaled, fmt).mul_(1.0 / scale).to(torch.float32)
