"""Training a workload's float model: a fixed recipe, a seed, resumable epoch by epoch."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from evaluators._errors import WorkloadError

if TYPE_CHECKING:
    from evaluators._datasets import DataSplit

logger = logging.getLogger(__name__)

OPTIMIZERS = ("adam", "sgd")
AUGMENTATIONS = ("none", "crop_flip")


@dataclass(frozen=True)
class TrainingRecipe:
    """How a model without checkpoint is trained (cross-entropy, cosine learning rate).

    Attributes:
        epochs: passes over the training split.
        batch_size: samples per step.
        learning_rate: initial rate, annealed to 0 by a cosine over the epochs.
        weight_decay: L2 penalty (decoupled from Adam's moments it is not: torch's `Adam`).
        optimizer: `adam` or `sgd` (Nesterov momentum, the usual ResNet recipe).
        momentum: SGD momentum (ignored by Adam).
        augment: `none`, or `crop_flip`: a random crop after zero padding by 1/8 of the
            side, and a horizontal flip with probability 1/2 (He et al., 2016, section 4.2).
    """

    epochs: int = 60
    batch_size: int = 32
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    optimizer: str = "adam"
    momentum: float = 0.9
    augment: str = "none"

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise WorkloadError(
                f"training.optimizer: expected one of {OPTIMIZERS}, got {self.optimizer!r}"
            )
        if self.augment not in AUGMENTATIONS:
            raise WorkloadError(
                f"training.augment: expected one of {AUGMENTATIONS}, got {self.augment!r}"
            )


def _optimizer(net: nn.Module, recipe: TrainingRecipe) -> torch.optim.Optimizer:
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(
            net.parameters(),
            lr=recipe.learning_rate,
            momentum=recipe.momentum,
            weight_decay=recipe.weight_decay,
            nesterov=recipe.momentum > 0,
        )
    return torch.optim.Adam(
        net.parameters(), lr=recipe.learning_rate, weight_decay=recipe.weight_decay
    )


def crop_flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A random shifted crop (zero padding of side // 8) and a random horizontal flip per
    image of a batch `x` (N, C, H, W); the same shape back."""
    n, _, h, w = x.shape
    pad = max(1, h // 8)
    padded = nn.functional.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    flip = torch.rand(n, generator=generator) < 0.5
    rows = (dy[:, None] + torch.arange(h)[None, :])[:, None, :, None]
    cols = torch.arange(w)[None, :].expand(n, w)
    cols = torch.where(flip[:, None], cols.flip(1), cols) + dx[:, None]
    out = padded.gather(2, rows.expand(n, x.shape[1], h, padded.shape[3]))
    return out.gather(3, cols[:, None, None, :].expand(n, x.shape[1], h, w))


def train_model(
    net: nn.Module,
    train: DataSplit,
    recipe: TrainingRecipe,
    seed: int,
    *,
    state_file: Path | None = None,
    device: torch.device | str = "cpu",
    progress: bool | None = None,
) -> None:
    """Train `net` in place; deterministic for a seed on one machine and device.

    With `state_file`, the model, optimizer, schedule and random stream are written there
    (atomically, by rename) after every epoch, and a training interrupted after epoch k
    resumes at epoch k + 1 with the same numbers as if it had never stopped.

    Args:
        net: the model, with its initial weights.
        train: the training split.
        recipe: the optimizer, schedule and augmentation.
        seed: fixes the order of samples and the augmentation.
        state_file: where the resumable training state lives (removed by the caller).
        device: where to compute (`cuda` when present is much faster).
        progress: show a progress bar (None: only on a terminal).

    Raises:
        WorkloadError: `state_file` exists but cannot be read or belongs to another model.
    """
    from tqdm import tqdm

    device = torch.device(device)
    generator = torch.Generator().manual_seed(seed)
    net.to(device)
    optimizer = _optimizer(net, recipe)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, recipe.epochs)
    first = 0
    if state_file is not None and state_file.exists():
        first = _resume(state_file, net, optimizer, scheduler, generator)
        logger.info(
            "%s: resuming training at epoch %d of %d", state_file, first + 1, recipe.epochs
        )
    x, y = train.x, train.y
    steps = -(-len(y) // recipe.batch_size)
    net.train()
    with tqdm(
        total=recipe.epochs * steps,
        initial=first * steps,
        desc="training",
        unit="step",
        disable=True if progress is False else None,
        leave=False,
    ) as bar:
        for epoch in range(first, recipe.epochs):
            order = torch.randperm(len(y), generator=generator)
            total_loss = 0.0
            for start in range(0, len(y), recipe.batch_size):
                idx = order[start : start + recipe.batch_size]
                xb = x[idx]
                if recipe.augment == "crop_flip":
                    xb = crop_flip(xb, generator)
                optimizer.zero_grad()
                loss = nn.functional.cross_entropy(net(xb.to(device)), y[idx].to(device))
                loss.backward()
                optimizer.step()
                total_loss += float(loss.detach()) * len(idx)
                bar.update(1)
            scheduler.step()
            bar.set_postfix(epoch=epoch + 1, loss=f"{total_loss / len(y):.4f}")
            logger.info("epoch %d/%d: loss %.4f", epoch + 1, recipe.epochs, total_loss / len(y))
            if state_file is not None:
                _save_state(state_file, epoch + 1, net, optimizer, scheduler, generator)
    net.eval()
    net.to("cpu")


def _save_state(
    path: Path,
    epochs_done: int,
    net: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    generator: torch.Generator,
) -> None:
    state = {
        "epochs_done": epochs_done,
        "model": net.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "generator": generator.get_state(),
    }
    save_atomic(state, path)


def save_atomic(obj: Any, path: Path) -> None:
    """`torch.save` to a temporary file beside `path`, synced, then renamed: readers (other
    workers, on any host sharing the folder) never see a partial file, and a crash keeps the
    previous one.

    The temporary name holds the host, the process and a random token, so writers on several
    hosts of a shared file system (which may share process ids) never write one file; the
    rename is atomic on local and NFS file systems, and no file lock is needed.

    Raises:
        WorkloadError: the folder cannot be written.
    """
    tmp = path.with_name(f".{path.name}.{unique_suffix()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as handle:
            torch.save(obj, handle)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WorkloadError(f"{path}: cannot write: {exc.strerror}") from None


def unique_suffix() -> str:
    """`<host>.<pid>.<random>`: a temporary file name part no other writer uses, also on
    another host of a shared file system."""
    import socket
    import uuid

    return f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:8]}"


def _resume(
    path: Path,
    net: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    generator: torch.Generator,
) -> int:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        net.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])
        return int(state["epochs_done"])
    except Exception as exc:  # noqa: BLE001 - any unreadable state is one error
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WorkloadError(
            f"{path}: cannot resume training from it ({reason}); delete it to start over"
        ) from None
