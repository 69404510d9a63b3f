"""The cost-model contract, over every cost model dse builds (`hardware_models.CostModel`).

Pure: the same configuration costs the same in any order and never changes the model; every
metric finite and non-negative; monotone in weight bits where the architecture says so (a
wider fixed-point weight never needs less memory, logic or energy).
"""

from __future__ import annotations

import math

import pytest

from evaluators import Configuration, FixedPoint, LayerConfig, Workload, layer_shapes
from hardware_models import AcceleratorModel, CostModel, WeightMemoryModel, get_device

MODELS = ("weight_memory", "accelerator_xc7z020", "accelerator_xcu250_resource")


def _model(name: str, workload: Workload) -> CostModel:
    shapes = layer_shapes(workload.model, workload.data.train.x)
    if name == "weight_memory":
        return WeightMemoryModel(shapes)
    if name == "accelerator_xc7z020":
        return AcceleratorModel(shapes, device=get_device("xc7z020"), clock_mhz=200.0)
    return AcceleratorModel(
        shapes,
        device=get_device("xcu250"),
        clock_mhz=200.0,
        reuse_factor=dict.fromkeys(shapes, 4),
        strategy="resource",
    )


def _uniform(bits: int, layers: list[str]) -> Configuration:
    """Every layer's weights at `bits` (fixed point), its outputs at 8 bits."""
    layer = LayerConfig(weights=FixedPoint(bits, 2), activations=FixedPoint(8, 4))
    return Configuration.of(dict.fromkeys(layers, layer))


@pytest.mark.parametrize("name", MODELS)
def test_pure_and_finite(name: str, lenet_workload: Workload) -> None:
    model = _model(name, lenet_workload)
    layers = list(lenet_workload.layers())
    configurations = [_uniform(b, layers) for b in (3, 8, 5)] + [Configuration.of({})]
    first = [dict(model.cost(c).values) for c in configurations]
    again = [dict(_model(name, lenet_workload).cost(c).values) for c in reversed(configurations)]
    assert first == again[::-1]
    for values in first:
        assert values and all(math.isfinite(v) and v >= 0 for v in values.values())


@pytest.mark.parametrize("name", MODELS)
def test_monotone_in_fixed_point_weight_bits(name: str, lenet_workload: Workload) -> None:
    """Over 2..14-bit weights and 8-bit activations every multiplier stays in LUTs (W + A <=
    22, `DatapathConstants.mul_lut_max_bits`); beyond, multipliers move to DSPs and LUTs may
    fall, which is the point of moving them."""
    model = _model(name, lenet_workload)
    layers = list(lenet_workload.layers())
    costs = [model.cost(_uniform(b, layers)).values for b in range(2, 15)]
    for metric in ("weight_bits", "lut", "energy"):
        if metric not in costs[0]:
            continue
        series = [c[metric] for c in costs]
        assert all(b >= a for a, b in zip(series, series[1:], strict=False)), (metric, series)
    assert costs[-1]["weight_bits"] > costs[0]["weight_bits"]
