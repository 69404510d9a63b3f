"""Accumulators against a plain emulation of hls4ml's Latency kernels in Python integers.

The reference below is written from ``nnet_dense_latency.h`` / ``nnet_conv2d_latency.h``:
``acc = (accum_t) bias``, then for each input ``i`` of the im2col row (``(kh, kw, c)``,
channels innermost) ``acc += (accum_t)(x_i * w_i)``; every cast and every sum uses the
accumulator's quantization and overflow modes. It shares no code with dse's kernels.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import evaluators._accumulator as accumulator_module
import evaluators._product_sums as product_sums_module
from evaluators import (
    Configuration,
    EvaluationError,
    FixedPoint,
    LayerConfig,
    QuantizedOutput,
    accumulate,
    apply,
)

# ---- reference -------------------------------------------------------------------------


def overflow(q: int, fmt: FixedPoint) -> int:
    w = fmt.word_length
    low, high = (-(1 << (w - 1)), (1 << (w - 1)) - 1) if fmt.signed else (0, (1 << w) - 1)
    if fmt.overflow == "saturate":
        return min(max(q, low), high)
    q %= 1 << w
    return q - (1 << w) if fmt.signed and q > high else q


def cast(num: int, den: int, fmt: FixedPoint) -> int:
    """``(accum_t)(num / den)`` for a power-of-two ``den``: the stored integer."""
    f = fmt.fraction_bits
    num, den = (num << f, den) if f >= 0 else (num, den << -f)
    q, rem = divmod(num, den)
    if fmt.rounding == "nearest_up":
        q += 2 * rem >= den
    elif fmt.rounding == "nearest_even":
        q += 2 * rem > den or (2 * rem == den and q % 2 == 1)
    return overflow(q, fmt)


def dense_reference(data: list, weights: list, bias: list | None, fmt: FixedPoint) -> list:
    """``dense_latency``: ``weights[j][i]`` for output ``j``, input ``i``."""
    out = []
    for j, row in enumerate(weights):
        acc = cast(*float(0.0 if bias is None else bias[j]).as_integer_ratio(), fmt)
        for x, w in zip(data, row, strict=True):
            (nx, dx), (nw, dw) = float(x).as_integer_ratio(), float(w).as_integer_ratio()
            acc = overflow(acc + cast(nx * nw, dx * dw, fmt), fmt)
        out.append(math.ldexp(acc, -fmt.fraction_bits))
    return out


def conv_reference(x: np.ndarray, layer: nn.Module, fmt: FixedPoint) -> np.ndarray:
    """``conv_2d_latency_cl`` on one zero-padded sample ``x`` of shape (C, H, W)."""
    w = layer.weight.detach().double().numpy()
    if w.ndim == 3:  # Conv1d as a Conv2d of height 1
        w, x = w[:, :, None, :], x[:, None, :]
    (sh, sw), (dh, dw) = [(1, *v) if len(v) == 1 else v for v in (layer.stride, layer.dilation)]
    bias = None if layer.bias is None else layer.bias.detach().double().numpy()
    out_ch, per_group, kh, kw = w.shape
    groups = layer.groups
    og = out_ch // groups
    oh = (x.shape[1] - dh * (kh - 1) - 1) // sh + 1
    ow = (x.shape[2] - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((out_ch, oh, ow))
    for g in range(groups):
        taps = [(a, b, c) for a in range(kh) for b in range(kw) for c in range(per_group)]
        rows = [[w[g * og + f, c, a, b] for a, b, c in taps] for f in range(og)]
        b_g = None if bias is None else bias[g * og : (g + 1) * og]
        for i in range(oh):
            for j in range(ow):
                data = [x[g * per_group + c, i * sh + a * dh, j * sw + b * dw] for a, b, c in taps]
                out[g * og : (g + 1) * og, i, j] = dense_reference(data, rows, b_g, fmt)
    return out if layer.weight.dim() == 4 else out[:, 0, :]


def reference(layer: nn.Module, x: torch.Tensor, fmt: FixedPoint) -> np.ndarray:
    if isinstance(layer, nn.Linear):
        w = layer.weight.detach().double().numpy().tolist()
        b = None if layer.bias is None else layer.bias.detach().double().numpy().tolist()
        return np.array([dense_reference(row, w, b, fmt) for row in x.double().numpy().tolist()])
    pads = []
    for i in reversed(range(len(layer.kernel_size))):
        pads += [layer.padding[i]] * 2
    mode = "constant" if layer.padding_mode == "zeros" else layer.padding_mode
    padded = F.pad(x, pads, mode=mode).double().numpy()  # padding is not under test here
    return np.stack([conv_reference(sample, layer, fmt) for sample in padded])


# ---- the issue's examples -----------------------------------------------------------------


def test_issue_example_small_linear() -> None:
    """4 products of -1/128 truncated to an 8-bit, 6-fraction-bit accumulator each."""
    layer = nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        layer.weight.fill_(FixedPoint(8, 1).quantize(torch.tensor(0.5)).item())
    acc = FixedPoint(8, 2, rounding="truncate", overflow="wrap")
    x = torch.full((1, 4), -1 / 64)
    model = apply(nn.Sequential(layer), Configuration.of({"0": LayerConfig(accumulator=acc)}))
    assert model(x).item() == -0.0625  # hls4ml
    assert dense_reference([-1 / 64] * 4, [[0.5] * 4], None, acc) == [-0.0625]
    assert acc.quantize(layer(x)).item() == -0.03125  # the old single cast of the float sum


def issue_fan_in_400() -> tuple[nn.Linear, torch.Tensor]:
    """Inputs on ap_fixed<8,3>, weights on ap_fixed<8,0>: every product has 12 fraction bits."""
    i = torch.arange(400, dtype=torch.float64)
    x = ((79 * i) % 97 - 48) / 32
    w = ((46 * i + 60) % 127 - 63) / 256
    layer = nn.Linear(400, 1, bias=False)
    with torch.no_grad():
        layer.weight.copy_(w.unsqueeze(0))
    return layer, x.float().unsqueeze(0)


def test_issue_example_fan_in_400() -> None:
    layer, x = issue_fan_in_400()
    acc = FixedPoint(12, 5, rounding="truncate", overflow="wrap")  # ap_fixed<12,5>
    exact = float((x.double() * layer.weight.detach().double()).sum())
    assert exact == -0.3975830078125 and round(exact, 4) == -0.3976
    assert accumulate(layer, x, acc).item() == -1.8125  # hls4ml: 400 truncated products
    data, weights = x[0].tolist(), layer.weight.detach().tolist()
    assert dense_reference(data, weights, None, acc) == [-1.8125]
    assert acc.quantize(torch.tensor(exact)).item() == -0.3984375  # the old result (-0.398)


def test_saturation_follows_the_latency_order_of_inputs() -> None:
    """Products 3, 3, -3 into [-4, 3.875]: 3 -> 3.875 (saturated) -> 0.875, not 3."""
    layer = nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 1.0, -1.0]]))
    acc = FixedPoint(6, 3, rounding="truncate", overflow="saturate")
    assert accumulate(layer, torch.tensor([[3.0, 3.0, 3.0]]), acc).item() == 0.875
    assert accumulate(layer, torch.tensor([[3.0, -3.0, -3.0]]), acc).item() == 3.0  # 3, -3, 3


def test_saturation_adds_kernel_positions_outside_channels() -> None:
    """hls4ml's im2col row is (kw, c), channels innermost; torch's order (c, kw) gives 3."""
    layer = nn.Conv1d(2, 1, 2, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[[1.0, -1.0], [1.0, 0.0]]]))  # (out, c, kw)
    x = torch.full((1, 2, 2), 3.0)  # products: (kw0, c0)=3, (kw0, c1)=3, (kw1, c0)=-3, 0
    acc = FixedPoint(6, 3, rounding="truncate", overflow="saturate")
    assert accumulate(layer, x, acc).item() == 0.875
    assert conv_reference(x[0].double().numpy(), layer, acc).item() == 0.875


def test_bias_is_cast_to_the_accumulator_first() -> None:
    layer = nn.Linear(1, 1)
    with torch.no_grad():
        layer.weight.fill_(0.0)
        layer.bias.fill_(-0.3)
    acc = FixedPoint(8, 2, rounding="truncate", overflow="wrap")  # step 1/64
    assert accumulate(layer, torch.zeros(1, 1), acc).item() == -20 / 64  # floor(-19.2)


# ---- every layer kind against the reference ----------------------------------------------


def make_layer(kind: str, bias: bool, seed: int) -> tuple[nn.Module, torch.Tensor]:
    torch.manual_seed(seed)
    layers = {
        "linear": (nn.Linear(12, 5, bias=bias), (3, 12)),
        "conv1d": (nn.Conv1d(3, 4, 3, stride=2, padding=1, bias=bias), (2, 3, 9)),
        "conv2d": (nn.Conv2d(3, 4, 3, padding=1, bias=bias), (2, 3, 5, 6)),
        "strided": (
            nn.Conv2d(2, 3, (2, 3), stride=(2, 1), dilation=(1, 2), bias=bias),
            (2, 2, 6, 7),
        ),
        "grouped": (nn.Conv2d(4, 6, 3, groups=2, padding=1, bias=bias), (2, 4, 4, 5)),
        "depthwise": (nn.Conv2d(3, 3, 3, groups=3, bias=bias), (2, 3, 5, 5)),
        "reflect": (
            nn.Conv2d(2, 2, 3, padding=1, padding_mode="reflect", bias=bias),
            (1, 2, 4, 4),
        ),
    }
    layer, shape = layers[kind]
    with torch.no_grad():
        layer.weight.copy_(FixedPoint(7, 1).quantize(layer.weight * 4))
        if layer.bias is not None:
            layer.bias.copy_(layer.bias * 3)  # float32 biases, off every short grid
    return layer, torch.randn(shape) * 2


KINDS = ["linear", "conv1d", "conv2d", "strided", "grouped", "depthwise", "reflect"]
FORMATS = [
    FixedPoint(9, 3, rounding="truncate", overflow="wrap"),
    FixedPoint(7, 2, rounding="nearest_even", overflow="saturate"),
    FixedPoint(8, 3, rounding="nearest_up", overflow="saturate"),
    FixedPoint(10, 4, signed=False, rounding="truncate", overflow="wrap"),
    FixedPoint(6, 4, signed=False, rounding="nearest_even", overflow="saturate"),
]


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", KINDS)
def test_products_off_the_grid_match_the_reference(kind: str, bias: bool, fmt: FixedPoint) -> None:
    layer, x = make_layer(kind, bias, seed=KINDS.index(kind))
    got = accumulate(layer, x, fmt)
    assert got.dtype == torch.float64 and got.shape == layer(x).shape
    np.testing.assert_array_equal(got.numpy(), reference(layer, x, fmt))


@pytest.mark.parametrize("overflow_mode", ["wrap", "saturate"])
@pytest.mark.parametrize("kind", KINDS)
def test_products_on_the_grid_take_the_exact_sum(kind: str, overflow_mode: str) -> None:
    """Inputs on 2**-4 and weights on 2**-6 fit an accumulator with 10 fraction bits."""
    layer, x = make_layer(kind, True, seed=10 + KINDS.index(kind))
    x = FixedPoint(8, 4).quantize(x)
    wide = FixedPoint(24, 14, rounding="truncate", overflow=overflow_mode)  # never overflows
    narrow = FixedPoint(13, 3, rounding="truncate", overflow=overflow_mode)  # overflows
    coarse = FixedPoint(10, 3, rounding="truncate", overflow=overflow_mode)  # truncates
    lowered = accumulator_module.LoweredLayer.of(layer)  # which path runs
    padded = (x if kind == "linear" else lowered._pad(x)).double()  # noqa: SLF001
    peak, q_bias = float(padded.abs().max()), torch.zeros(lowered.weight.shape[:2]).flatten()

    def adds_exactly(fmt: FixedPoint) -> bool | None:
        grid = accumulator_module._InputGrid(padded, peak)  # noqa: SLF001
        return lowered._adds_exactly(grid, 0.0, fmt)  # noqa: SLF001

    assert adds_exactly(wide) is True
    # with wrap only the final sum can tell (the exact sum, wrapped); saturation needs the
    # slow path
    assert adds_exactly(narrow) is (None if overflow_mode == "wrap" else False)
    # coarse truncates every product: the slow path, in float32 (8-bit x 7-bit products)
    assert adds_exactly(coarse) is False
    assert lowered._single_is_exact(padded, peak, q_bias, coarse)  # noqa: SLF001
    wide_input = padded + 2**-20  # 24-bit inputs need float64
    assert not lowered._single_is_exact(wide_input, peak, q_bias, coarse)  # noqa: SLF001
    for fmt in (wide, narrow, coarse):
        np.testing.assert_array_equal(accumulate(layer, x, fmt).numpy(), reference(layer, x, fmt))


def test_fast_and_slow_paths_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    layer, x = make_layer("conv2d", True, seed=3)
    x = FixedPoint(8, 4).quantize(x * 3)
    fmt = FixedPoint(12, 5, rounding="truncate", overflow="wrap")  # wraps, on the grid
    fast = accumulate(layer, x, fmt)
    monkeypatch.setattr(accumulator_module.LoweredLayer, "_adds_exactly", lambda *a: False)
    assert torch.equal(accumulate(layer, x, fmt), fast)


@pytest.mark.parametrize("kind", [*KINDS, "wide"])
def test_float32_exact_sum(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """On CPU the exact sum is taken in float32 when every partial sum is below 2**24 product
    steps, and equals the float64 sum bit for bit ("wide": sums above 2**21 steps, where a
    rounding algorithm such as Winograd or a float32 sum of unaligned values would differ)."""
    if kind == "wide":
        torch.manual_seed(5)
        layer = nn.Linear(4096, 8, bias=False)
        layer.weight.data = FixedPoint(10, 1).quantize(torch.rand(8, 4096) * 0.98)  # 2**-9
        x = FixedPoint(4, 2).quantize(torch.rand(16, 4096) * 1.9)  # 2**-2, positive
    else:
        layer, x = make_layer(kind, False, seed=21 + KINDS.index(kind))
        x = FixedPoint(10, 2).quantize(x)  # inputs on 2**-8, weights on 2**-5
    lowered = accumulator_module.LoweredLayer.of(layer)  # which path runs
    padded = (x if kind in ("linear", "wide") else lowered._pad(x)).double()  # noqa: SLF001
    peak = float(padded.abs().max())
    grid = accumulator_module._InputGrid  # noqa: SLF001
    assert lowered._sum_fits_single(grid(padded, peak))  # noqa: SLF001
    off_grid = padded + 2**-30  # not on any grid float32 sums hold: float64 only
    assert not lowered._sum_fits_single(grid(off_grid, peak))  # noqa: SLF001
    fmt = FixedPoint(32, 16, rounding="truncate", overflow="wrap")  # keeps every product bit
    single = accumulate(layer, x, fmt)
    monkeypatch.setattr(accumulator_module.LoweredLayer, "_sum_fits_single", lambda *a: False)
    assert torch.equal(single, accumulate(layer, x, fmt))
    if kind == "wide":
        assert float((x.double() @ layer.weight.double().T).max()) > 2**21 * 2**-11


@pytest.mark.parametrize("products", [30, 300, 5000])  # channel slices, fan-in inner, not
def test_batches_larger_than_a_chunk(monkeypatch: pytest.MonkeyPatch, products: int) -> None:
    monkeypatch.setattr(accumulator_module, "_CHUNK_ELEMENTS", 2000)
    monkeypatch.setattr(product_sums_module, "_BLOCK_PRODUCTS", products)
    monkeypatch.setattr(product_sums_module, "_REPLAY", 50)
    for kind in ("grouped", "linear", "conv1d"):
        layer, x = make_layer(kind, True, seed=4)
        for overflow_mode in ("wrap", "saturate"):
            fmt = FixedPoint(8, 3, rounding="nearest_even", overflow=overflow_mode)
            want = reference(layer, x, fmt)
            np.testing.assert_array_equal(accumulate(layer, x, fmt).numpy(), want)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_input_shapes_torch_accepts() -> None:
    fmt = FixedPoint(10, 4, rounding="truncate", overflow="wrap")
    linear, _ = make_layer("linear", True, seed=5)
    x = torch.randn(2, 3, 12)
    assert torch.equal(accumulate(linear, x, fmt)[1], accumulate(linear, x[1], fmt))
    conv, x = make_layer("conv2d", False, seed=5)
    assert torch.equal(accumulate(conv, x[0], fmt), accumulate(conv, x[:1], fmt)[0])
    same = nn.Conv1d(2, 2, 4, padding="same", bias=False)
    valid = nn.Conv1d(2, 2, 4, bias=False)
    valid.weight = same.weight
    z = torch.randn(1, 2, 7)
    assert accumulate(same, z, fmt).shape == same(z).shape
    # torch pads "same" with the odd zero on the right
    assert torch.equal(accumulate(same, z, fmt), accumulate(valid, F.pad(z, (1, 2)), fmt))


def test_rejects_other_layers() -> None:
    with pytest.raises(EvaluationError, match="Linear, Conv1d or Conv2d, got ReLU"):
        accumulate(nn.ReLU(), torch.zeros(1), FixedPoint(8, 2))


def test_activation_cast_reads_the_exact_accumulator() -> None:
    """2 + 2**-6 + 2**-26 needs 28 bits: through float32 it becomes a tie and rounds down."""
    layer = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        layer.weight.fill_(1.0)
    x = torch.tensor([[2 + 2**-6, 2**-26]])
    acc, act = FixedPoint(32, 4, overflow="wrap"), FixedPoint(8, 3)
    assert QuantizedOutput(layer, act, acc)(x).item() == 2.03125
    assert act.quantize(accumulate(layer, x, acc).float()).item() == 2.0  # double rounding


def boundary_biases(layer: nn.Module) -> None:
    """Biases on the 1/32 grid plus offsets that put float32 sums on, or a hair off, rounding
    boundaries: 0, +-2**-22 (kept by a 22-fraction-bit accumulator, lost in a float32 sum of
    the products' size), +-2**-40 (below it: cast away), half a 1/32 step."""
    offsets = [0.0, 2**-22, -(2**-22), 2**-40, -(2**-40), 1 / 64]
    count = layer.bias.numel()
    steps = torch.arange(count, dtype=torch.float64) % 7 - 3
    with torch.no_grad():
        layer.bias.copy_(steps / 32 + torch.tensor([offsets[i % 6] for i in range(count)]))


@pytest.mark.parametrize("act_overflow", ["saturate", "wrap"], ids=["saturate", "wrap"])
@pytest.mark.parametrize("rounding", ["truncate", "nearest_even", "nearest_up"])
@pytest.mark.parametrize("kind", KINDS)
def test_output_cast_of_the_exact_accumulator(kind: str, rounding: str, act_overflow: str) -> None:
    """QuantizedOutput against the Python-integer reference, cast with Python integers: with
    an accumulator that neither rounds nor overflows (its sum taken at once, in float32, and
    the boundary outputs settled in float64), one that rounds every product (hls4ml's order
    replayed), and none (products and the float32 bias summed exactly)."""
    layer, x = make_layer(kind, True, seed=40 + KINDS.index(kind))
    boundary_biases(layer)
    x = FixedPoint(6, 4).quantize(x)  # inputs on 2**-2, weights on 2**-6: products on 2**-8
    act = FixedPoint(10, 5, rounding=rounding, overflow=act_overflow)  # step 1/32
    if act_overflow == "wrap":
        act = FixedPoint(7, 2, rounding=rounding, overflow="wrap")  # wraps some outputs
    wide = FixedPoint(32, 10, rounding="truncate", overflow="wrap")  # F = 22: exact here
    coarse = FixedPoint(14, 7, rounding="nearest_even", overflow="saturate")  # F = 7
    lowered = accumulator_module.LoweredLayer.of(layer)  # which path runs
    products, _ = lowered.terms(x, wide)
    assert products.dtype == torch.float32  # the float32 path, on CPU
    assert lowered.terms(x, coarse) is None  # products off its grid: the replay
    wrapping = FixedPoint(11, 3, rounding="truncate", overflow="wrap")  # F = 8, sums wrap
    wrapped, no_bias = lowered.terms(x, wrapping)
    assert wrapped.dtype == torch.float64 and no_bias is None  # wrapped from the exact sum
    for accumulator in (wide, coarse, wrapping, None):
        got = QuantizedOutput(layer, act, accumulator)(x).double().numpy().ravel()
        if accumulator is None:
            exact = [Fraction(v) for v in lowered.terms(x, None)[0].double().numpy().ravel()]
            bias = layer.bias.detach().double().numpy()
            per = exact and len(exact) // len(x) // len(bias)  # outputs per channel
            if isinstance(layer, nn.Linear):
                exact = [e + Fraction(bias[i % len(bias)]) for i, e in enumerate(exact)]
            else:
                exact = [e + Fraction(bias[(i // per) % len(bias)]) for i, e in enumerate(exact)]
        else:
            exact = [Fraction(v) for v in reference(layer, x, accumulator).ravel()]
        want = [
            math.ldexp(cast(e.numerator, e.denominator, act), -act.fraction_bits) for e in exact
        ]
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kind", KINDS)
def test_accumulator_read_as_float32(kind: str) -> None:
    """Without fixed-point activations the accumulator's value is read as float32: the exact
    sum (float32 or float64 terms, or wrapped) rounds once, as the replayed sum does."""
    layer, x = make_layer(kind, True, seed=60 + KINDS.index(kind))
    boundary_biases(layer)
    on_grid = FixedPoint(6, 4).quantize(x)  # products on 2**-8: float32 terms
    fine = on_grid * 2**-6 + 2**-20  # inputs on 2**-20: the products need float64
    cases = [
        (on_grid, FixedPoint(32, 6, rounding="truncate", overflow="wrap")),  # 26 fraction bits
        (fine, FixedPoint(32, 6, rounding="truncate", overflow="saturate")),  # on 2**-26: exact
        (on_grid, FixedPoint(11, 3, rounding="truncate", overflow="wrap")),  # the sum wraps
        (on_grid, FixedPoint(14, 7, rounding="nearest_even", overflow="saturate")),  # replay
    ]
    lowered = accumulator_module.LoweredLayer.of(layer)
    assert lowered.terms(fine, cases[1][1])[0].dtype == torch.float64
    for inputs, accumulator in cases:
        want = torch.from_numpy(reference(layer, inputs, accumulator)).to(torch.float32)
        got = QuantizedOutput(layer, None, accumulator)(inputs)
        assert got.dtype == torch.float32
        assert torch.equal(got, want.reshape(got.shape))


def test_accumulator_read_as_float32_rounds_once() -> None:
    """Products 1 + 2**-24 (float64: 2**25 steps of 2**-24 do not fit float32) and a bias of
    2**-29: the exact sum lies just above float32's midpoint 1 + 2**-24 and rounds up to
    1 + 2**-23; rounding the products to float32 first gives the tie, to even: 1."""
    layer = nn.Linear(2, 1)
    with torch.no_grad():
        layer.weight.fill_(2**-6)
        layer.bias.fill_(2**-29)
    accumulator = FixedPoint(32, 3, rounding="truncate", overflow="wrap")  # on 2**-29
    x = torch.tensor([[64.0, 2.0**-18]])
    products, bias = accumulator_module.LoweredLayer.of(layer).terms(x, accumulator)
    assert products.dtype == torch.float64 and products.item() == 1 + 2**-24
    assert QuantizedOutput(layer, None, accumulator)(x).item() == 1 + 2**-23


def test_a_sum_just_off_a_half_step_below_zero_is_no_tie() -> None:
    """-2**-6 + 1.5 * 2**-60 lies just above -half a step (2**-5): it rounds to 0. Its float64
    form scaled by 2**5 is -0.5 + 2**-54, whose distance to its floor rounds to 0.5."""
    layer = nn.Linear(1, 1)
    with torch.no_grad():
        layer.weight.fill_(1.0)
        layer.bias.fill_(1.5 * 2**-60)
    for rounding in ("nearest_even", "nearest_up"):
        act = FixedPoint(8, 3, rounding=rounding)
        assert QuantizedOutput(layer, act, None)(torch.tensor([[-(2**-6)]])).item() == 0.0


def test_empty_and_unbatched_inputs() -> None:
    torch.manual_seed(3)
    act = FixedPoint(8, 3)
    for accumulator in (None, FixedPoint(24, 12, rounding="truncate", overflow="wrap")):
        linear = QuantizedOutput(nn.Linear(3, 4), act, accumulator)
        assert linear(torch.empty(0, 3)).shape == (0, 4)
        conv = nn.Conv2d(2, 3, 3, padding=1, padding_mode="replicate")
        with torch.no_grad():
            conv.bias.copy_(torch.tensor([0.5, -0.25, 0.125]))  # one per channel
        wrapped = QuantizedOutput(conv, act, accumulator)
        x = FixedPoint(8, 3).quantize(torch.randn(2, 2, 5, 6))
        assert wrapped(x[:0]).shape == (0, 3, 5, 6)
        assert torch.equal(wrapped(x[1]), wrapped(x)[1])  # the bias along channels
