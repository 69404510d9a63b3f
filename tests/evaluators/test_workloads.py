"""Real workloads: models against their published sizes, BatchNorm folding, dataset readers
(IDX, CIFAR python and binary, a hostile pickle), normalization, resumable training."""

from __future__ import annotations

import gzip
import json
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from evaluators import (
    BUILTIN_MODELS,
    CifarResNet,
    DatasetSpec,
    DataSplit,
    MobileNetV2,
    Normalization,
    ResNet18,
    TrainingRecipe,
    WorkloadError,
    available_checkpoints,
    fold_batchnorm,
    load_dataset,
    read_checkpoint,
    train_model,
)
from evaluators._datasets import FASHION_MNIST_DIR


def _parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def _macs(net: nn.Module, shape: tuple[int, ...]) -> int:
    """Multiply-accumulates of one sample, counted from each layer's output by hooks."""
    total = 0

    def hook(module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            total += output[0].numel() * k * module.in_channels // module.groups
        elif isinstance(module, nn.Linear):
            total += module.in_features * module.out_features

    handles = [m.register_forward_hook(hook) for m in net.modules()]
    with torch.no_grad():
        net.eval()(torch.zeros(1, *shape))
    for h in handles:
        h.remove()
    return total


@pytest.mark.parametrize(
    ("depth", "published"),
    [(20, 0.27e6), (32, 0.46e6), (56, 0.85e6)],  # He et al. 2016, Table 6
)
def test_cifar_resnets_have_the_published_parameter_counts(depth: int, published: float) -> None:
    assert _parameters(CifarResNet(depth)) == pytest.approx(published, rel=0.02)


def test_resnet20_has_41m_macs_at_32x32() -> None:
    assert _macs(CifarResNet(20), (3, 32, 32)) == pytest.approx(41e6, rel=0.02)


def test_resnet18_and_mobilenetv2_sizes() -> None:
    assert _parameters(ResNet18()) == pytest.approx(11.69e6, rel=0.01)  # torchvision's
    assert _parameters(ResNet18(3, 10, "cifar")) == pytest.approx(11.17e6, rel=0.01)
    assert _parameters(MobileNetV2(3, 10)) == pytest.approx(2.2e6, rel=0.03)
    assert MobileNetV2(3, 10)(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_depthwise_convolution_macs_are_k_k_per_output() -> None:
    net = nn.Sequential(nn.Conv2d(32, 32, 3, padding=1, groups=32))
    assert _macs(net, (32, 16, 16)) == 3 * 3 * 32 * 16 * 16


def test_every_builtin_model_takes_its_data_shapes() -> None:
    for name, build in BUILTIN_MODELS.items():
        channels, side = (1, 28) if name in ("lenet5", "resnet20") else (3, 32)
        assert build(channels, 10, side)(torch.zeros(2, channels, side, side)).shape == (2, 10)


def test_residual_additions_are_named_modules() -> None:
    names = [n for n, m in CifarResNet(20).named_modules() if type(m).__name__ == "Add"]
    assert names[:2] == ["layer1.0.add", "layer1.1.add"] and len(names) == 9


def _randomize_batchnorm(net: nn.Module) -> nn.Module:
    generator = torch.Generator().manual_seed(0)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.num_features, generator=generator) - 0.5)
            m.running_var.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
            m.bias.data.copy_(torch.rand(m.num_features, generator=generator) - 0.5)
    return net.eval()


@pytest.mark.parametrize("build", [lambda: CifarResNet(20, 1), lambda: MobileNetV2(1, 10)])
def test_folded_batchnorm_computes_the_unfolded_model(build) -> None:
    net = _randomize_batchnorm(build())
    folded = fold_batchnorm(net)
    x = torch.randn(8, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected, found = net(x), folded(x)
    assert torch.allclose(found, expected, atol=1e-5, rtol=1e-5)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in net.modules())  # original untouched
    conv, bn = net.conv1, net.bn1
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    assert torch.allclose(folded.conv1.weight, conv.weight * scale[:, None, None, None])
    assert torch.allclose(folded.conv1.bias, bn.bias - bn.running_mean * scale, atol=1e-6)


# --- dataset readers on tiny files ---------------------------------------------------------


def _idx(path: Path, array: np.ndarray, compress: bool = True) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)


def _load(kind: str, folder: Path, **options: object):
    """`load_dataset` of a `kind` folder, split from seed 0."""
    return load_dataset(
        DatasetSpec(kind, str(folder)),
        fractions=(0.6, 0.2, 0.2),
        seed=0,
        base_dir=folder,
        **options,  # type: ignore[arg-type]
    )


def _idx_folder(folder: Path, n: int = 40, compress: bool = True) -> Path:
    rng = np.random.default_rng(0)
    suffix = ".gz" if compress else ""
    _idx(folder / f"train-images-idx3-ubyte{suffix}", rng.integers(0, 256, (n, 6, 6)), compress)
    _idx(folder / f"train-labels-idx1-ubyte{suffix}", np.arange(n) % 4, compress)
    _idx(folder / f"t10k-images-idx3-ubyte{suffix}", rng.integers(0, 256, (8, 6, 6)), compress)
    _idx(folder / f"t10k-labels-idx1-ubyte{suffix}", np.arange(8) % 4, compress)
    return folder


@pytest.mark.parametrize("compress", [True, False])
def test_idx_folder_keeps_its_test_split_and_carves_validation(
    tmp_path: Path, compress: bool
) -> None:
    folder = _idx_folder(tmp_path, compress=compress)
    data = _load("idx", folder, validation=8)
    assert (len(data.train), len(data.validation), len(data.test)) == (32, 8, 8)
    assert data.validation.y.bincount().tolist() == [2, 2, 2, 2]  # stratified
    assert data.train.x.shape[1:] == (1, 6, 6)
    raw = torch.tensor(np.arange(8) % 4)
    assert torch.equal(data.test.y, raw)
    rule = data.normalization
    assert abs(float(data.train.x.mean())) < 1e-3 and len(rule.mean) == 1
    again = _load("idx", folder, validation=0.2, normalization=Normalization((0.5,), (0.25,)))
    assert len(again.validation) == 8 and again.normalization == Normalization((0.5,), (0.25,))


def test_idx_errors_name_the_file(tmp_path: Path) -> None:
    folder = _idx_folder(tmp_path)
    good = (folder / "t10k-images-idx3-ubyte.gz").read_bytes()
    truncated = gzip.compress(gzip.decompress(good)[:-5])
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(truncated)
    spec = DatasetSpec("idx", str(folder))
    with pytest.raises(WorkloadError, match=r"t10k-images-idx3-ubyte\.gz: IDX data has"):
        load_dataset(spec, fractions=(0.6, 0.2, 0.2), seed=0, base_dir=tmp_path, validation=8)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(WorkloadError, match="cannot read IDX file"):
        load_dataset(spec, fractions=(0.6, 0.2, 0.2), seed=0, base_dir=tmp_path, validation=8)
    _idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros((8, 36), np.uint8))
    with pytest.raises(WorkloadError, match=r"must hold \(N, H, W\) images"):
        load_dataset(spec, fractions=(0.6, 0.2, 0.2), seed=0, base_dir=tmp_path, validation=8)
    (folder / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(WorkloadError, match=r"t10k-images-idx3-ubyte\[\.gz\] not found"):
        load_dataset(spec, fractions=(0.6, 0.2, 0.2), seed=0, base_dir=tmp_path, validation=8)


def _cifar_python(folder: Path, classes: int, n: int = 20) -> Path:
    rng = np.random.default_rng(0)
    key = b"labels" if classes == 10 else b"fine_labels"

    def batch(count: int) -> dict:
        return {
            b"data": rng.integers(0, 256, (count, 3072)).astype(np.uint8),
            key: [i % classes for i in range(count)],
            b"batch_label": b"tiny",
        }

    names = [f"data_batch_{i}" for i in range(1, 6)] if classes == 10 else ["train"]
    for name in names:
        (folder / name).write_bytes(pickle.dumps(batch(n), protocol=2))
    test = "test_batch" if classes == 10 else "test"
    (folder / test).write_bytes(pickle.dumps(batch(n), protocol=4))
    return folder


@pytest.mark.parametrize("classes", [10, 100])
def test_cifar_python_batches(tmp_path: Path, classes: int) -> None:
    folder = _cifar_python(tmp_path, classes, n=200 if classes == 100 else 20)
    kind = "cifar10" if classes == 10 else "cifar100"
    validation = 10 if classes == 10 else 0.5
    data = load_dataset(
        DatasetSpec(kind, str(folder)),
        fractions=(0.6, 0.2, 0.2),
        seed=0,
        base_dir=tmp_path,
        validation=validation,
    )
    assert data.train.x.shape[1:] == (3, 32, 32) and len(data.normalization.mean) == 3
    assert len(data.test) == (20 if classes == 10 else 200)


def test_cifar10_binary_batches(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        labels = (np.arange(10) % 10).astype(np.uint8)[:, None]
        pixels = rng.integers(0, 256, (10, 3072)).astype(np.uint8)
        (tmp_path / name).write_bytes(np.hstack([labels, pixels]).tobytes())
    data = _load("cifar10", tmp_path, validation=10)
    assert (len(data.train), len(data.validation), len(data.test)) == (40, 10, 10)
    (tmp_path / "test_batch.bin").write_bytes(b"\x01" * 100)
    with pytest.raises(WorkloadError, match="not a whole number of 3073-byte"):
        _load("cifar10", tmp_path, validation=10)


class _Hostile:
    """Unpickling this would create a file (os.system / builtins.open)."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):  # noqa: ANN204 - the point of the test
        return (open, (str(self.target), "w"))


def test_a_hostile_cifar_pickle_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    folder = _cifar_python(tmp_path, 10)
    target = tmp_path / "pwned.txt"
    (folder / "test_batch").write_bytes(pickle.dumps({b"data": _Hostile(target)}, protocol=2))
    with pytest.raises(WorkloadError, match=r"test_batch: not a CIFAR batch: refused global"):
        _load("cifar10", folder, validation=10)
    assert not target.exists()
    (folder / "test_batch").write_bytes(pickle.dumps({b"data": 1})[:-3])
    with pytest.raises(WorkloadError, match="truncated"):
        _load("cifar10", folder, validation=10)


def test_unknown_formats_and_missing_paths_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(WorkloadError, match="dataset.format: expected one of"):
        DatasetSpec("mnist")
    with pytest.raises(WorkloadError, match="needs a path"):
        DatasetSpec("cifar10")
    with pytest.raises(WorkloadError, match="dataset not found"):
        load_dataset(
            DatasetSpec("idx", "nowhere"), fractions=(0.6, 0.2, 0.2), seed=0, base_dir=tmp_path
        )


@pytest.mark.skipif(not FASHION_MNIST_DIR.is_dir(), reason="dataset-fashion-mnist not installed")
def test_fashion_mnist_is_the_real_one() -> None:
    data = load_dataset("fashion_mnist", fractions=(0.6, 0.2, 0.2), seed=0, base_dir=Path("."))
    assert (len(data.train), len(data.validation), len(data.test)) == (55_000, 5_000, 10_000)
    assert data.normalization == Normalization((0.2858,), (0.3529,))
    assert data.validation.y.bincount().tolist() == [500] * 10


# --- training: resume and checkpoints ------------------------------------------------------


def _tiny_split() -> DataSplit:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 1, 8, 8, generator=generator)
    return DataSplit(x, (x.mean(dim=(1, 2, 3)) > 0).long())


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(144, 2)
    )


def test_interrupted_training_resumes_to_the_same_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recipe = TrainingRecipe(
        epochs=4, batch_size=16, learning_rate=0.05, optimizer="sgd", augment="crop_flip"
    )
    whole = _net()
    train_model(whole, _tiny_split(), recipe, seed=3, progress=False)

    class Interrupted(Exception):
        pass

    original, calls = torch.optim.SGD.step, {"n": 0}

    def step(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        calls["n"] += 1
        if calls["n"] == 2 * 4 + 1:  # the first step of epoch 3 (4 steps per epoch)
            raise Interrupted
        return original(self, *args, **kwargs)

    state = tmp_path / "state.partial"
    monkeypatch.setattr(torch.optim.SGD, "step", step)
    with pytest.raises(Interrupted):
        train_model(_net(), _tiny_split(), recipe, seed=3, state_file=state, progress=False)
    monkeypatch.setattr(torch.optim.SGD, "step", original)
    assert torch.load(state, weights_only=True)["epochs_done"] == 2
    fresh = _net()  # as in a new process: only the state file survived
    train_model(fresh, _tiny_split(), recipe, seed=3, state_file=state, progress=False)
    for a, b in zip(whole.state_dict().values(), fresh.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_a_corrupt_training_state_is_a_one_line_error(tmp_path: Path) -> None:
    state = tmp_path / "state.partial"
    state.write_bytes(b"garbage")
    with pytest.raises(WorkloadError, match="cannot resume training from it"):
        train_model(
            _net(),
            _tiny_split(),
            TrainingRecipe(epochs=1),
            seed=0,
            state_file=state,
            progress=False,
        )


def test_checkpoints_carry_their_normalization(tmp_path: Path) -> None:
    from evaluators import save_checkpoint

    net = _net()
    path = tmp_path / "net.pt"
    save_checkpoint(net, Normalization((0.1,), (0.2,)), path, split_seed=3, data_fingerprint="ab")
    state, rule, split_seed, fingerprint = read_checkpoint(path)
    assert rule == Normalization((0.1,), (0.2,)) and set(state) == set(net.state_dict())
    assert (split_seed, fingerprint) == (3, "ab")
    torch.save(net.state_dict(), tmp_path / "plain.pt")
    assert read_checkpoint(tmp_path / "plain.pt").normalization is None
    assert read_checkpoint(tmp_path / "plain.pt").split_seed is None
    torch.save({"state_dict": net.state_dict(), "split_seed": "0"}, tmp_path / "bad.pt")
    with pytest.raises(WorkloadError, match="bad.pt: split_seed: expected an integer"):
        read_checkpoint(tmp_path / "bad.pt")
    torch.save({"state_dict": net.state_dict(), "split_seed": -1}, tmp_path / "neg.pt")
    with pytest.raises(WorkloadError, match="neg.pt: split_seed: expected an integer in"):
        read_checkpoint(tmp_path / "neg.pt")


def test_a_checkpoint_keeps_the_split_it_was_trained_on(lenet_workload, tmp_path: Path) -> None:
    """A study of another seed loading trained weights must not validate or test on the
    samples they were trained on: the checkpoint's split seed decides the split."""
    from evaluators import build_workload, save_checkpoint

    trained = lenet_workload.data  # seed 0
    path = tmp_path / "lenet.pt"
    save_checkpoint(lenet_workload.model, trained.normalization, path, split_seed=0)
    other = build_workload("lenet5", "digits", seed=1, checkpoint=str(path)).data
    for split in ("train", "validation", "test"):
        assert torch.equal(getattr(other, split).x, getattr(trained, split).x), split
    assert (
        "its split (seed 0)"
        in build_workload("lenet5", "digits", seed=1, checkpoint=str(path)).description
    )
    torch.save(lenet_workload.model.state_dict(), tmp_path / "plain.pt")
    plain = build_workload("lenet5", "digits", seed=1, checkpoint=str(tmp_path / "plain.pt"))
    assert not torch.equal(plain.data.validation.x, trained.validation.x)  # no record: seed 1


def test_a_checkpoint_on_data_split_otherwise_is_warned(lenet_workload, tmp_path, caplog) -> None:
    from evaluators import build_workload, save_checkpoint

    trained = lenet_workload.data
    path = tmp_path / "lenet.pt"
    save_checkpoint(
        lenet_workload.model,
        trained.normalization,
        path,
        split_seed=0,
        data_fingerprint=trained.fingerprint,
    )
    with caplog.at_level("WARNING", logger="evaluators"):
        build_workload("lenet5", "digits", seed=1, checkpoint=str(path))
        assert not caplog.records  # the same split: nothing to say
        build_workload(
            "lenet5", "digits", seed=0, checkpoint=str(path), fractions=(0.5, 0.25, 0.25)
        )
    assert "are not those it was trained on" in caplog.text


def test_trained_weights_record_the_split_of_the_studys_seed(tmp_path: Path) -> None:
    from evaluators import build_workload

    workload = build_workload(
        "lenet5", "digits", seed=1, training=TrainingRecipe(epochs=1), cache_dir=tmp_path
    )
    held = read_checkpoint(workload.weights_file)
    assert (held.split_seed, held.data_fingerprint) == (1, workload.data.fingerprint)


def test_the_shipped_checkpoint_records_the_split_it_was_trained_on() -> None:
    from evaluators._workload import CHECKPOINT_DIR

    for name in available_checkpoints():
        record = json.loads((CHECKPOINT_DIR / f"{name}.json").read_text())
        assert read_checkpoint(CHECKPOINT_DIR / f"{name}.pt").split_seed == record["seed"]
