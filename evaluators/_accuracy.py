"""Exact scoring: top-1 accuracy of the approximated model on a data split."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import torch

from evaluators._apply import WeightCache, apply
from evaluators._base import Evaluator, Score
from evaluators._datasets import DataSplit
from evaluators._errors import EvaluationError
from evaluators._prefix import PrefixCache

if TYPE_CHECKING:
    from evaluators._configuration import Configuration
    from evaluators._workload import Workload

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str) -> torch.device:
    """`cpu`, `cuda`, or `auto` (CUDA when present, else the CPU).

    Raises:
        EvaluationError: an unknown name, or `cuda` without a CUDA device.
    """
    if device not in DEVICES:
        raise EvaluationError(f"device: expected one of {DEVICES}, got {device!r}")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise EvaluationError("device: 'cuda' asked for, but torch sees no CUDA device")
    return torch.device(device)


@contextlib.contextmanager
def exact_float32() -> Iterator[None]:
    """Float32 matrix products and convolutions computed in float32, not TF32 (whose 10-bit
    mantissa on Ampere and later GPUs would change what a format claims), restored after."""
    matmul = torch.backends.cuda.matmul.allow_tf32
    cudnn = torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = matmul
        torch.backends.cudnn.allow_tf32 = cudnn


class AccuracyEvaluator(Evaluator):
    """Top-1 accuracy of `apply(model, configuration)` on one split, bit-true.

    The float model's activations before the first layer a configuration changes are cached
    per batch (`PrefixCache`, within `cache_mb`): a configuration that changes a late layer
    only computes the rest of the network. Scores are the same with or without the cache (a
    model that cannot be traced by `torch.fx`, or that computes in place, runs without it).

    Args:
        workload: the float model and its data.
        split: `validation` during a search, `test` for the final report.
        batch_size: samples per forward pass.
        max_samples: score only the first samples of the split (a cheap fidelity level).
        cache_mb: memory for cached float activations (MiB; 0 turns the cache off).
        device: `cpu`, `cuda` or `auto` (CUDA when present).
    """

    def __init__(
        self,
        workload: Workload,
        *,
        split: str = "validation",
        batch_size: int = 1024,
        max_samples: int | None = None,
        cache_mb: int = 1024,
        device: str = "cpu",
    ) -> None:
        self.workload = workload
        self.split = split
        self.batch_size = batch_size
        self.max_samples = max_samples
        self.cache_mb = cache_mb
        self.device = device
        self._cache = WeightCache()
        self._prefix: PrefixCache | None = None
        self._placed: tuple[torch.nn.Module, DataSplit] | None = None

    def _data(self) -> DataSplit:
        return self.workload.data.split(self.split).head(self.max_samples)

    @property
    def fidelity(self) -> str:
        """How its scores are obtained: `exact:<split>`, with `:<n>` on a data subset."""
        n = len(self._data())
        return f"exact:{self.split}" + ("" if self.max_samples is None else f":{n}")

    def _on_device(self) -> tuple[torch.nn.Module, DataSplit]:
        """The float model and the scored samples on the evaluator's device (moved once)."""
        if self._placed is None:
            device = resolve_device(self.device)
            data = self._data()
            model = self.workload.model
            if device.type != "cpu":
                import copy

                model = copy.deepcopy(model).to(device)
                data = DataSplit(data.x.to(device), data.y.to(device))
            self._placed = (model, data)
        return self._placed

    def score(self, configuration: Configuration) -> Score:
        return self._score(self.predictions(configuration))

    def reference(self) -> Score:
        """The float model's accuracy on the same samples."""
        return self._score(self.predictions())

    def predictions(self, configuration: Configuration | None = None) -> torch.Tensor:
        """The top-1 class predicted for every scored sample, in the split's order.

        Beside `labels`, it gives per-sample correctness, which a paired comparison of two
        configurations on the same samples needs (e.g. the standard error of an accuracy loss
        against the float model, from the samples on which the two disagree).

        Each call is a full forward pass over the scored samples (the float prefix cache
        and the approximated weights are reused, the predictions are not stored).

        Args:
            configuration: the formats to apply; None scores the float model.

        Returns:
            Class indices, shape (n,), int64, on the CPU; n is `len(labels)`.

        Raises:
            EvaluationError: the evaluator's device is unknown or absent.
            WorkloadError: the workload has no such split.
        """
        model, data = self._on_device()
        if configuration is None:

            def forward(x: torch.Tensor, _start: int) -> torch.Tensor:
                return model(x)

        else:
            approximated = apply(model, configuration, self._cache)
            if self._prefix is None:
                self._prefix = PrefixCache(model, max_bytes=self.cache_mb << 20)

            def forward(x: torch.Tensor, start: int) -> torch.Tensor:
                assert self._prefix is not None
                return self._prefix.run(approximated, configuration, x, key=start)

        predicted = []
        with torch.inference_mode(), exact_float32():
            for start in range(0, len(data), self.batch_size):
                logits = forward(data.x[start : start + self.batch_size], start)
                predicted.append(logits.argmax(dim=1).cpu())
        return torch.cat(predicted) if predicted else torch.empty(0, dtype=torch.int64)

    @property
    def labels(self) -> torch.Tensor:
        """The true class of every scored sample, shape (n,), on the CPU (int64 for the
        built-in datasets); the workload's own tensor when it is there: read it, do not
        modify it.

        Raises:
            WorkloadError: the workload has no such split.
        """
        return self._data().y.cpu()

    def _score(self, predicted: torch.Tensor) -> Score:
        n = len(predicted)
        correct = int((predicted == self.labels).sum())
        return Score(accuracy=correct / n, fidelity=self.fidelity, samples=n)


@torch.inference_mode()
def predict(model: torch.nn.Module, x: torch.Tensor, batch_size: int) -> torch.Tensor:
    """The model's outputs on `x`, computed `batch_size` samples at a time."""
    with exact_float32():
        return torch.cat([model(x[s : s + batch_size]) for s in range(0, len(x), batch_size)])
