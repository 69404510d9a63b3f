"""A workload: the float model to approximate and its data, trained once and cached."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import logging
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from evaluators._datasets import Dataset, load_dataset
from evaluators._errors import WorkloadError
from evaluators._models import BUILTIN_MODELS

logger = logging.getLogger(__name__)

APPROXIMABLE = (nn.Conv1d, nn.Conv2d, nn.Linear)
"""Layer types whose weights and outputs a configuration can approximate."""


@dataclass(frozen=True)
class TrainingRecipe:
    """How a model without checkpoint is trained (Adam, cross-entropy, fixed seed)."""

    epochs: int = 60
    batch_size: int = 32
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4


@dataclass(frozen=True, eq=False)
class Workload:
    """The float reference model (eval mode, never modified) and its data splits."""

    model: nn.Module
    data: Dataset
    description: str

    def layers(self) -> dict[str, nn.Module]:
        """The approximable layers, by qualified name, in definition order."""
        return {n: m for n, m in self.model.named_modules() if isinstance(m, APPROXIMABLE)}


def build_workload(
    model: str,
    dataset: str,
    *,
    seed: int,
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
    checkpoint: str | None = None,
    training: TrainingRecipe = TrainingRecipe(),  # noqa: B008 - frozen value
    cache_dir: Path | None = None,
    base_dir: Path = Path("."),
) -> Workload:
    """Load the data, build the model, then load its checkpoint or train it (cached).

    Args:
        model: a built-in name (`lenet5`, `resnet18`) or `package.module:function` returning an
            `nn.Module` (the study file's folder is importable).
        dataset: `digits`, or a .npz/.pt file or image folder (see `load_dataset`).
        seed: fixes the split, the initial weights and the training order.
        fractions: train, validation and test shares.
        checkpoint: a state-dict file, read with `torch.load(weights_only=True)`.
        training: the recipe used when there is no checkpoint.
        cache_dir: where trained weights are kept under a hash of their recipe.
        base_dir: the folder relative paths are taken from.

    Raises:
        WorkloadError: a file is missing or does not fit the model.
    """
    data = load_dataset(dataset, fractions=fractions, seed=seed, base_dir=base_dir)
    torch.manual_seed(seed)
    net = _build_model(model, data, base_dir)
    _check_fits(net, model, data)
    if checkpoint is not None:
        path = Path(checkpoint) if Path(checkpoint).is_absolute() else base_dir / checkpoint
        _load_state(net, path)
        how = f"checkpoint {path}"
    else:
        recipe = {
            "model": model,
            "source": _source_digest(net),
            "data": data.fingerprint,
            "training": asdict(training),
            "seed": seed,
            "torch": torch.__version__.split("+")[0],
        }
        key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]
        cached = None if cache_dir is None else cache_dir / f"{_slug(model)}-{key}.pt"
        if cached is not None and cached.exists():
            _load_state(net, cached)
            how = f"cached weights {cached}"
        else:
            train_model(net, data, training, seed)
            how = "trained"
            if cached is not None:
                tmp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")  # one per worker
                try:
                    cached.parent.mkdir(parents=True, exist_ok=True)
                    torch.save(net.state_dict(), tmp)
                    tmp.replace(cached)
                except OSError as exc:
                    raise WorkloadError(
                        f"{cached.parent}: cannot write the trained-model cache: {exc.strerror}"
                    ) from None
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    logger.info("workload %s on %s: %s", model, dataset, how)
    return Workload(model=net, data=data, description=f"{model} on {dataset} ({how})")


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)[:40]


def _build_model(spec: str, data: Dataset, base_dir: Path) -> nn.Module:
    if spec in BUILTIN_MODELS:
        x = data.train.x
        if spec == "lenet5":
            return BUILTIN_MODELS[spec](
                in_channels=x.shape[1], num_classes=data.num_classes, image_size=x.shape[-1]
            )
        return BUILTIN_MODELS[spec](in_channels=x.shape[1], num_classes=data.num_classes)
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
def _check_fits(net: nn.Module, spec: str, data: Dataset) -> None:
    """One sample through the model, so a shape mismatch is a clear error, not a crash."""
    x = data.train.x[:1]
    try:
        out = net(x)
    except (RuntimeError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WorkloadError(
            f"model {spec!r} does not accept the dataset's inputs of shape "
            f"{tuple(x.shape[1:])}: {first}"
        ) from None
    if out.ndim != 2 or out.shape[1] < data.num_classes:
        raise WorkloadError(
            f"model {spec!r} gives outputs of shape {tuple(out.shape[1:])}, expected one "
            f"logit per class ({data.num_classes})"
        )


def _load_state(net: nn.Module, path: Path) -> None:
    if not path.exists():
        raise WorkloadError(f"{path}: checkpoint not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad file
        raise WorkloadError(f"{path}: cannot read checkpoint: {exc}".splitlines()[0]) from None
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise WorkloadError(f"{path}: expected a state dict, got {type(state).__name__}")
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).splitlines()
        detail = " ".join(line.strip() for line in first[:2])
        raise WorkloadError(f"{path}: checkpoint does not fit the model: {detail}") from None


def train_model(net: nn.Module, data: Dataset, recipe: TrainingRecipe, seed: int) -> None:
    """Train in place with Adam and cross-entropy; deterministic for a seed on one machine."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(
        net.parameters(), lr=recipe.learning_rate, weight_decay=recipe.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, recipe.epochs)
    x, y = data.train.x, data.train.y
    net.train()
    for _ in range(recipe.epochs):
        order = torch.randperm(len(y), generator=generator)
        for start in range(0, len(y), recipe.batch_size):
            idx = order[start : start + recipe.batch_size]
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
        scheduler.step()
    net.eval()
