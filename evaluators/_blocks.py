"""Parameter-free modules that give every tensor an accelerator stores a stable module name.

A residual addition written `a + b` inside `forward` has no name: no hook sees it, no study
pattern can choose its format, no export can find it. Written as `self.add(a, b)` with an
`Add` module, its output is the module `layer1.0.add`, which the search space, the evaluators,
the hardware model and the export all name alike.
"""

from __future__ import annotations

import torch
from torch import nn


class Add(nn.Module):
    """Element-wise sum of two tensors of one shape (a residual connection).

    Example:
        >>> Add()(torch.ones(2), torch.ones(2)).tolist()
        [2.0, 2.0]
    """

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a + b
