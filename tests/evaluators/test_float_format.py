"""Bit-true checks of FloatFormat: enumeration reference and torch's own casts."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from evaluators._errors import FormatError
from evaluators._float_format import FloatFormat, quantize_float


def grid(e: int, m: int) -> tuple[np.ndarray, float, float]:
    """Every non-negative value of the format with subnormals, then 2**(emax+1)."""
    bias = 2 ** (e - 1) - 1
    e_min = 1 - bias
    sub = np.arange(2**m) * 2.0 ** (e_min - m)
    normal = [(1 + f / 2**m) * 2.0**x for x in range(e_min, bias + 1) for f in range(2**m)]
    values = np.concatenate([sub, normal, [2.0 ** (bias + 1)]])
    return values, 2.0**e_min, 2.0 ** (e_min - m)


def reference(x: np.ndarray, e: int, m: int, subnormals: bool, rounding: str, overflow: str):
    """Pick the nearest enumerated value (ties: even multiple of the lower one's quantum)."""
    values, min_normal, q_sub = grid(e, m)
    max_value = values[-2]
    a = np.abs(x.astype(np.float64))
    finite = np.isfinite(a)
    a_f = np.where(finite, a, 0.0)
    idx = np.clip(np.searchsorted(values, a_f, side="right") - 1, 0, len(values) - 1)
    lower = values[idx]
    upper = values[np.minimum(idx + 1, len(values) - 1)]
    if rounding == "truncate":
        result = lower
    else:
        exponent = np.floor(np.log2(np.where(lower > 0, lower, 1.0)))
        quantum = np.where(lower >= min_normal, 2.0 ** (exponent - m), q_sub)
        upper_even = np.mod(np.round(upper / quantum), 2) == 0
        d_low, d_up = a_f - lower, upper - a_f
        take_up = (d_up < d_low) | ((d_up == d_low) & upper_even)
        take_up &= idx < len(values) - 1
        result = np.where(take_up, upper, lower)
    over = result > max_value
    to_inf = overflow == "inf" and rounding != "truncate"  # IEEE roundTowardZero saturates
    result = np.where(over, np.inf if to_inf else max_value, result)
    if not subnormals:
        result = np.where(result < min_normal, 0.0, result)
    result = np.where(np.isinf(a), np.inf, result)
    result = np.where(np.isnan(a), np.nan, result)
    return np.copysign(result, x.astype(np.float64)).astype(np.float32)


def inputs(e: int, m: int, rng: np.random.Generator) -> np.ndarray:
    values, _, q_sub = grid(e, m)
    mids = (values[1:] + values[:-1]) / 2
    tiny = np.float32(2.0**-149)
    parts = [
        values,
        mids,
        np.nextafter(mids.astype(np.float32), np.float32(np.inf)),
        np.nextafter(mids.astype(np.float32), np.float32(0)),
        np.exp2(rng.uniform(np.log2(q_sub) - 3, np.log2(values[-1]) + 3, 3000)),
        [0.0, np.inf, np.nan, tiny, 2 * tiny, 1e-30, 3e38, values[-1] * 64],
    ]
    with np.errstate(over="ignore"):  # E = 8: the grid's top reaches past float32
        pos = np.concatenate([np.asarray(p, dtype=np.float64) for p in parts]).astype(np.float32)
    return np.concatenate([pos, -pos])


FORMATS = [(e, m) for e in range(2, 6) for m in range(0, 5)] + [(6, 3), (7, 2), (8, 0), (8, 3)]


@pytest.mark.parametrize("overflow", ["inf", "saturate"])
@pytest.mark.parametrize("rounding", ["nearest_even", "truncate"])
@pytest.mark.parametrize("subnormals", [True, False])
def test_matches_enumeration(subnormals: bool, rounding: str, overflow: str) -> None:
    rng = np.random.default_rng(3)
    total = 0
    for e, m in FORMATS:
        x = inputs(e, m, rng)
        total += x.size
        got = quantize_float(torch.from_numpy(x), e, m, subnormals, rounding, overflow).numpy()
        want = reference(x, e, m, subnormals, rounding, overflow)
        same = (got.view(np.int32) == want.view(np.int32)) | (np.isnan(got) & np.isnan(want))
        bad = np.flatnonzero(~same)
        assert bad.size == 0, ((e, m), x[bad[:4]], got[bad[:4]], want[bad[:4]])
    assert total > 125_000  # x 8 parametrisations: > 1M inputs in all


def _random_patterns(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    bits = torch.randint(-(2**31), 2**31 - 1, (n,), generator=g, dtype=torch.int64)
    return bits.to(torch.int32).view(torch.float32)


@pytest.mark.parametrize(
    ("e", "m", "dtype"),
    [(5, 10, torch.float16), (8, 7, torch.bfloat16), (5, 2, torch.float8_e5m2)],
)
def test_equals_torch_casts(e: int, m: int, dtype: torch.dtype) -> None:
    every = torch.arange(2 ** (8 * dtype.itemsize), dtype=torch.int32)
    if dtype.itemsize == 1:
        codes = every.to(torch.uint8).view(dtype)
    else:
        codes = every.to(torch.int16).view(dtype)
    table = codes.float()
    table = table[torch.isfinite(table)].unique()
    mids = ((table[1:].double() + table[:-1].double()) / 2).float()  # exact ties
    drop = 23 - m
    patterns = _random_patterns(600_000, e * 100 + m)
    tie_bits = (patterns.view(torch.int32) & ~((1 << drop) - 1)) | (1 << (drop - 1))
    x = torch.cat(
        [
            patterns,
            tie_bits.view(torch.float32),
            table,
            mids,
            torch.nextafter(mids, torch.full_like(mids, math.inf)),
        ]
    )
    x = torch.cat([x, torch.tensor([0.0, -0.0, math.inf, -math.inf, 3e38, -3e38, 1e-45])])
    got = quantize_float(x, e, m)
    want = x.to(dtype).float()
    nan = torch.isnan(want)
    assert torch.equal(torch.isnan(got), nan)
    assert torch.equal(got.view(torch.int32)[~nan], want.view(torch.int32)[~nan])


def test_semantics_examples() -> None:
    f = FloatFormat(5, 2, overflow="saturate")
    x = torch.tensor([1e6, -1e6, math.inf, -math.inf, math.nan, -0.0])
    y = f.quantize(x)
    assert y[:4].tolist() == [57344.0, -57344.0, math.inf, -math.inf]
    assert math.isnan(y[4]) and torch.signbit(y[5])
    flushed = FloatFormat(5, 2, subnormals=False).quantize(torch.tensor([-(2.0**-15), 2.0**-14]))
    assert flushed.tolist() == [0.0, 2.0**-14] and torch.signbit(flushed[0])
    t = FloatFormat(4, 3, rounding="truncate").quantize(torch.tensor([1.99, -1.99]))
    assert t.tolist() == [1.875, -1.875]


def test_properties() -> None:
    f = FloatFormat(4, 3)
    assert (f.bits, f.bias, f.max_value, f.min_normal, f.min_subnormal) == (
        8,
        7,
        240.0,
        2.0**-6,
        2.0**-9,
    )
    assert f.storage_bits((2, 5)) == 80
    assert FloatFormat(5, 10).max_value == 65504.0


def test_quantize_is_pure_and_keeps_dtype() -> None:
    x = torch.randn(300_000) * 100
    before = x.clone()
    for fmt in (FloatFormat(4, 3), FloatFormat(8, 3, rounding="truncate")):
        a, b = fmt.quantize(x), fmt.quantize(x)
        assert torch.equal(x, before) and torch.equal(a, b)
        assert a.dtype == torch.float32 and a.shape == x.shape
    assert quantize_float(torch.randn(3, 4, dtype=torch.float64), 4, 3).dtype == torch.float32


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"exponent_bits": 1, "mantissa_bits": 2}, "exponent_bits"),
        ({"exponent_bits": 9, "mantissa_bits": 2}, "exponent_bits"),
        ({"exponent_bits": 4, "mantissa_bits": 24}, "mantissa_bits"),
        ({"exponent_bits": 4, "mantissa_bits": 3, "subnormals": "yes"}, "subnormals"),
        ({"exponent_bits": 4, "mantissa_bits": 3, "rounding": "nearest_up"}, "rounding"),
        ({"exponent_bits": 4, "mantissa_bits": 3, "overflow": "wrap"}, "overflow"),
    ],
)
def test_validation(kwargs: dict, field: str) -> None:
    with pytest.raises(FormatError, match=f"FloatFormat.{field}:.*got"):
        FloatFormat(**kwargs)


def test_value_semantics_and_round_trip() -> None:
    a = FloatFormat(4, 3, False, "truncate", "saturate")
    assert a == FloatFormat(4, 3, False, "truncate", "saturate") and a != FloatFormat(4, 3)
    assert hash(a) == hash(FloatFormat(4, 3, False, "truncate", "saturate"))
    d = json.loads(json.dumps(a.to_dict()))
    assert d["kind"] == "float" and FloatFormat.from_dict(d) == a
    with pytest.raises(FormatError, match="version"):
        FloatFormat.from_dict({**d, "version": 2})
