"""The pieces an export rests on: HLS types that hold values exactly, the C header's
encodings, and dse's exact sum for a layer without an accumulator format."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from evaluators import (
    Configuration,
    FixedPoint,
    FloatFormat,
    LayerConfig,
    WeightSharing,
    apply,
)
from results import ApFixed, HeaderTensor, ResultsError, read_c_header, render_c_header
from tests.toolchain import require_hls4ml


def test_ap_fixed_spells_dse_modes_and_holds_values_exactly() -> None:
    fmt = FixedPoint(10, 3, rounding="nearest_up", overflow="wrap")
    assert str(ApFixed.of(fmt)) == "ap_fixed<10,3,AP_RND,AP_WRAP>"
    assert ApFixed.of(fmt).to_fixed_point() == fmt
    tiny = ApFixed.holding([0.5, -3 * 2.0**-100, 3.0])  # a decayed bias needs 100 bits
    assert (tiny.fraction_bits, tiny.integer) == (100, 3)
    assert ApFixed.holding([float(np.float32(0.1))]).fraction_bits == 27
    assert ApFixed.holding([0.0]).width == 1
    with pytest.raises(ResultsError, match="cannot hold the value inf"):
        ApFixed.holding([math.inf])
    inputs, weights = ApFixed(8, 2), ApFixed(6, 1)
    bias = ApFixed.holding([0.375])
    acc = ApFixed.for_sum(inputs, weights, bias, l1=5.0)
    assert acc.fraction_bits == 6 + 5 and acc.bound >= inputs.bound * 5.0 + bias.bound


def test_header_round_trips_every_encoding(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    fixed = rng.integers(-32, 32, (4, 3, 3, 3)) / 16.0
    floats = FloatFormat(3, 2, subnormals=True)
    float_values = floats.quantize(torch.tensor([0.0, -0.0, 0.05, -3.5, 1e-9, 7.0])).double()
    book = FixedPoint(8, 1)
    centroids = np.array([-0.5, -0.125, 0.25, 0.75])
    shared = centroids[rng.integers(0, 4, (6, 5))]
    tensors = [
        HeaderTensor("conv.weight", fixed, ApFixed(8, 3)),
        HeaderTensor("conv.bias", np.array([0.1, -2.0]), None),
        HeaderTensor("fc.weight", float_values.numpy(), floats),
        HeaderTensor("fc2.weight", shared, WeightSharing(4, "channel", codebook=book)),
        HeaderTensor("fc3.weight", shared, WeightSharing(5, "network"), table=centroids),
    ]
    path = tmp_path / "w.h"
    path.write_text(render_c_header(tensors, "W_H_", "test"))
    back = read_c_header(path)
    np.testing.assert_array_equal(back["conv.weight"], fixed)
    np.testing.assert_array_equal(back["conv.bias"], np.float32([0.1, -2.0]).astype(np.float64))
    np.testing.assert_array_equal(back["fc.weight"], float_values.numpy())
    assert math.copysign(1.0, back["fc.weight"][1]) == -1.0  # the sign of zero survives
    np.testing.assert_array_equal(back["fc2.weight"], shared)
    np.testing.assert_array_equal(back["fc3.weight"], shared)
    with pytest.raises(ResultsError, match="is not a value of ap_fixed<4,1"):
        render_c_header([HeaderTensor("x", np.array([0.3]), ApFixed(4, 1))], "G", "t")


@pytest.mark.parametrize("rounding", ["truncate", "nearest_even", "nearest_up"])
def test_a_layer_without_accumulator_casts_the_exact_sum(rounding: str) -> None:
    """Products on a grid plus tiny float32 biases (decayed units): the float32 sum rounds
    them away and lands on the wrong side of a rounding boundary; dse must not."""
    torch.manual_seed(0)
    fc = nn.Linear(4, 24)
    with torch.no_grad():
        fc.weight.copy_(torch.randint(-8, 8, (24, 4)) / 16.0)
        fc.bias.copy_(torch.tensor([1e-31, -1e-31, 3e-20, -2e-12, 0.0, -5e-38] * 4))
    fc.requires_grad_(False)
    x = torch.randint(-4, 4, (64, 4)) / 4.0
    fmt = FixedPoint(8, 4, rounding=rounding)
    config = Configuration.of({"0": LayerConfig(activations=fmt)})
    out = apply(nn.Sequential(fc), config)(x)
    for i in range(len(x)):
        for o in range(24):
            exact = Fraction(float(fc.bias[o])) + sum(
                Fraction(float(fc.weight[o, k])) * Fraction(float(x[i, k])) for k in range(4)
            )
            scaled = exact * 16
            floor = math.floor(scaled)
            if rounding == "truncate":
                q = floor
            elif rounding == "nearest_up":
                q = math.floor(scaled + Fraction(1, 2))
            else:
                rest = scaled - floor
                q = floor + int(rest > Fraction(1, 2) or (rest == Fraction(1, 2) and floor % 2))
            assert Fraction(float(out[i, o])) == Fraction(max(-128, min(127, q)), 16)


def test_hls4ml_serialization_loses_the_testbench_files(tmp_path: Path) -> None:
    """An hls4ml 1.3 defect the export works around (every exported point meets it):
    `serialize_model` looks for `InputData` one level too high in its configuration and packs
    no testbench file, then `deserialize_model` fails looking for it. The export's .fml names
    none (the files are in the project's tb_data/) and `verify_export` passes copies."""
    require_hls4ml()
    import hls4ml
    from hls4ml.utils.serialization import deserialize_model, serialize_model

    model = nn.Sequential(nn.Linear(2, 2))
    data = tmp_path / "tb.dat"
    data.write_text("0.5 0.25\n")
    config = hls4ml.utils.config_from_pytorch_model(model, (2,), granularity="name")
    graph = hls4ml.converters.convert_from_pytorch_model(
        model,
        output_dir=str(tmp_path / "project"),
        input_data_tb=str(data),
        output_data_tb=str(data),
        hls_config=config,
    )
    serialize_model(graph, str(tmp_path / "model.fml"))
    with pytest.raises(FileNotFoundError, match="input_data_tb"):
        deserialize_model(tmp_path / "model.fml", output_dir=tmp_path)
