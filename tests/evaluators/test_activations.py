"""Activation and accumulator formats, and their calibrated ranges (post-training flow)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from evaluators import (
    AccuracyEvaluator,
    Configuration,
    FixedPoint,
    FloatFormat,
    FormatError,
    LayerConfig,
    QuantizedOutput,
    WeightCache,
    apply,
    calibrate_activations,
)


def _tiny() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


def test_activation_format_applies_to_the_layer_output() -> None:
    model = _tiny()
    x = torch.randn(16, 4)
    act = FixedPoint(6, 2)
    new = apply(model, Configuration.of({"0": LayerConfig(activations=act)}))
    assert isinstance(new[0], QuantizedOutput) and isinstance(model[0], nn.Linear)
    expected = model[2](torch.relu(act.quantize(model[0](x))))
    assert torch.equal(new(x), expected)


def test_accumulator_wraps_the_whole_sum_like_hardware() -> None:
    model = _tiny()
    with torch.no_grad():
        model[0].weight.fill_(1.0)
        model[0].bias.zero_()
    x = torch.full((1, 4), 1.5)  # each output sums to 6.0
    acc = FixedPoint(4, 3, overflow="wrap")  # range [-4, 3.5]: 6.0 wraps to -2.0
    new = apply(model, Configuration.of({"0": LayerConfig(accumulator=acc)}))
    hidden = new[0](x)
    assert torch.equal(hidden, torch.full((1, 3), -2.0))


def test_float_activations_equal_the_torch_cast() -> None:
    model = _tiny()
    x = torch.randn(64, 4)
    new = apply(model, Configuration.of({"2": LayerConfig(activations=FloatFormat(5, 10))}))
    assert torch.equal(new(x), model(x).to(torch.float16).float())


@pytest.mark.parametrize("method", ["minmax", "percentile", "mse"])
def test_calibration_methods_order_their_ranges(method: str, lenet_workload) -> None:
    x = lenet_workload.data.train.x
    ranges = calibrate_activations(lenet_workload.model, x, method=method, percentile=99.0)
    assert set(ranges) == {"conv1", "conv2", "fc1", "fc2", "fc3"}
    full = calibrate_activations(lenet_workload.model, x, method="minmax")
    for name, value in ranges.items():
        assert 0 < value <= full[name] * (1 + 1e-6)
    if method != "minmax":
        assert any(ranges[n] < full[n] * 0.999 for n in ranges)  # clipped below the max


def test_calibration_rejects_unknown_method(lenet_workload) -> None:
    with pytest.raises(FormatError, match="calibration: expected one of"):
        calibrate_activations(lenet_workload.model, lenet_workload.data.train.x, method="kl")


def test_weight_cache_computes_each_layer_choice_once(lenet_workload) -> None:
    cache = WeightCache()
    evaluator = AccuracyEvaluator(lenet_workload)
    evaluator._cache = cache  # noqa: SLF001 - observe the evaluator's own cache
    a = Configuration.of(
        {
            "conv1": LayerConfig(weights=FixedPoint(4, 1)),
            "fc1": LayerConfig(weights=FixedPoint(6, 1)),
        }
    )
    b = Configuration.of(
        {
            "conv1": LayerConfig(weights=FixedPoint(4, 1)),
            "fc1": LayerConfig(weights=FixedPoint(5, 1)),
        }
    )
    evaluator.score(a)
    assert len(cache) == 2
    evaluator.score(b)
    assert len(cache) == 3  # conv1's approximation was reused
    assert evaluator.score(a) == evaluator.score(a)


def test_activation_quantization_costs_accuracy_only_when_coarse(lenet_workload) -> None:
    evaluator = AccuracyEvaluator(lenet_workload)
    ranges = calibrate_activations(lenet_workload.model, lenet_workload.data.train.x)
    ref = evaluator.reference().accuracy

    def config(bits: int) -> Configuration:
        return Configuration.of(
            {n: LayerConfig(activations=FixedPoint.for_range(r, bits)) for n, r in ranges.items()}
        )

    assert evaluator.score(config(12)).accuracy >= ref - 0.01
    assert evaluator.score(config(2)).accuracy < ref - 0.2
