"""Exact scoring: top-1 accuracy of the approximated model on a data split."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from evaluators._apply import WeightCache, apply
from evaluators._base import Evaluator, Score
from evaluators._datasets import DataSplit

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

    def _data(self) -> DataSplit:
        return self.workload.data.split(self.split).head(self.max_samples)

    @property
    def fidelity(self) -> str:
        """How its scores are obtained: `exact:<split>`, with `:<n>` on a data subset."""
        n = len(self._data())
        return f"exact:{self.split}" + ("" if self.max_samples is None else f":{n}")

    def score(self, configuration: Configuration) -> Score:
        model = apply(self.workload.model, configuration, self._cache)
        return self._accuracy(model)

    def reference(self) -> Score:
        """The float model's accuracy on the same samples."""
        return self._accuracy(self.workload.model)

    def _accuracy(self, model: torch.nn.Module) -> Score:
        data = self._data()
        correct = int((predict(model, data.x, self.batch_size).argmax(dim=1) == data.y).sum())
        n = len(data)
        return Score(accuracy=correct / n, fidelity=self.fidelity, samples=n)


@torch.inference_mode()
def predict(model: torch.nn.Module, x: torch.Tensor, batch_size: int) -> torch.Tensor:
    """The model's outputs on `x`, computed `batch_size` samples at a time."""
    return torch.cat([model(x[s : s + batch_size]) for s in range(0, len(x), batch_size)])
