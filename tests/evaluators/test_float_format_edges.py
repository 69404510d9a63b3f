"""FloatFormat at the edges of both kernels, against exact Python-integer rounding.

Issue 11 class 6 asked whether the float kernels share the fixed-point fast path's flaw (a
float32 trick used past its bound). They do not use one; this pins every exponent width,
short and long mantissas (M = 23 included) and all modes at the boundaries where a bound
would show: the largest values, the normal/subnormal border, ties, and the overflow edge.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from evaluators._float_format import FloatFormat


def integer_reference(value: float, fmt: FloatFormat) -> float:
    """Round one float32 value to ``fmt`` with Python integers (see FloatFormat's rules)."""
    if math.isnan(value) or math.isinf(value) or value == 0:
        return value
    magnitude = abs(value)
    exponent = math.frexp(magnitude)[1] - 1  # magnitude in [2**e, 2**(e+1))
    quantum = max(exponent, 1 - fmt.bias) - fmt.mantissa_bits  # log2 of the local step
    num, den = magnitude.as_integer_ratio()
    num, den = (num << -quantum, den) if quantum <= 0 else (num, den << quantum)
    q, rem = divmod(num, den)
    if fmt.rounding == "nearest_even":
        q += 2 * rem > den or (2 * rem == den and q % 2 == 1)
    result = math.ldexp(q, quantum)
    if result > fmt.max_value:
        to_inf = fmt.overflow == "inf" and fmt.rounding == "nearest_even"
        result = math.inf if to_inf else fmt.max_value
    if not fmt.subnormals and result < fmt.min_normal:
        result = 0.0
    return math.copysign(result, value)


def edge_inputs(fmt: FloatFormat) -> np.ndarray:
    """Values on, between and next to the grid at the exponents where the kernels branch."""
    m, bias = fmt.mantissa_bits, fmt.bias
    points = []
    for e in sorted({1 - bias, 2 - bias, -1, 0, bias - 1, bias, -bias - m}):
        step = math.ldexp(1.0, max(e, 1 - bias) - m)
        for k in (0, 1, 2, 3, 2**m - 1, 2**m, 2 ** (m + 1) - 1):
            points += [math.ldexp(1.0, e) + (k + o) * step for o in (0, 0.25, 0.5, 0.75)]
    top, top_step = fmt.max_value, math.ldexp(1.0, bias - m)
    points += [top + top_step * f for f in (0.25, 0.5, 0.75, 1.0)]
    points += [2 * top, 3.4e38, 2.0**-149, 2.0**-126, fmt.min_subnormal / 2]
    points += [fmt.min_subnormal * 1.5, fmt.min_normal * (1 - 2.0**-24)]
    with np.errstate(over="ignore"):
        x = np.asarray(points, dtype=np.float64).astype(np.float32)
        x = x[np.isfinite(x)]
        x = np.concatenate([x, np.nextafter(x, np.float32(np.inf)), np.nextafter(x, 0)])
    return np.concatenate([x, -x, [np.inf, -np.inf, np.nan, 0.0, -0.0]]).astype(np.float32)


@pytest.mark.parametrize("exponent_bits", range(2, 9))
def test_both_kernels_match_integer_rounding_at_the_edges(exponent_bits: int) -> None:
    modes = itertools.product([True, False], ["nearest_even", "truncate"], ["inf", "saturate"])
    for (subnormals, rounding, overflow), m in itertools.product(modes, (0, 1, 2, 7, 10, 22, 23)):
        fmt = FloatFormat(exponent_bits, m, subnormals, rounding, overflow)
        x = edge_inputs(fmt)
        got = fmt.quantize(torch.from_numpy(x)).numpy()
        with np.errstate(over="ignore"):
            want = np.array([integer_reference(v, fmt) for v in x.tolist()]).astype(np.float32)
        same = (got.view(np.int32) == want.view(np.int32)) | (np.isnan(got) & np.isnan(want))
        bad = np.flatnonzero(~same)
        assert bad.size == 0, (fmt, x[bad[:4]], got[bad[:4]], want[bad[:4]])
