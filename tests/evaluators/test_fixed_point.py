"""Bit-true checks of FixedPoint against an independent integer reference."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from evaluators._errors import FormatError
from evaluators._fixed_point import FixedPoint, _fast_path_exact, quantize_fixed, to_integers_

ROUNDINGS = ("nearest_even", "nearest_up", "truncate")
OVERFLOWS = ("saturate", "wrap")


def reference(x: np.ndarray, w: int, i: int, signed: bool, rounding: str, overflow: str):
    """Scale by 2**F, round with integer rules, clamp or wrap with Python ints."""
    f = w - i
    out = []
    for value in x.astype(np.float64).tolist():
        if math.isnan(value):
            out.append(0.0)
            continue
        if math.isinf(value):
            q = None
        else:
            scaled = value * 2.0**f  # exact: power-of-two scaling of a float32
            low = math.floor(scaled)
            frac = scaled - low
            if rounding == "truncate":
                q = low
            elif rounding == "nearest_up":
                q = low + (1 if frac >= 0.5 else 0)
            else:
                q = low + (1 if frac > 0.5 or (frac == 0.5 and low % 2 == 1) else 0)
        q_min, q_max = (-(1 << (w - 1)), (1 << (w - 1)) - 1) if signed else (0, (1 << w) - 1)
        if overflow == "saturate":
            if q is None:
                q = q_max if value > 0 else q_min
            q = min(max(q, q_min), q_max)
        else:
            q = 0 if q is None else q % (1 << w)
            if signed and q > q_max:
                q -= 1 << w
        out.append(q * 2.0**-f)
    return np.array(out)


def edge_inputs(fmt: FixedPoint, rng: np.random.Generator) -> np.ndarray:
    step, lo, hi = fmt.step, fmt.min_value, fmt.max_value
    span = max(hi - lo, step)
    grid = np.arange(-40, 41) * step
    ties = (np.arange(-40, 40) + 0.5) * step
    edges = [
        lo,
        hi,
        hi + step / 2,
        hi + step,
        lo - step / 2,
        lo - step,
        lo + step / 2,
        hi - step / 2,
        0.0,
        -0.0,
        step / 2,
        -step / 2,
        step / 4,
        -step / 4,
        1e-30,
        -1e-30,
        hi * 4 + 3 * step,
        lo * 4 - 3 * step,
    ]
    near = np.concatenate([ties + step / 1024, ties - step / 1024])
    random = rng.uniform(lo - 2 * span, hi + 2 * span, 600)
    wide = rng.normal(size=200) * 2.0 ** rng.integers(-20, 20, 200)
    values = np.concatenate([grid, ties, near, edges, random, wide, -random])
    return values.astype(np.float32)


@pytest.mark.parametrize("signed", [True, False])
@pytest.mark.parametrize("overflow", OVERFLOWS)
@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_matches_integer_reference(rounding: str, overflow: str, signed: bool) -> None:
    rng = np.random.default_rng(1)
    for w in range(1, 17):
        for i in sorted({-3, 0, 1, w // 2, w, w + 3}):
            fmt = FixedPoint(w, i, signed, rounding, overflow)
            x = edge_inputs(fmt, rng)
            got = fmt.quantize(torch.from_numpy(x)).numpy().astype(np.float64)
            want = reference(x, w, i, signed, rounding, overflow)
            bad = np.flatnonzero(got != want)
            assert bad.size == 0, (fmt, x[bad[:5]], got[bad[:5]], want[bad[:5]])
            assert not np.signbit(got[got == 0]).any(), "fixed point has no -0"


@pytest.mark.parametrize("overflow", OVERFLOWS)
@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_wide_words_and_specials(rounding: str, overflow: str) -> None:
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.normal(size=300) * 1e3, [np.nan, np.inf, -np.inf, 3e38, -3e38]])
    x = x.astype(np.float32)
    for w, i in [(20, 4), (24, 10), (32, 16), (32, -8)]:
        got = quantize_fixed(torch.from_numpy(x), w, i, True, rounding, overflow).numpy()
        want = reference(x, w, i, True, rounding, overflow).astype(np.float32)
        np.testing.assert_array_equal(got, want)


def integer_reference(value: float, fmt: FixedPoint) -> float:
    """Exact ``ap_fixed`` cast of one finite float with Python integers (no float rounding)."""
    num, den = float(value).as_integer_ratio()  # value == num / den, den a power of two
    f = fmt.fraction_bits
    num, den = (num << f, den) if f >= 0 else (num, den << -f)  # q_exact = num / den
    low, rem = divmod(num, den)  # floor, and the remainder in [0, den)
    if fmt.rounding == "nearest_up":
        low += 2 * rem >= den
    elif fmt.rounding == "nearest_even":
        low += 2 * rem > den or (2 * rem == den and low % 2 == 1)
    q_min, q_max = fmt._int_range  # noqa: SLF001 - the format's own documented bounds
    if fmt.overflow == "saturate":
        q = min(max(low, q_min), q_max)
    else:
        q = low % (1 << fmt.word_length)
        q -= (1 << fmt.word_length) if fmt.signed and q > q_max else 0
    return float(np.float32(math.ldexp(q, -f)))  # the kernel returns float32


def path_edges(fmt: FixedPoint) -> np.ndarray:
    """Inputs around every integer bound of ``fmt`` (and of the float32 trick), as float32."""
    q_min, q_max = fmt._int_range  # noqa: SLF001
    ints = {q_min, q_max, 0, 1, -1, 1 << 22, -(1 << 22), 1 << 23, 5_000_001}
    qs = [q + d for q in ints for d in (-2, -1, 0, 1, 2)]
    offsets = (0.0, 0.5, -0.5, 0.25, -0.25, 0.5 + 2**-10, 0.5 - 2**-10)
    scaled = [q + o for q in qs for o in offsets] + [2.0 * q_max + 3, 1e9, -1e9, 1e30, -1e30]
    values = np.array([math.ldexp(v, -fmt.fraction_bits) for v in scaled])
    return np.unique(values.astype(np.float32))


@pytest.mark.parametrize("signed", [True, False])
@pytest.mark.parametrize("overflow", OVERFLOWS)
@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_every_width_at_the_path_edges(rounding: str, overflow: str, signed: bool) -> None:
    """W 1..32, I from negative to above W: both kernels against Python-integer arithmetic."""
    for w in range(1, 33):
        for i in sorted({-5, 0, 1, w // 2, w - 1, w, w + 1, w + 4}):
            fmt = FixedPoint(w, i, signed, rounding, overflow)
            x = path_edges(fmt)
            got = fmt.quantize(torch.from_numpy(x)).numpy().astype(np.float64)
            want = np.array([integer_reference(v, fmt) for v in x.tolist()])
            bad = np.flatnonzero(got != want)
            assert bad.size == 0, (fmt, _fast_path_exact(fmt), x[bad[:4]], got[bad[:4]])


def test_fast_path_is_chosen_from_the_integer_bound() -> None:
    """Issue 11 class 6: unsigned W = 23 has q up to 2**23 - 1, past the float32 trick."""
    u23 = FixedPoint(23, 23, signed=False)
    x = torch.tensor([8388607.0, 1e9, 5000001.0, 8388606.5, 8388605.5])
    assert u23.quantize(x).tolist() == [8388607.0, 8388607.0, 5000001.0, 8388606.0, 8388606.0]
    assert not _fast_path_exact(u23)
    assert _fast_path_exact(FixedPoint(22, 22, signed=False))
    assert _fast_path_exact(FixedPoint(23, 0))
    assert not _fast_path_exact(FixedPoint(24, 0))
    assert not _fast_path_exact(FixedPoint(8, 2, rounding="truncate"))


@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_float64_integers_of_exact_products(rounding: str) -> None:
    """The float64 step the accumulator uses: exact on 48-bit products of float32 values."""
    rng = np.random.default_rng(7)
    a = rng.normal(size=2000).astype(np.float32)
    b = rng.normal(size=2000).astype(np.float32) * np.float32(2.0**-7)
    products = a.astype(np.float64) * b.astype(np.float64)  # exact: 24 + 24 bits
    for fmt in (FixedPoint(12, 5, True, rounding, "wrap"), FixedPoint(9, 0, False, rounding)):
        got = to_integers_(torch.from_numpy(products * 2.0**fmt.fraction_bits), fmt)
        want = [
            integer_reference(float(p), fmt) * 2.0**fmt.fraction_bits for p in products.tolist()
        ]
        # the reference rounds to float32 at the end; these words are short enough to be exact
        assert got.tolist() == want


def test_known_values() -> None:
    x = torch.tensor([0.1, 5.0, -9.0, 0.15625, float("nan")])
    assert FixedPoint(8, 3).quantize(x).tolist() == [0.09375, 3.96875, -4.0, 0.15625, 0.0]
    assert quantize_fixed(torch.tensor([1.75]), 4, 1, overflow="wrap").item() == -0.25
    assert quantize_fixed(torch.tensor([-0.5, 0.5]), 4, 4, rounding="nearest_up").tolist() == [
        0.0,
        1.0,
    ]
    # signed W=1 holds {-1, 0} steps; unsigned W=1 holds {0, 1} steps
    assert FixedPoint(1, 1).quantize(torch.tensor([-3.0, 0.4, 3.0])).tolist() == [-1.0, 0.0, 0.0]
    assert FixedPoint(1, 1, signed=False).quantize(torch.tensor([-3.0, 3.0])).tolist() == [0, 1]


def test_properties() -> None:
    fmt = FixedPoint(8, 3)
    assert (fmt.bits, fmt.step, fmt.min_value, fmt.max_value) == (8, 1 / 32, -4.0, 127 / 32)
    assert fmt.storage_bits((3, 4)) == 96
    u = FixedPoint(4, -2, signed=False)
    assert (u.step, u.min_value, u.max_value) == (2.0**-6, 0.0, 15 * 2.0**-6)


@pytest.mark.parametrize("max_abs", [0.001, 0.3, 1.0, 3.2, 3.96875, 4.0, 100.0])
@pytest.mark.parametrize("signed", [True, False])
def test_for_range_is_tight(max_abs: float, signed: bool) -> None:
    fmt = FixedPoint.for_range(max_abs, 8, signed, rounding="truncate")
    assert fmt.max_value >= max_abs
    assert FixedPoint(8, fmt.integer_bits - 1, signed).max_value < max_abs
    assert fmt.rounding == "truncate"


def test_quantize_is_pure_and_keeps_dtype() -> None:
    x = torch.randn(1000, dtype=torch.float32) * 10
    before = x.clone()
    fmt = FixedPoint(12, 5, rounding="nearest_up", overflow="wrap")
    a, b = fmt.quantize(x), fmt.quantize(x)
    assert torch.equal(x, before)
    assert torch.equal(a, b)
    assert a.dtype == torch.float32 and a.shape == x.shape
    # blocks: a tensor larger than one block gives the same as its pieces
    big = torch.randn(600_000)
    y = FixedPoint(8, 2).quantize(big)
    assert torch.equal(y[:10], FixedPoint(8, 2).quantize(big[:10]))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"word_length": 0, "integer_bits": 0}, "word_length"),
        ({"word_length": 33, "integer_bits": 0}, "word_length"),
        ({"word_length": 8.0, "integer_bits": 0}, "word_length"),
        ({"word_length": 8, "integer_bits": 65}, "integer_bits"),
        ({"word_length": 8, "integer_bits": 2, "signed": 1}, "signed"),
        ({"word_length": 8, "integer_bits": 2, "rounding": "up"}, "rounding"),
        ({"word_length": 8, "integer_bits": 2, "overflow": "clip"}, "overflow"),
    ],
)
def test_validation(kwargs: dict, field: str) -> None:
    with pytest.raises(FormatError, match=f"FixedPoint.{field}:.*got"):
        FixedPoint(**kwargs)


def test_value_semantics_and_round_trip() -> None:
    a, b = FixedPoint(8, 3, False, "truncate", "wrap"), FixedPoint(8, 3, False, "truncate", "wrap")
    assert a == b and hash(a) == hash(b) and a != FixedPoint(8, 3)
    d = json.loads(json.dumps(a.to_dict()))
    assert d["kind"] == "fixed" and d["version"] == 1
    assert FixedPoint.from_dict(d) == a
    with pytest.raises(FormatError, match="kind"):
        FixedPoint.from_dict({**d, "kind": "float"})
    with pytest.raises(FormatError, match="unknown fields"):
        FixedPoint.from_dict({**d, "bogus": 1})
    with pytest.raises(FormatError, match="max_abs"):
        FixedPoint.for_range(0.0, 8)
