"""Workloads: the built-in LeNet/digits, caching, datasets from files, never mutated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from evaluators import (
    AccuracyEvaluator,
    Configuration,
    FixedPoint,
    LayerConfig,
    WeightSharing,
    WorkloadError,
    apply,
    build_workload,
    layer_shapes,
    load_dataset,
)


def test_builtin_workload_is_accurate_and_split_by_seed(lenet_workload) -> None:
    data = lenet_workload.data
    assert (len(data.train), len(data.validation), len(data.test)) == (1078, 359, 360)
    assert set(lenet_workload.layers()) == {"conv1", "conv2", "fc1", "fc2", "fc3"}
    assert AccuracyEvaluator(lenet_workload).reference().accuracy > 0.95
    again = load_dataset("digits", fractions=(0.6, 0.2, 0.2), seed=0, base_dir=Path("."))
    assert torch.equal(again.validation.y, data.validation.y)
    other = load_dataset("digits", fractions=(0.6, 0.2, 0.2), seed=1, base_dir=Path("."))
    assert not torch.equal(other.validation.y, data.validation.y)
    assert other.fingerprint != data.fingerprint


def test_trained_weights_are_cached_and_reused(lenet_workload, model_cache: Path) -> None:
    cached = list(model_cache.glob("lenet5-*.pt"))
    assert len(cached) == 1
    again = build_workload("lenet5", "digits", seed=0, cache_dir=model_cache)
    assert "cached weights" in again.description
    for a, b in zip(again.model.parameters(), lenet_workload.model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_apply_returns_a_new_model_and_leaves_the_original(lenet_workload) -> None:
    model = lenet_workload.model
    before = {k: v.clone() for k, v in model.state_dict().items()}
    config = Configuration.of(
        {
            "conv1": LayerConfig(weights=FixedPoint(4, 1)),
            "fc1": LayerConfig(weights=WeightSharing(4)),
        }
    )
    new = apply(model, config)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    assert torch.equal(new.conv1.weight, FixedPoint(4, 1).quantize(model.conv1.weight))
    assert len(torch.unique(new.fc1.weight)) <= 4
    assert torch.equal(new.fc2.weight, model.fc2.weight)


def test_scores_are_deterministic_and_coarse_formats_cost_accuracy(lenet_workload) -> None:
    evaluator = AccuracyEvaluator(lenet_workload)
    fine = Configuration.of(
        {n: LayerConfig(weights=FixedPoint.for_range(1.0, 12)) for n in lenet_workload.layers()}
    )
    coarse = Configuration.of(
        {n: LayerConfig(weights=WeightSharing(2)) for n in lenet_workload.layers()}
    )
    ref = evaluator.reference().accuracy
    assert evaluator.score(fine).accuracy == pytest.approx(ref, abs=0.01)
    assert evaluator.score(coarse).accuracy < ref - 0.1
    assert evaluator.score(coarse) == AccuracyEvaluator(lenet_workload).score(coarse)


def test_predictions_are_the_models_top1_classes_and_give_its_score(lenet_workload) -> None:
    evaluator = AccuracyEvaluator(lenet_workload, batch_size=100, max_samples=250)
    x = lenet_workload.data.validation.x[:250]
    with torch.no_grad():
        float_classes = lenet_workload.model(x).argmax(dim=1)
    assert torch.equal(evaluator.predictions(), float_classes)
    assert torch.equal(evaluator.labels, lenet_workload.data.validation.y[:250])
    float_correct = (float_classes == evaluator.labels).sum().item()
    assert evaluator.reference().accuracy == float_correct / 250
    coarse = Configuration.of(
        {n: LayerConfig(weights=WeightSharing(3)) for n in lenet_workload.layers()}
    )
    with torch.no_grad():
        coarse_classes = apply(lenet_workload.model, coarse)(x).argmax(dim=1)
    predicted = evaluator.predictions(coarse)
    assert predicted.shape == (250,) and predicted.dtype == torch.int64
    assert torch.equal(predicted, coarse_classes)
    assert not torch.equal(predicted, float_classes)
    correct = (coarse_classes == evaluator.labels).sum().item()
    assert evaluator.score(coarse).accuracy == correct / 250


def test_layer_shapes_of_lenet(lenet_workload) -> None:
    shapes = layer_shapes(lenet_workload.model, lenet_workload.data.train.x)
    assert shapes["conv1"].weight_shape == (6, 1, 3, 3)
    assert shapes["conv1"].output_shape == (6, 8, 8)
    assert shapes["conv1"].macs == 6 * 8 * 8 * 9
    assert shapes["fc1"].macs == 64 * 120
    assert shapes["fc3"].kind == "linear" and shapes["conv2"].kind == "conv"


def test_dataset_files(tmp_path: Path) -> None:
    x = np.random.default_rng(0).random((50, 1, 4, 4)).astype(np.float32)
    y = np.arange(50) % 5
    np.savez(tmp_path / "d.npz", x=x, y=y)
    data = load_dataset("d.npz", fractions=(0.6, 0.2, 0.2), seed=0, base_dir=tmp_path)
    assert len(data.train) + len(data.validation) + len(data.test) == 50
    assert data.num_classes == 5
    splits = {f"x_{s}": x[:10] for s in ("train", "validation", "test")}
    splits |= {f"y_{s}": y[:10] for s in ("train", "validation", "test")}
    torch.save({k: torch.as_tensor(v) for k, v in splits.items()}, tmp_path / "s.pt")
    pre = load_dataset("s.pt", fractions=(0.6, 0.2, 0.2), seed=0, base_dir=tmp_path)
    assert len(pre.test) == 10


def test_image_folder_dataset(tmp_path: Path) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    for label in ("cat", "dog"):
        (tmp_path / "imgs" / label).mkdir(parents=True)
        for i in range(10):
            pixels = (rng.random((6, 6)) * 255).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / "imgs" / label / f"{i}.png")
    data = load_dataset("imgs", fractions=(0.6, 0.2, 0.2), seed=0, base_dir=tmp_path)
    assert data.train.x.shape[1:] == (1, 6, 6)
    assert 0.0 <= float(data.train.x.min()) and float(data.train.x.max()) <= 1.0
    assert (
        sorted(torch.cat([data.train.y, data.validation.y, data.test.y]).tolist())
        == [0] * 10 + [1] * 10
    )


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: None, "dataset not found"),
        (lambda p: (p / "bad.npz").write_bytes(b"not a zip"), "cannot read dataset"),
        (lambda p: np.savez(p / "bad.npz", a=np.zeros(3)), "expected arrays 'x' and 'y'"),
        (
            lambda p: np.savez(p / "bad.npz", x=np.zeros((3, 2)), y=np.zeros(4)),
            "x has 3 samples but y has 4",
        ),
    ],
)
def test_bad_dataset_files(tmp_path: Path, setup, message: str) -> None:
    setup(tmp_path)
    with pytest.raises(WorkloadError, match=message):
        load_dataset("bad.npz", fractions=(0.6, 0.2, 0.2), seed=0, base_dir=tmp_path)


def test_bad_model_and_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(WorkloadError, match="expected a built-in name"):
        build_workload("vgg99", "digits", seed=0)
    with pytest.raises(WorkloadError, match="cannot import 'nope'"):
        build_workload("nope:make", "digits", seed=0, base_dir=tmp_path)
    torch.save({"fc1.weight": torch.zeros(3)}, tmp_path / "w.pt")
    with pytest.raises(WorkloadError, match="checkpoint does not fit the model"):
        build_workload("lenet5", "digits", seed=0, checkpoint="w.pt", base_dir=tmp_path)
    (tmp_path / "evil.pt").write_bytes(b"\x80\x04garbage")
    with pytest.raises(WorkloadError, match="cannot read checkpoint"):
        build_workload("lenet5", "digits", seed=0, checkpoint="evil.pt", base_dir=tmp_path)
