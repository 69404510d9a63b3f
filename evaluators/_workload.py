"""A workload: the float model to approximate and its data, trained once and cached."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import logging
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

from evaluators._blocks import Add
from evaluators._datasets import Dataset, DatasetSpec, load_dataset
from evaluators._errors import WorkloadError
from evaluators._folding import fold_batchnorm
from evaluators._models import BUILTIN_MODELS
from evaluators._normalization import Normalization
from evaluators._training import TrainingRecipe, save_atomic, train_model

logger = logging.getLogger(__name__)

APPROXIMABLE = (nn.Conv1d, nn.Conv2d, nn.Linear)
"""Layer types whose weights and outputs a configuration can approximate."""

STORED = (
    *APPROXIMABLE,
    Add,
    nn.AvgPool1d,
    nn.AvgPool2d,
    nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d,
)
"""Module types whose output an accelerator stores in a format of its own: the layers with
weights, residual additions and average pooling (a max pooling or a ReLU keeps its input's
values, so its input's format)."""


@dataclass(frozen=True, eq=False)
class Workload:
    """The float reference model (eval mode, never modified) and its data splits.

    Attributes:
        model: the float model as the accelerator computes it (BatchNorm folded).
        data: its splits, inputs normalized.
        description: one line: model, data and where the weights came from.
        weights_file: the checkpoint or cache file of the trained (unfolded) weights, with
            their normalization; None for a model given in memory.
    """

    model: nn.Module
    data: Dataset
    description: str
    weights_file: Path | None = None

    def layers(self) -> dict[str, nn.Module]:
        """The approximable layers (with weights), by qualified name, in definition order."""
        return {n: m for n, m in self.model.named_modules() if isinstance(m, APPROXIMABLE)}

    def outputs(self) -> dict[str, nn.Module]:
        """Every module whose output may take a format (`STORED`: the approximable layers,
        residual additions, average pooling), by qualified name, in definition order."""
        return {n: m for n, m in self.model.named_modules() if isinstance(m, STORED)}


def build_workload(
    model: str,
    dataset: str | DatasetSpec,
    *,
    seed: int,
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
    validation: int | float = 5000,
    checkpoint: str | None = None,
    training: TrainingRecipe = TrainingRecipe(),  # noqa: B008 - frozen value
    cache_dir: Path | None = None,
    base_dir: Path = Path("."),
    fold: bool = True,
    device: str = "cpu",
    progress: bool | None = None,
) -> Workload:
    """Load the data, build the model, then load its checkpoint or train it (cached).

    Args:
        model: a built-in name (`BUILTIN_MODELS`) or `package.module:function` returning an
            `nn.Module` (the study file's folder is importable).
        dataset: a built-in name, a file or folder, or a `DatasetSpec` (see `load_dataset`).
        seed: fixes the split, the initial weights and the training order; a checkpoint
            that records the seed of the split it was trained on (as dse writes them) is
            given that split instead, so that its training samples stay out of validation
            and test whatever the study's seed.
        fractions: train, validation and test shares (datasets without a test split).
        validation: samples (or a fraction) carved from train for datasets with a test split.
        checkpoint: a state-dict file, read with `torch.load(weights_only=True)`, or the
            name of a checkpoint shipped with dse (`available_checkpoints()`). A checkpoint
            written by dse carries the input normalization it was trained with, which the
            data then get.
        training: the recipe used when there is no checkpoint.
        cache_dir: where trained weights are kept under a hash of their recipe; an
            interrupted training resumes from its last finished epoch.
        base_dir: the folder relative paths are taken from.
        fold: fold every BatchNorm into the layer before it (`fold_batchnorm`), as the
            accelerator computes; the model is trained and checkpointed unfolded.
        device: where training computes (`cpu` or `cuda`).
        progress: show training progress (None: only on a terminal).

    Raises:
        WorkloadError: a file is missing or does not fit the model.
    """
    state, rule, source, split_seed, trained_data = None, None, None, seed, None
    if checkpoint is not None:
        source = resolve_checkpoint(checkpoint, base_dir)
        state, rule, trained_on, trained_data = read_checkpoint(source)
        if trained_on is not None and trained_on != seed:
            logger.info(
                "%s was trained on the split of seed %d: the data are split by it, not by "
                "the study's seed %d",
                source,
                trained_on,
                seed,
            )
            split_seed = trained_on
    data = load_dataset(
        dataset,
        fractions=fractions,
        seed=split_seed,
        base_dir=base_dir,
        validation=validation,
        normalization=rule,
    )
    if trained_data is not None and data.fingerprint != trained_data:
        logger.warning(
            "%s: the data (fingerprint %s) are not those it was trained on (%s): validation "
            "and test may hold samples it was trained on (check workload.validation and "
            "workload.splits against its own)",
            source,
            data.fingerprint,
            trained_data,
        )
    torch.manual_seed(seed)
    net = _build_model(model, data, base_dir)
    check_fits(net, model, data)
    weights_file = source
    if state is not None:
        _load_state(net, state, source)
        how = f"checkpoint {source}"
        if split_seed != seed:
            how += f", its split (seed {split_seed})"
    else:
        recipe = {
            "model": model,
            "source": _source_digest(net),
            "data": data.fingerprint,
            "normalization": data.normalization.to_dict(),
            "training": asdict(training),
            "seed": seed,
            "torch": torch.__version__.split("+")[0],
        }
        key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]
        cached = None if cache_dir is None else cache_dir / f"{_slug(model)}-{key}.pt"
        if cache_dir is not None:
            try:  # before training, not after hours of it
                cache_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise WorkloadError(
                    f"{cache_dir}: cannot write the trained-model cache: {exc.strerror}"
                ) from None
        weights_file = cached
        if cached is not None and cached.exists():
            state = read_checkpoint(cached).state_dict
            _load_state(net, state, cached)
            how = f"cached weights {cached}"
        else:
            partial = None if cached is None else cached.with_suffix(".partial")
            train_model(
                net,
                data.train,
                training,
                seed,
                state_file=partial,
                device=device,
                progress=progress,
            )
            how = "trained"
            if cached is not None:
                save_checkpoint(
                    net,
                    data.normalization,
                    cached,
                    split_seed=seed,
                    data_fingerprint=data.fingerprint,
                )
                if partial is not None:
                    partial.unlink(missing_ok=True)
    net.eval()
    if fold and any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules()):
        net = fold_batchnorm(net)
        how += ", BatchNorm folded"
    for p in net.parameters():
        p.requires_grad_(False)
    name = dataset.format if isinstance(dataset, DatasetSpec) else dataset
    logger.info("workload %s on %s: %s", model, name, how)
    return Workload(net, data, f"{model} on {name} ({how})", weights_file)


CHECKPOINT_DIR = Path(__file__).parent / "data" / "checkpoints"
"""Checkpoints shipped with dse (package data), each with a `<name>.json` provenance file."""


def available_checkpoints() -> tuple[str, ...]:
    """Names of the checkpoints shipped with dse."""
    return tuple(sorted(p.stem for p in CHECKPOINT_DIR.glob("*.pt")))


def resolve_checkpoint(checkpoint: str, base_dir: Path) -> Path:
    """The file a study's `checkpoint` names: a path (relative to `base_dir`), or a shipped
    checkpoint's name.

    Raises:
        WorkloadError: neither a file nor a shipped name.
    """
    path = Path(checkpoint) if Path(checkpoint).is_absolute() else base_dir / checkpoint
    if path.exists():
        return path
    if checkpoint in available_checkpoints():
        return CHECKPOINT_DIR / f"{checkpoint}.pt"
    shipped = ", ".join(available_checkpoints()) or "none"
    raise WorkloadError(f"{path}: checkpoint not found (shipped checkpoints: {shipped})")


class Checkpoint(NamedTuple):
    """What a checkpoint file holds.

    Attributes:
        state_dict: the model's parameters and buffers (unfolded), by name.
        normalization: the input normalization it was trained with; None when not recorded.
        split_seed: the seed of the data split it was trained on (its validation and test
            samples are the ones it never saw); None when not recorded (a plain state dict,
            or one written before dse recorded it).
        data_fingerprint: `Dataset.fingerprint` of the data it was trained with (content and
            split); None when not recorded.
    """

    state_dict: dict[str, torch.Tensor]
    normalization: Normalization | None
    split_seed: int | None
    data_fingerprint: str | None


def save_checkpoint(
    weights: nn.Module | dict[str, torch.Tensor],
    normalization: Normalization,
    path: Path,
    *,
    split_seed: int | None = None,
    data_fingerprint: str | None = None,
) -> None:
    """Write a checkpoint atomically (by rename): the weights, their input normalization and,
    when known, the data split they were trained on.

    Args:
        weights: the model (unfolded, as trained) or its state dict.
        normalization: the input normalization it was trained with.
        path: the file to write.
        split_seed: the seed of the split it was trained on; a study loading the file is
            split by it.
        data_fingerprint: `Dataset.fingerprint` of its data; a study on other data (or
            split otherwise) is warned.

    Raises:
        OSError: the file cannot be written.
    """
    state = weights.state_dict() if isinstance(weights, nn.Module) else weights
    content: dict[str, object] = {"state_dict": state, "normalization": normalization.to_dict()}
    if split_seed is not None:
        content["split_seed"] = int(split_seed)
    if data_fingerprint is not None:
        content["data_fingerprint"] = str(data_fingerprint)
    save_atomic(content, path)


def read_checkpoint(path: Path) -> Checkpoint:
    """What a checkpoint file holds: a plain state dict, or `{"state_dict": ...,
    "normalization": ..., "split_seed": ..., "data_fingerprint": ...}` as dse writes (all but
    the first optional).

    Returns:
        A `Checkpoint`; what the file does not record is None.

    Raises:
        WorkloadError: the file is missing, not a state dict, or its split seed is not an
            integer in 0..2**31-1 (the study seed's range).
    """
    if not path.exists():
        raise WorkloadError(f"{path}: checkpoint not found")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad file
        raise WorkloadError(f"{path}: cannot read checkpoint: {exc}".splitlines()[0]) from None
    rule, split_seed, fingerprint = None, None, None
    if isinstance(data, dict) and "state_dict" in data:
        if data.get("normalization") is not None:
            rule = Normalization.from_dict(data["normalization"])
        split_seed = data.get("split_seed")
        if split_seed is not None and (
            isinstance(split_seed, bool)
            or not isinstance(split_seed, int)
            or not 0 <= split_seed < 2**31
        ):
            raise WorkloadError(
                f"{path}: split_seed: expected an integer in 0..2**31-1, got {split_seed!r}"
            )
        if data.get("data_fingerprint") is not None:
            fingerprint = str(data["data_fingerprint"])
        data = data["state_dict"]
    if not isinstance(data, dict):
        raise WorkloadError(f"{path}: expected a state dict, got {type(data).__name__}")
    return Checkpoint(data, rule, split_seed, fingerprint)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)[:40]


def _build_model(spec: str, data: Dataset, base_dir: Path) -> nn.Module:
    if spec in BUILTIN_MODELS:
        x = data.train.x
        return BUILTIN_MODELS[spec](x.shape[1], data.num_classes, x.shape[-1])
    if ":" not in spec:
        raise WorkloadError(
            f"model {spec!r}: expected a built-in name ({', '.join(BUILTIN_MODELS)}) "
            "or 'package.module:function'"
        )
    module_name, _, func_name = spec.partition(":")
    added = str(base_dir.resolve())
    sys.path.insert(0, added)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise WorkloadError(f"model {spec!r}: cannot import {module_name!r}: {exc}") from None
    finally:
        sys.path.remove(added)
    factory = getattr(module, func_name, None)
    if not callable(factory):
        raise WorkloadError(f"model {spec!r}: {module_name} has no callable {func_name!r}")
    net = factory()
    if not isinstance(net, nn.Module):
        raise WorkloadError(f"model {spec!r}: returned {type(net).__name__}, not a torch module")
    return net


def _source_digest(net: nn.Module) -> str:
    """Hash of the source file defining the model's class: edited code is retrained."""
    try:
        source = inspect.getsource(sys.modules[type(net).__module__])
    except (OSError, TypeError, KeyError):
        return "unknown"
    return hashlib.sha256(source.encode()).hexdigest()[:16]


@torch.inference_mode()
def check_fits(net: nn.Module, spec: str, data: Dataset) -> None:
    """One sample through the model, so a shape mismatch is a clear error, not a crash.

    Runs in eval mode (restored after), so BatchNorm statistics are left as they were.

    Raises:
        WorkloadError: the model rejects the inputs, or gives fewer logits than classes.
    """
    x = data.train.x[:1]
    training = net.training
    net.eval()
    try:
        out = net(x)
    except (RuntimeError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WorkloadError(
            f"model {spec!r} does not accept the dataset's inputs of shape "
            f"{tuple(x.shape[1:])}: {first}"
        ) from None
    finally:
        net.train(training)
    if out.ndim != 2 or out.shape[1] < data.num_classes:
        raise WorkloadError(
            f"model {spec!r} gives outputs of shape {tuple(out.shape[1:])}, expected one "
            f"logit per class ({data.num_classes})"
        )


def _load_state(net: nn.Module, state: dict[str, torch.Tensor], path: Path | None) -> None:
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).splitlines()
        detail = " ".join(line.strip() for line in first[:2])
        raise WorkloadError(f"{path}: checkpoint does not fit the model: {detail}") from None
