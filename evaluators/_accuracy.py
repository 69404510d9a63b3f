"""Exact scoring: top-1 accuracy of the approximated model on a data split."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from evaluators._apply import WeightCache, apply
from evaluators._base import Evaluator, Score

if TYPE_CHECKING:
    from evaluators._configuration import Configuration
    from evaluators._workload import Workload


class AccuracyEvaluator(Evaluator):
    """Top-1 accuracy of `apply(model, configuration)` on one split, bit-true.

    Args:
        workload: the float model and its data.
        split: `validation` during a search, `test` for the final report.
        batch_size: samples per forward pass.
        max_samples: score only the first samples of the split (a cheap fidelity level).
    """

    def __init__(
        self,
        workload: Workload,
        *,
        split: str = "validation",
        batch_size: int = 1024,
        max_samples: int | None = None,
    ) -> None:
        self.workload = workload
        self.split = split
        self.batch_size = batch_size
        self.max_samples = max_samples
        self._cache = WeightCache()

    def _data(self) -> tuple[torch.Tensor, torch.Tensor]:
        data = self.workload.data.split(self.split)
        n = len(data) if self.max_samples is None else min(self.max_samples, len(data))
        return data.x[:n], data.y[:n]

    def score(self, configuration: Configuration) -> Score:
        model = apply(self.workload.model, configuration, self._cache)
        return self._accuracy(model)

    def reference(self) -> Score:
        """The float model's accuracy on the same samples."""
        return self._accuracy(self.workload.model)

    @torch.inference_mode()
    def _accuracy(self, model: torch.nn.Module) -> Score:
        x, y = self._data()
        correct = 0
        for start in range(0, len(y), self.batch_size):
            logits = model(x[start : start + self.batch_size])
            correct += int((logits.argmax(dim=1) == y[start : start + self.batch_size]).sum())
        fidelity = f"exact:{self.split}" + ("" if self.max_samples is None else f":{len(y)}")
        return Score(accuracy=correct / len(y), fidelity=fidelity, samples=len(y))
