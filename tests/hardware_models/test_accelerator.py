"""The accelerator cost model: hand-computed costs, monotonicity, memories, energy, calibration."""

from __future__ import annotations

import math
import pickle
import random

import pytest

from evaluators import (
    Configuration,
    FixedPoint,
    FloatFormat,
    LayerConfig,
    LayerShape,
    WeightSharing,
    layer_shapes,
)
from hardware_models import (
    AcceleratorModel,
    DatapathConstants,
    EnergyConstants,
    HardwareModelError,
    Hls4mlCoefficients,
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
    coef = Hls4mlCoefficients.default()
    control = DatapathConstants()
    # Latency strategy, reuse 1: 32 multipliers (4 x 8), 8 x 8 in LUTs (8 + 8 <= 22), weights
    # constants (no ROM, no multiplexer); accumulators of 8 + 8 + ceil(log2 4) = 18 bits.
    plan = model.plans(_fixed(8))["fc"]
    assert (plan.reuse, plan.multipliers, plan.weight_placement) == (1, 32, "constants")
    features = {
        "mux_bits": 0.0,
        "rom_lut_bits": 0.0,
        "adder_bits": 32 * 18,
        "fabric_mul_bits": 32 * 8 * 8,
        "acc_bits": 8 * 18,
        "input_bits": 4 * 8,
        "output_bits": 8 * 8,
        "activation_bits": 0.0,  # the last layer: no ReLU after it
        "multipliers": 0.0,  # constant weights: no per-lane weight read
        "layers": 1.0,
    }
    assert {k: plan.features[k] for k in features} == features
    lut = coef.predict("lut", features) + control.control_lut + coef.intercepts["lut"]
    ff = coef.predict("ff", features) + control.control_ff + coef.intercepts["ff"]
    assert cost["lut"] == pytest.approx(max(lut, control.control_lut))
    assert cost["ff"] == pytest.approx(max(ff, control.control_ff))
    assert cost["dsp"] == 0
    assert cost["bram"] == 0
    cycles = 1 + coef.coefficients["cycles"]["layers"] + coef.intercepts["cycles"]
    assert cost.per_layer["fc"]["cycles"] == pytest.approx(cycles)
    assert cost["latency"] == pytest.approx(cycles / 100e6)
    energy = EnergyConstants.for_family("7series")
    mul = LIB.predict("mul_lut", (8, 8), "7series")
    acc = LIB.predict("accumulate", (16, 18), "7series")
    relu = LIB.predict("relu", (18,), "7series")

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
    assert cost["utilization"] == pytest.approx(max(cost["lut"] / ZYNQ.lut, cost["ff"] / ZYNQ.ff))


def test_strategy_io_type_and_basis() -> None:
    resource = _model({"fc": FC}, strategy="resource", reuse_factor=3)
    # 4 x 8: 3 is not a valid reuse factor (32 % 3 != 0); hls4ml moves it to 2.
    assert resource.plans(_fixed(8))["fc"].reuse == 2
    assert _model({"fc": FC}, reuse_factor=3).plans(_fixed(8))["fc"].reuse == 3
    assert resource.basis == "hls_estimate"
    calibration = HlsCalibration(("LUT",)).fit([({"LUT": 2}, {"LUT": 1})])
    assert _model({"fc": FC}, calibration=calibration).basis == "post_synthesis"
    with pytest.raises(HardwareModelError, match="strategy"):
        _model({"fc": FC}, strategy="fast").cost(_fixed(8))
    with pytest.raises(HardwareModelError, match="io_type"):
        _model({"fc": FC}, io_type="io_serial").cost(_fixed(8))
    stream = _model({"conv": CONV}, io_type="io_stream", reuse_factor=36)
    parallel = _model({"conv": CONV}, reuse_factor=36)
    config = _fixed(8, 8, ("conv",))
    # io_stream replaces the window-gathering multiplexers by a line buffer and a FIFO.
    assert stream.cost(config)["lut"] < parallel.cost(config)["lut"]
    assert stream.plans(config)["conv"].features["line_buffer_bits"] == 2 * 16 * 4 * 8


def test_validity_names_what_was_not_fitted() -> None:
    inside = AcceleratorModel({"fc": FC}, strategy="resource", device=get_device("xcu250"))
    warnings = inside.validity()
    assert not any("family" in w or "strategy" in w for w in warnings)
    outside = _model({"conv": CONV})
    text = " ".join(outside.validity(_fixed(8, 8, ("conv",))))
    assert "family '7series'" in text
    assert "strategy 'latency'" in text
    assert "kind 'conv'" in text
    assert "input bits 8" in text


def test_reuse_factor_sets_lanes_and_weight_memory() -> None:
    cost = _model({"fc": FC}, reuse_factor=4).cost(_fixed(8))
    layer = cost.per_layer["fc"]
    assert layer["multipliers"] == 8  # ceil(32 / 4)
    assert layer["reuse_factor"] == 4
    assert _model({"fc": FC}, reuse_factor=4).plans(_fixed(8))["fc"].weight_placement == "lutram"
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
    config = _fixed(16, 16, ("conv",))  # 16 x 8-bit input products (24 > 22 bits): DSPs
    costs = [_model({"conv": CONV}, reuse_factor=r).cost(config) for r in (1, 4, 16, 72)]
    for low, high in zip(costs, costs[1:], strict=False):
        assert high["dsp"] < low["dsp"]
        assert high["latency"] > low["latency"]
    # Once weights are read from a memory (R > 1), more reuse means fewer lanes and LUTs;
    # R = 1 folds the weights into the logic and has no multiplexers, so it is not on that line.
    for low, high in zip(costs[1:], costs[2:], strict=False):
        assert high["lut"] < low["lut"]


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


def test_hls4ml_example_post_synthesis_calibration() -> None:
    # hls4ml's own Dense 16 -> 5 example (xc7z020): csynth 2532 LUT / 7969 FF, Vivado
    # synthesis 1526 / 2428 (the shared reports): the calibration maps one to the other.
    calibration = HlsCalibration(("LUT", "FF")).fit(
        [({"LUT": 2532, "FF": 7969}, {"LUT": 1526, "FF": 2428})]
    )
    assert calibration.apply({"LUT": 2532})["LUT"] == pytest.approx(1526)
    model = _model({"fc": FC}, calibration=calibration)
    assert model.basis == "post_synthesis"
    assert model.cost(_fixed(8))["ff"] < _model({"fc": FC}).cost(_fixed(8))["ff"]


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
    with pytest.raises(HardwareModelError, match="kind"):
        bad = LayerShape("x", "lstm", (2, 2), (2,), (2,), 4)
        _model({"x": bad}).cost(Configuration())


def test_same_configuration_same_cost() -> None:
    model = _model({"fc": FC, "conv": CONV}, reuse_factor={"conv": 36})
    config = _fixed(6, 8, ("fc", "conv"))
    first, second = model.cost(config), model.cost(config)
    assert dict(first.values) == dict(second.values)
    assert all(math.isfinite(v) for v in first.values.values())


def _resnet_chain() -> dict[str, LayerShape]:
    import torch

    from evaluators._resnet import CifarResNet

    torch.manual_seed(0)
    return layer_shapes(CifarResNet(20, 1, 10), torch.zeros(1, 1, 16, 16))


def test_remembered_layer_prices_equal_a_fresh_model_and_follow_new_settings() -> None:
    shapes = _resnet_chain()  # convolutions, projections, additions, pooling, linear
    kinds = {s.kind for s in shapes.values()}
    assert {"conv", "add", "avgpool", "linear"} <= kinds
    weights = (None, FixedPoint(6, 1), FloatFormat(4, 3), WeightSharing(8))
    outputs = (None, FixedPoint(8, 3), FixedPoint(5, 2), FloatFormat(5, 4))
    rng = random.Random(0)
    base = {
        name: LayerConfig(
            weights=rng.choice(weights) if shape.kind in ("conv", "linear") else None,
            activations=rng.choice(outputs),
        )
        for name, shape in shapes.items()
    }
    configurations = [Configuration.of(base)]
    for _ in range(40):  # neighbours: one layer's weights or output format changed
        name = rng.choice(list(shapes))
        changed = dict(base)
        old = changed[name]
        if shapes[name].kind in ("conv", "linear") and rng.random() < 0.5:
            changed[name] = LayerConfig(weights=rng.choice(weights), activations=old.activations)
        else:
            changed[name] = LayerConfig(weights=old.weights, activations=rng.choice(outputs))
        configurations.append(Configuration.of(changed))
    settings = {"io_type": "io_stream", "strategy": "resource", "reuse_factor": 4}
    calibration = HlsCalibration(("LUT", "FF")).fit([({"LUT": 2, "FF": 3}, {"LUT": 1, "FF": 1})])
    warm = _model(shapes, calibration=calibration, **settings)
    for configuration in configurations:
        fresh = _model(shapes, calibration=calibration, **settings).cost(configuration)
        priced = warm.cost(configuration)
        assert dict(priced.values) == dict(fresh.values)
        assert {k: dict(v) for k, v in priced.per_layer.items()} == {
            k: dict(v) for k, v in fresh.per_layer.items()
        }
    # a setting replaced, or the calibration refitted, after prices were remembered
    config = configurations[-1]
    warm.clock_mhz = 100.0
    assert (
        warm.cost(config)["latency"]
        == _model(shapes, calibration=calibration, clock_mhz=100.0, **settings).cost(config)[
            "latency"
        ]
    )
    warm.io_type = "io_parallel"
    other = {**settings, "io_type": "io_parallel"}
    expected = _model(shapes, calibration=calibration, clock_mhz=100.0, **other).cost(config)
    assert dict(warm.cost(config).values) == dict(expected.values)
    calibration.fit([({"LUT": 4, "FF": 3}, {"LUT": 1, "FF": 1})])  # refitted in place
    expected = _model(shapes, calibration=calibration, clock_mhz=100.0, **other).cost(config)
    assert warm.cost(config)["lut"] == expected["lut"]
    assert pickle.loads(pickle.dumps(warm)).cost(config)["lut"] == expected["lut"]
