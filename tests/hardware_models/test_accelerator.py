"""The accelerator cost model: hand-computed costs, monotonicity, memories, energy, calibration."""

from __future__ import annotations

import math

import pytest

from evaluators import (
    Configuration,
    FixedPoint,
    FloatFormat,
    LayerConfig,
    LayerShape,
    WeightSharing,
)
from hardware_models import (
    AcceleratorModel,
    DatapathConstants,
    EnergyConstants,
    HardwareModelError,
    HlsCalibration,
    OperatorLibrary,
    bram18_blocks,
    get_device,
    memory_cost,
    weight_memory_bits,
)

FC = LayerShape("fc", "linear", (8, 4), (4,), (8,), 32)  # Linear 4 -> 8: 32 weights, 32 MACs
CONV = LayerShape("conv", "conv", (8, 4, 3, 3), (4, 16, 16), (8, 16, 16), 8 * 256 * 36)
LIB = OperatorLibrary.default("7series")
ZYNQ = get_device("xc7z020")


def _model(shapes: dict[str, LayerShape], **kwargs: object) -> AcceleratorModel:
    return AcceleratorModel(shapes, device=kwargs.pop("device", ZYNQ), library=LIB, **kwargs)


def _fixed(weights: int, activations: int = 8, names: tuple[str, ...] = ("fc",)) -> Configuration:
    layer = LayerConfig(weights=FixedPoint(weights, 1), activations=FixedPoint(activations, 4))
    return Configuration.of(dict.fromkeys(names, layer))


def test_hand_computed_linear_layer() -> None:
    model = _model({"fc": FC}, clock_mhz=100.0)
    cost = model.cost(_fixed(8))
    mul = LIB.predict("mul_lut", (8, 8), "7series")  # 8 + 8 <= 16: in LUTs
    acc = LIB.predict("accumulate", (16, 18), "7series")  # 16 + ceil(log2 4) bits
    relu = LIB.predict("relu", (18,), "7series")
    lanes = 32  # reuse 1: one multiplier per weight
    control = DatapathConstants()
    # Weights: depth 1 ROM, constants; output: 8 x 8 bits in registers; input: 4 x 8 bits
    # in registers (depth 1, writable).
    lut = lanes * (mul.lut + acc.lut) + 8 * relu.lut + control.control_lut
    ff = lanes * (mul.ff + acc.ff) + 8 * relu.ff + 64 + 32 + control.control_ff
    assert cost["lut"] == pytest.approx(lut)
    assert cost["ff"] == pytest.approx(ff)
    assert cost["dsp"] == 0
    assert cost["bram"] == 0
    cycles = 1 + control.control_cycles + mul.latency_cycles + acc.latency_cycles * 2
    assert cost.per_layer["fc"]["cycles"] == cycles
    assert cost["latency"] == pytest.approx(cycles / 100e6)
    energy = EnergyConstants.for_family("7series")

    def pj(op: object) -> float:
        return energy.operation_pj(op.lut, op.ff, op.dsp)  # type: ignore[attr-defined]

    compute = 32 * (pj(mul) + pj(acc)) + 8 * pj(relu)
    # No weight-read energy (constants); input window 4 x 8 bits and 8 x 8 output bits in
    # registers.
    memory = (4 * 8 + 8 * 8) * energy.register_pj_per_bit
    static = ZYNQ.static_power_w * cycles / 100e6
    layer = cost.per_layer["fc"]
    assert layer["energy_compute"] == pytest.approx(compute * 1e-12)
    assert layer["energy_memory"] == pytest.approx(memory * 1e-12)
    assert layer["energy_static"] == pytest.approx(static)
    assert cost["energy"] == pytest.approx((compute + memory) * 1e-12 + static)
    assert cost["weight_bits"] == 32 * 8
    assert cost["utilization"] == pytest.approx(max(lut / ZYNQ.lut, ff / ZYNQ.ff))


def test_reuse_factor_sets_lanes_and_weight_memory() -> None:
    cost = _model({"fc": FC}, reuse_factor=4).cost(_fixed(8))
    layer = cost.per_layer["fc"]
    assert layer["multipliers"] == 8  # ceil(32 / 4)
    assert layer["reuse_factor"] == 4
    # 4 words of 8 lanes x 8 bits: a 4-deep ROM in distributed RAM, one LUT per bit.
    assert memory_cost(4, 64, writable=False).lut == 64


def test_wide_products_go_to_dsp() -> None:
    narrow = _model({"fc": FC}).cost(_fixed(8, 8))
    wide = _model({"fc": FC}).cost(_fixed(16, 16))
    assert narrow["dsp"] == 0
    assert wide["dsp"] == 32  # one DSP48 per 16 x 16 multiplier


def test_bram_packing() -> None:
    assert bram18_blocks(784, 8) == 1  # the 784 x 8 buffer of the aa08453 report
    assert bram18_blocks(512, 36) == 1
    assert bram18_blocks(1024, 36) == 2
    assert bram18_blocks(9, 128, max_width=18) == 8
    assert memory_cost(1, 64, writable=False).placement == "constants"
    assert memory_cost(1, 64, writable=True).ff == 64
    assert memory_cost(64, 8, writable=False).placement == "lutram"
    assert memory_cost(65, 8, writable=False).placement == "bram"


def test_fewer_bits_cost_less() -> None:
    model = _model({"conv": CONV}, reuse_factor=36)
    costs = [model.cost(_fixed(w, 8, ("conv",))) for w in (8, 6, 4, 2)]
    for more, fewer in zip(costs, costs[1:], strict=False):
        assert fewer["lut"] < more["lut"]
        assert fewer["energy"] < more["energy"]
        assert fewer["weight_bits"] < more["weight_bits"]


def test_larger_reuse_means_less_hardware_more_latency() -> None:
    config = _fixed(12, 12, ("conv",))  # 24-bit products: DSPs
    costs = [_model({"conv": CONV}, reuse_factor=r).cost(config) for r in (1, 4, 16, 72)]
    for low, high in zip(costs, costs[1:], strict=False):
        assert high["dsp"] < low["dsp"]
        assert high["lut"] < low["lut"]
        assert high["latency"] > low["latency"]


def test_shared_weights_with_few_clusters_store_fewer_bits() -> None:
    shape = LayerShape("fc", "linear", (128, 256), (256,), (128,), 128 * 256)
    model = _model({"fc": shape}, reuse_factor=256)
    fixed = model.cost(_fixed(8))
    shared = LayerConfig(
        weights=WeightSharing(4, codebook=FixedPoint(8, 1)), activations=FixedPoint(8, 4)
    )
    cost = model.cost(Configuration.of({"fc": shared}))
    assert cost["weight_bits"] < fixed["weight_bits"] / 3
    assert cost["bram"] < fixed["bram"]
    assert (
        cost["weight_bits"]
        == weight_memory_bits({"fc": shape}, Configuration.of({"fc": shared}))["fc"]
    )


def test_float_and_unformatted_layers_cost_as_float() -> None:
    model = _model({"fc": FC})
    float32 = model.cost(Configuration())
    half = model.cost(
        Configuration.of(
            {"fc": LayerConfig(weights=FloatFormat(5, 10), activations=FloatFormat(5, 10))}
        )
    )
    assert float32["weight_bits"] == 32 * 32
    assert half["lut"] < float32["lut"]
    assert float32["lut"] > model.cost(_fixed(8))["lut"]


def test_huge_model_overflows_a_small_part() -> None:
    big = LayerShape("fc", "linear", (512, 1024), (1024,), (512,), 512 * 1024)
    cost = _model({"fc": big}, device=get_device("xc7z010"), reuse_factor=16).cost(_fixed(8))
    assert cost["utilization"] > 1


def test_energy_constants_override_changes_energy() -> None:
    config = _fixed(8)
    base = _model({"fc": FC}).cost(config)
    hot = EnergyConstants.for_family("7series").replace(activity=0.5, static_power_w=1.0)
    assert _model({"fc": FC}, energy=hot).cost(config)["energy"] > base["energy"]
    with pytest.raises(HardwareModelError, match="activity"):
        EnergyConstants(activity=2.0)
    with pytest.raises(HardwareModelError, match="unknown fields"):
        EnergyConstants().replace(lut_nj=1.0)
    assert EnergyConstants.from_dict(hot.to_dict()) == hot


def test_calibration_factors_are_applied() -> None:
    calibration = HlsCalibration(("LUT", "FF", "DSP", "BRAM_18K")).fit(
        [({"LUT": 1000, "FF": 1000, "DSP": 10, "BRAM_18K": 4}, {"LUT": 500, "FF": 250})]
    )
    config = _fixed(8)
    raw = _model({"fc": FC}).cost(config)
    corrected = _model({"fc": FC}, calibration=calibration).cost(config)
    assert corrected["lut"] == pytest.approx(raw["lut"] * 0.5)
    assert corrected["ff"] == pytest.approx(raw["ff"] * 0.25)
    assert corrected["energy"] == pytest.approx(raw["energy"])


def test_layers_chain_their_activation_formats() -> None:
    a = LayerShape("a", "linear", (8, 4), (4,), (8,), 32)
    b = LayerShape("b", "linear", (4, 8), (8,), (4,), 32)
    model = _model({"a": a, "b": b})
    narrow_a = Configuration.of(
        {
            "a": LayerConfig(weights=FixedPoint(8, 1), activations=FixedPoint(4, 2)),
            "b": LayerConfig(weights=FixedPoint(8, 1), activations=FixedPoint(8, 2)),
        }
    )
    wide_a = Configuration.of(
        {
            "a": LayerConfig(weights=FixedPoint(8, 1), activations=FixedPoint(8, 2)),
            "b": LayerConfig(weights=FixedPoint(8, 1), activations=FixedPoint(8, 2)),
        }
    )
    assert model.cost(narrow_a).per_layer["b"]["lut"] < model.cost(wide_a).per_layer["b"]["lut"]


def test_bad_parameters_name_the_field() -> None:
    with pytest.raises(HardwareModelError, match="unknown part"):
        get_device("xc9z999")
    with pytest.raises(HardwareModelError, match="reuse_factor"):
        _model({"fc": FC}, reuse_factor={"fx": 2}).cost(_fixed(8))
    with pytest.raises(HardwareModelError, match="reuse_factor"):
        _model({"fc": FC}, reuse_factor=0).cost(_fixed(8))
    with pytest.raises(HardwareModelError, match="control_lut"):
        DatapathConstants(control_lut=-1)


def test_same_configuration_same_cost() -> None:
    model = _model({"fc": FC, "conv": CONV}, reuse_factor={"conv": 36})
    config = _fixed(6, 8, ("fc", "conv"))
    first, second = model.cost(config), model.cost(config)
    assert dict(first.values) == dict(second.values)
    assert all(math.isfinite(v) for v in first.values.values())
