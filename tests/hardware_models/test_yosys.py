"""Real Yosys runs: operator synthesis counts and bit-true behaviour of the generated Verilog."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest

from hardware_models._errors import HardwareModelError
from hardware_models._verilog import (
    VerilogModule,
    accumulator,
    codebook_lookup,
    comparator,
    fixed_adder,
    fixed_multiplier,
    float_adder,
    float_multiplier,
    maximum,
    relu,
)
from hardware_models._yosys import SynthesisError, evaluate, synthesize

# --- exact Python reference of the custom float format (see hardware_models/_verilog.py) ----


def decode(bits: int, e: int, m: int) -> Fraction:
    """Value of a custom float: implicit one, bias 2**(e-1)-1, exponent field 0 reads as 0."""
    sign = bits >> (e + m) & 1
    exponent = bits >> m & (2**e - 1)
    if exponent == 0:
        return Fraction(0)
    scale = Fraction(2) ** (exponent - 2 ** (e - 1) + 1)
    value = Fraction(2**m + (bits & (2**m - 1)), 2**m) * scale
    return -value if sign else value


def encode(value: Fraction, e: int, m: int, rounding: str) -> int:
    """Round an exact value into the format: RNE or truncation, flush to +0, saturate."""
    if value == 0:
        return 0
    sign = int(value < 0)
    magnitude = abs(value)
    x = magnitude.numerator.bit_length() - magnitude.denominator.bit_length()
    while Fraction(2) ** x > magnitude:
        x -= 1
    while Fraction(2) ** (x + 1) <= magnitude:
        x += 1
    scaled = magnitude / Fraction(2) ** (x - m)
    q = scaled.numerator // scaled.denominator
    rest = scaled - q
    half = Fraction(1, 2)
    if rounding == "nearest_even" and (rest > half or (rest == half and q % 2)):
        q += 1
    if q == 2 ** (m + 1):
        q //= 2
        x += 1
    biased = x + 2 ** (e - 1) - 1
    if biased < 1:
        return 0
    if biased > 2**e - 1:
        return sign << (e + m) | (2 ** (e + m) - 1)
    return sign << (e + m) | biased << m | (q - 2**m)


def _float_vectors(e: int, m: int, count: int, seed: int) -> list[dict[str, int]]:
    rng = random.Random(seed)
    n = 1 + e + m
    one = (2 ** (e - 1) - 1) << m
    vectors = [
        {"a": one, "b": one},  # 1 + 1, 1 * 1
        {"a": one | 1 << (n - 1), "b": one},  # -1 + 1 = +0
        {"a": 2 ** (n - 1) - 1, "b": 2 ** (n - 1) - 1},  # max + max saturates, max * max too
        {"a": 1 << m, "b": 1 << m},  # min normal: the product underflows to 0
        {"a": 0, "b": one},
    ]
    exponent_mask = (2**e - 1) << m
    for _ in range(count):
        a, b = rng.randrange(2**n), rng.randrange(2**n)
        if rng.random() < 0.4:  # equal exponents: cancellation and carries
            b = (b & ~exponent_mask) | (a & exponent_mask)
        vectors.append({"a": a, "b": b})
    return vectors


@pytest.mark.parametrize("rounding", ["nearest_even", "truncate"])
@pytest.mark.parametrize("e, m", [(5, 2), (4, 3), (5, 10), (8, 23), (2, 1)])
@pytest.mark.parametrize("operation", ["add", "mul"])
def test_float_operator_matches_exact_reference(
    operation: str, e: int, m: int, rounding: str
) -> None:
    generator = float_adder if operation == "add" else float_multiplier
    vectors = _float_vectors(e, m, count=120, seed=e * 100 + m)
    outputs = evaluate(generator(e, m, rounding=rounding), vectors)
    for vector, output in zip(vectors, outputs, strict=True):
        x, y = decode(vector["a"], e, m), decode(vector["b"], e, m)
        exact = x + y if operation == "add" else x * y
        assert output["y"] == encode(exact, e, m, rounding), (vector, output)


def test_float_known_values_e4m3() -> None:
    # E4M3, bias 7: 1.5 = 0 0111 100, 2.25 = 0 1000 001; 1.5 * 1.5 = 2.25; 1.5 + 1.5 = 3.
    a = 0b0_0111_100
    assert evaluate(float_multiplier(4, 3), [{"a": a, "b": a}]) == [{"y": 0b0_1000_001}]
    assert evaluate(float_adder(4, 3), [{"a": a, "b": a}]) == [{"y": 0b0_1000_100}]


@pytest.mark.parametrize(
    "module, inputs, expected",
    [
        (fixed_multiplier(8, 8), {"a": -3, "b": 7}, {"y": (-21) % 2**16}),
        (fixed_adder(8), {"a": -128, "b": -128}, {"y": (-256) % 2**9}),
        (accumulator(8, 16), {"acc": 1000, "x": -5}, {"y": 995}),
        (comparator(8), {"a": -1, "b": -2}, {"y": 1}),
        (relu(8), {"a": -5}, {"y": 0}),
        (relu(8), {"a": 5}, {"y": 5}),
        (maximum(8), {"a": -7, "b": 3}, {"y": 3}),
        (codebook_lookup(4, 8), {"codebook": 0x44332211, "index": 2}, {"y": 0x33}),
    ],
)
def test_fixed_operators_evaluate(
    module: VerilogModule, inputs: dict[str, int], expected: dict[str, int]
) -> None:
    assert evaluate(module, [inputs]) == [expected]


def test_adder_lut_count_equals_width_on_7series() -> None:
    # A W-bit ripple adder is W LUT2s (propagate) feeding ceil((W + 1) / 4) CARRY4 cells.
    for width in (4, 5, 8, 12, 16, 24, 32):
        result = synthesize(fixed_adder(width), "7series")
        assert (result.lut, result.ff, result.dsp) == (width, 0, 0)
        assert result.carry == math.ceil((width + 1) / 4)


def test_multiplier_8x8_dsp_and_lut_forms() -> None:
    dsp = synthesize(fixed_multiplier(8, 8), "7series")
    fabric = synthesize(fixed_multiplier(8, 8), "7series", dsp_inference=False)
    assert (dsp.dsp, dsp.lut) == (1, 0)
    assert dict(dsp.cells) == {"DSP48E1": 1}
    assert fabric.dsp == 0
    assert 60 <= fabric.lut <= 200
    ultra = synthesize(fixed_multiplier(8, 8), "ultrascale_plus")
    assert dict(ultra.cells) == {"DSP48E2": 1}


def test_registered_form_adds_only_flip_flops() -> None:
    # The sweep synthesizes registered operators; their LUTs equal the combinational ones.
    for module, registered in [
        (fixed_adder(8), fixed_adder(8, registered=True)),
        (fixed_multiplier(6, 6), fixed_multiplier(6, 6, registered=True)),
    ]:
        comb = synthesize(module, "7series", dsp_inference=False)
        reg = synthesize(registered, "7series", dsp_inference=False)
        assert reg.lut == comb.lut
        port_bits = sum(w for _, w in module.inputs) + sum(w for _, w in module.outputs)
        assert (comb.ff, reg.ff) == (0, port_bits)


def test_synthesis_error_carries_the_log_tail() -> None:
    source = "module broken(input a, output y);\n assign y = ;\nendmodule\n"
    broken = VerilogModule("broken", source, (("a", 1),), (("y", 1),))
    with pytest.raises(SynthesisError, match="broken") as info:
        synthesize(broken, "7series")
    assert isinstance(info.value, HardwareModelError)
    assert "syntax error" in str(info.value).lower() or "error" in str(info.value).lower()


def test_unknown_family_and_bad_inputs() -> None:
    with pytest.raises(SynthesisError, match="ultrascale_plus"):
        synthesize(fixed_adder(4), "virtex2")
    with pytest.raises(ValueError, match="misses inputs"):
        evaluate(fixed_adder(4), [{"a": 1}])
    with pytest.raises(ValueError, match="registered"):
        evaluate(fixed_adder(4, registered=True), [{"a": 1, "b": 1}])
    with pytest.raises(ValueError, match="rounding"):
        float_adder(5, 2, rounding="stochastic")
    with pytest.raises(ValueError, match="width_a"):
        fixed_multiplier(0, 8)
