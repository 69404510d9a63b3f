"""hls4ml's rules (reuse factor, multipliers, weight placement) and real designs as facts."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from evaluators import LayerShape, layer_shapes
from evaluators._blocks import Add
from hardware_models import (
    AcceleratorModel,
    DesignRow,
    HardwareModelError,
    Hls4mlCoefficients,
    closest_reuse_factor,
    get_device,
    price_rows,
    read_design_rows,
    reuse_factor,
    valid_reuse_factors,
)
from hardware_models._hls4ml import LayerWidths, index_table_bram, plan_layer, weight_rom_bram

DENSE2 = Path(__file__).resolve().parents[3] / "shared" / "hls4ml_designs" / "dense2_sample.csv"
WIDTHS16 = LayerWidths(16, 8, 8, 16, 16, dsp=True)


def _dense(n_in: int, n_out: int) -> LayerShape:
    return LayerShape("fc", "linear", (n_out, n_in), (n_in,), (n_out,), n_in * n_out)


def _plan(n_in: int, n_out: int, rf: int, strategy: str = "resource", **kw: object):
    return plan_layer(
        _dense(n_in, n_out),
        kw.pop("widths", WIDTHS16),  # type: ignore[arg-type]
        requested_reuse=rf,
        strategy=strategy,
        io_type="io_parallel",
        activation=False,
        lutram_max_depth=64,
        bram_min_multipliers=9,
    )


# -- the reuse factor hls4ml uses -------------------------------------------------------------


def test_valid_reuse_factors_follow_hls4ml() -> None:
    # n_in 4, n_out 8: R < 4 needs ceil(32 / R) % 8 == 0 (R = 1, 2; not 3: 32 % 3 != 0);
    # R >= 4 needs R % 4 == 0 and 32 % R == 0.
    assert valid_reuse_factors(4, 8) == (1, 2, 4, 8, 16, 32)
    # Dense 104 -> 128 (wa-hls4ml): above n_in only multiples of 104 dividing 13,312.
    assert valid_reuse_factors(104, 128)[-8:] == (104, 208, 416, 832, 1664, 3328, 6656, 13312)


@pytest.mark.parametrize(
    ("n_in", "n_out", "requested", "used"),
    [
        (104, 128, 1024, 832),  # 832 is 192 away, 1664 is 640 away
        (128, 64, 1024, 1024),  # valid as requested
        (104, 128, 2047, 1664),
        (128, 64, 3070, 2048),  # 2048 (1022 away) beats 4096 (1026 away)
        (48, 104, 1024, 1248),  # 1248 (224 away) beats 624 (400 away)
        (8, 128, 4093, 1024),  # above the largest valid one: the largest
    ],
)
def test_resource_strategy_moves_the_reuse_factor(
    n_in: int, n_out: int, requested: int, used: int
) -> None:
    assert reuse_factor(n_in, n_out, requested, strategy="resource") == used


def test_ties_go_to_the_smaller_and_latency_keeps_the_request() -> None:
    assert closest_reuse_factor((2, 4), 3) == 2
    assert reuse_factor(104, 128, 1000, strategy="latency") == 1000
    assert reuse_factor(4, 8, 1000, strategy="latency") == 32  # clipped to n_in n_out
    with pytest.raises(HardwareModelError, match="strategy"):
        reuse_factor(4, 8, 2, strategy="fast")
    with pytest.raises(HardwareModelError, match="reuse_factor"):
        reuse_factor(4, 8, 0)


# -- multipliers, multiplexers and where the weights live ------------------------------------


def test_weight_placement_by_hls4ml_rules() -> None:
    # 104 x 128 at R 832: 16 multipliers, a ROM of 832 words x 16 weights -> block RAM.
    wide = _plan(104, 128, 1024)
    assert (wide.reuse, wide.multipliers, wide.weight_placement) == (832, 16, "bram")
    assert wide.weight_width == 16 * 8
    # At R 1664: 8 multipliers, narrower than 9 weights per word -> a ROM in LUTs.
    narrow = _plan(104, 128, 2047)
    assert (narrow.multipliers, narrow.weight_placement) == (8, "lut_rom")
    assert narrow.features["rom_lut_bits"] == 104 * 128 * 8
    # outidx table: 1664 words of log2(1664 / 104) = 4 bits, 6,656 bits -> half a BRAM_18K.
    assert narrow.features["index_bram"] == 0.5
    assert _plan(104, 128, 4093).features["index_bram"] == 1.0  # 3328 words: 2 x 0.5
    # Up to 64 words: LUT RAM; one word: constants.
    assert _plan(16, 8, 16).weight_placement == "lutram"
    assert _plan(16, 8, 1).weight_placement == "constants"
    assert _plan(16, 8, 1, strategy="latency").features["multipliers"] == 0


def _widths(bits: int) -> LayerWidths:
    return LayerWidths(16, bits, bits, 16, 16, dsp=bits >= 8)


def test_weight_rom_blocks_counted_from_the_word() -> None:
    # Half a BRAM_18K per pair of weights a word and per bit plane (W - 2 planes when wide).
    assert weight_rom_bram(16, 8, wide=True) == 8 * 0.5 * 6 == 24.0
    assert weight_rom_bram(13, 6, wide=True) == 7 * 0.5 * 4 == 14.0  # 13 weights: 7 pairs
    assert weight_rom_bram(9, 2, wide=True) == weight_rom_bram(9, 4, wide=True) == 5.0
    assert weight_rom_bram(5, 2, wide=False) == 3 * 0.5 == 1.5  # one plane
    wide = _plan(104, 128, 1024, widths=_widths(8))  # 832 words x 16 weights of 8 bits
    assert (wide.weight_placement, wide.features["weight_bram"]) == ("bram", 24.0)
    # 16-bit weights: the wide ROM is built in LUTs (wa-hls4ml reports).
    sixteen = _plan(104, 128, 1024, widths=_widths(16))
    assert (sixteen.weight_placement, sixteen.features["weight_bram"]) == ("lut_rom", 0.0)
    assert sixteen.features["rom_lut_bits"] == 104 * 128 * 16
    # 2-bit weights go to block RAM from two a word; 4-bit ones of 8 a word stay in LUTs.
    two = _plan(104, 128, 2047, widths=_widths(2))  # 1664 words x 8 weights
    assert (two.weight_placement, two.features["weight_bram"]) == ("bram", 2.0)
    assert _plan(104, 128, 2047, widths=_widths(4)).weight_placement == "lut_rom"
    assert _plan(8, 16, 1024, widths=_widths(2)).weight_placement == "lut_rom"  # 1 a word


def test_index_table_blocks() -> None:
    # R words of ceil(log2(R / n_in)) bits: nothing under 1 Kb, half a block per 2,048
    # words, half a block more past 4,096 words of 7 bits or more.
    assert index_table_bram(128, 16) == 0.0  # 128 x 4 = 512 bits
    assert index_table_bram(256, 8) == 0.0  # 256 x 3 = 768 bits
    assert index_table_bram(448, 8) == 0.5  # 1,344 bits
    assert index_table_bram(2048, 128) == 0.5
    assert index_table_bram(2112, 44) == 1.0
    assert index_table_bram(5376, 56) == 1.5  # 6 bits
    assert index_table_bram(5376, 112) == 2.0  # 7 bits
    assert index_table_bram(4096, 128) == 1.0


def test_multiplexers_of_both_resource_kernels() -> None:
    # R <= n_in (dense_resource_rf_leq_nin): 16 x 8 at R 4 -> 32 multipliers, each reading
    # data[ir + 4 k] through a 4:1 multiplexer of 16 bits; multipliers with the same k share
    # it: 16 / 4 = 4 distinct multiplexers, 4 x 3 x 16 2:1-multiplexer bits.
    leq = _plan(16, 8, 4)
    assert leq.multipliers == 32
    assert leq.features["mux_bits"] == 4 * 3 * 16
    # R > n_in (rf_gt_nin_rem0): 16 x 8 at R 32 -> 4 multipliers; one shared 16:1 input
    # multiplexer (15 x 16) and a 2:1 accumulator select per multiplier (4 x 1 x 16).
    gt = _plan(16, 8, 32)
    assert gt.multipliers == 4
    assert gt.features["mux_bits"] == 15 * 16 + 4 * 1 * 16
    assert gt.features["adder_bits"] == 4 * 16
    assert gt.features["acc_bits"] == 8 * 16


# -- layers the workloads bring: depthwise, add, pooling -------------------------------------


class _Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.dw = nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False)
        self.pw = nn.Conv2d(4, 4, 1, bias=False)
        self.add = Add()
        self.pool = nn.MaxPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.add(self.pw(self.dw(x)), x)
        return self.fc(torch.flatten(self.gap(self.pool(y)), 1))


def test_layer_shapes_describe_depthwise_add_and_pooling() -> None:
    shapes = layer_shapes(_Block(), torch.zeros(2, 4, 8, 8))
    assert list(shapes) == ["dw", "pw", "add", "pool", "gap", "fc"]
    dw = shapes["dw"]
    assert (dw.kind, dw.groups, dw.fan_in, dw.macs) == ("depthwise", 4, 9, 4 * 64 * 9)
    assert shapes["pw"].kind == "conv" and shapes["pw"].macs == 4 * 64 * 4
    assert (shapes["add"].kind, shapes["add"].weights, shapes["add"].fan_in) == ("add", 0, 2)
    assert (shapes["pool"].kind, shapes["pool"].fan_in) == ("maxpool", 4)
    assert (shapes["gap"].kind, shapes["gap"].fan_in, shapes["gap"].outputs) == ("avgpool", 16, 4)
    assert shapes["fc"].weight_shape == (2, 4)  # Linear entries unchanged


def test_a_module_called_twice_is_two_layers() -> None:
    pool = nn.MaxPool2d(2)
    shapes = layer_shapes(nn.Sequential(pool, pool), torch.zeros(1, 1, 8, 8))
    assert list(shapes) == ["0", "0:2"]
    assert shapes["0:2"].input_shape == (1, 4, 4)


def test_depthwise_add_and_pooling_are_priced_by_hand() -> None:
    from evaluators import Configuration, FixedPoint, LayerConfig

    shapes = layer_shapes(_Block(), torch.zeros(1, 4, 8, 8))
    model = AcceleratorModel(
        shapes, device=get_device("xcu250"), strategy="resource", reuse_factor=4
    )
    config = Configuration.of(
        {
            name: LayerConfig(
                weights=FixedPoint(8, 1) if shape.weights else None,
                activations=FixedPoint(8, 3),
            )
            for name, shape in shapes.items()
        }
    )
    plans = model.plans(config)
    # Depthwise 3x3 over 4 channels: 36 MACs per pixel (K K per output), R 4 -> 9 multipliers,
    # 64 pixels x 4 cycles; hls4ml's RF rule reads (n_in, n_out) = (4 x 9, 4).
    dw = plans["dw"]
    assert (dw.reuse, dw.multipliers, dw.positions, dw.cycles_per_position) == (4, 9, 64, 4)
    # io_parallel gathers each pixel's 36-value window from 64 positions: 36 x 63 x 8 mux bits,
    # plus 4:1 input multiplexers: 9 inputs per output / R 4 -> 3 distinct ones (3 x 3 x 8).
    assert dw.features["mux_bits"] == 36 * 63 * 8 + 3 * 3 * 8
    # Residual add of 256 values: hls4ml's add is fully parallel (no reuse): 256 adders of
    # 9 bits, no multiplexer.
    add = plans["add"]
    assert add.multipliers == 0 and add.reuse == 1
    assert add.features["adder_bits"] == 256 * 9 and add.features["mux_bits"] == 0
    # 2x2 max pooling: 64 outputs, 16 lanes of 3 comparisons; global average: 1 lane of 15 adds.
    assert plans["pool"].features["adder_bits"] == 16 * 3 * 9
    assert plans["gap"].features["adder_bits"] == 1 * 15 * 9
    cost = model.cost(config)
    for name in ("add", "pool", "gap"):
        layer = cost.per_layer[name]
        assert layer["dsp"] == 0 and layer["bram"] == 0 and layer["weight_bits"] == 0
        reuse = 1 if name == "add" else 4
        assert layer["cycles"] == pytest.approx(reuse + 2.394, abs=0.01)
    # io_stream: one pixel per cycle; the 2x2 pool keeps one row of 8 pixels x 4 channels.
    stream = AcceleratorModel(
        shapes, device=get_device("xcu250"), strategy="resource", io_type="io_stream"
    ).plans(config)
    assert (stream["add"].positions, stream["add"].features["adder_bits"]) == (64, 4 * 9)
    assert stream["pool"].features["line_buffer_bits"] == 1 * 8 * 4 * 8
    assert cost.per_layer["dw"]["cycles"] == pytest.approx(64 * 4 + 2.394, abs=0.01)
    assert cost["lut"] > cost.per_layer["dw"]["lut"] > cost.per_layer["pw"]["lut"]
    warnings = model.validity(config)
    assert any("depthwise" in w for w in warnings)
    assert any("input bits 8" in w for w in warnings)


# -- real hls4ml designs as facts (wa-hls4ml, Vitis HLS 2023.2, xcu250, 200 MHz) --------------

FACTS = [
    # network, weight bits, requested RF, reported LUT, FF, DSP, BRAM_18K, worst latency.
    # 2-layer rows (in the file the shipped coefficients were fitted on):
    ("104-128-64", 8, 2047, 28110, 19802, 12, 1.0, 3717),
    ("56-64-96", 4, 3070, 17849, None, 0, 2.0, None),
    # 3-layer rows (never fitted on):
    ("104-48-104-104", 4, 2047, 30996, 24235, 0, 2.5, 6872),
    ("32-24-128-104", 8, 1024, 27481, 21724, 18, 24.5, 2568),
    ("16-48-104-16", 16, 4093, 21536, 17762, 3, 3.0, 7432),
]


BRAM_FACTS = [
    # network, weight bits, requested RF, reported BRAM_18K (wa-hls4ml, Vitis HLS 2023.2).
    ("128-128-8", 8, 1024, 25.0),  # 1 (two outidx halves) + 8 pairs x 0.5 x 6 planes
    ("8-128-112", 14, 1024, 43.0),  # 1 + 7 pairs x 0.5 x 12 planes
    ("104-128-88", 12, 1024, 71.0),  # 1 + (8 + 6 pairs) x 0.5 x 10 planes
    ("120-96-112", 4, 1024, 14.0),  # 1 + (6 + 7 pairs) x 0.5 x 2 planes
    ("104-64-128", 2, 1024, 5.0),  # 1 + (4 + 4 pairs) x 0.5 x 1 plane (2-bit weights)
    ("112-56-64", 8, 3070, 2.0),  # outidx: 3,136 and 3,584 words, 1 block each
    ("112-104-24", 16, 3070, 2.0),  # 16-bit weights in LUTs; outidx 2,912 + 2,496 words
]


@pytest.mark.parametrize("fact", BRAM_FACTS, ids=[f"{f[0]}-{f[1]}b-rf{f[2]}" for f in BRAM_FACTS])
def test_real_designs_bram_counted_exactly(fact: tuple) -> None:
    network, bits, rf, bram = fact
    widths = tuple(int(v) for v in network.split("-"))
    row = DesignRow(network, widths, bits, rf, "resource", "io_parallel", 200.0, "xcu250", {})
    assert price_rows([row])[0]["BRAM_18K"] == bram


@pytest.mark.parametrize("fact", FACTS, ids=[f"{f[0]}-{f[1]}b-rf{f[2]}" for f in FACTS])
def test_real_designs_within_the_bench_tolerance(fact: tuple) -> None:
    network, bits, rf, lut, ff, dsp, bram, cycles = fact
    reported = {"LUT": lut, "FF": ff, "DSP": dsp, "BRAM_18K": bram, "cycles": cycles}
    row = DesignRow(
        network,
        tuple(int(v) for v in network.split("-")),
        bits,
        rf,
        "resource",
        "io_parallel",
        200.0,
        "xcu250",
        reported,
    )
    predicted = price_rows([row])[0]
    # Tolerances: what the bench reaches on every row of these kinds (docs/benchmarks.md):
    # LUT within 10 %, FF within 3 %, DSP exact, latency within 0.1 %.
    assert predicted["LUT"] == pytest.approx(lut, rel=0.10)
    if ff is not None:
        assert predicted["FF"] == pytest.approx(ff, rel=0.03)
    assert predicted["DSP"] == dsp
    if cycles is not None:
        assert predicted["cycles"] == pytest.approx(cycles, rel=1e-3)
    if bram < 5:  # weights not in block RAM: the outidx tables alone
        assert predicted["BRAM_18K"] == pytest.approx(bram, abs=0.5)


def test_coefficients_round_trip_and_say_where_they_come_from(tmp_path: Path) -> None:
    shipped = Hls4mlCoefficients.default()
    assert shipped.provenance["rows"] == 2034
    assert "hls4ml_designs.py" in shipped.provenance["command"]
    assert shipped.domain["strategy"] == ["resource"]
    path = tmp_path / "c.json"
    shipped.to_json(path)
    assert Hls4mlCoefficients.from_json(path) == shipped
    with pytest.raises(HardwareModelError, match="version"):
        Hls4mlCoefficients.from_dict({"version": 99})
    # a file fitted on a count the plans no longer compute would price it at 0: refused
    stale = shipped.to_dict()
    stale["coefficients"]["bram"] = {"bram_word_bits": 0.013}
    with pytest.raises(HardwareModelError, match=r"coefficients\.bram: unknown .*bram_word_bits"):
        Hls4mlCoefficients.from_dict(stale)


@pytest.mark.skipif(not DENSE2.exists(), reason="shared hls4ml designs not available")
def test_shared_designs_priced_within_targets() -> None:
    rows = read_design_rows(DENSE2)
    assert len(rows) == 2034
    sample = rows[::10]
    predicted = price_rows(sample)
    lut = [
        abs(p["LUT"] - r.reported["LUT"]) / r.reported["LUT"]
        for p, r in zip(predicted, sample, strict=True)
    ]
    dsp = [p["DSP"] == r.reported["DSP"] for p, r in zip(predicted, sample, strict=True)]
    assert sum(lut) / len(lut) < 0.15
    assert sum(dsp) / len(dsp) >= 0.9
