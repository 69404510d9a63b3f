"""How a workload's inputs are normalized: one rule, stored with the data and the weights."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from evaluators._errors import WorkloadError


@dataclass(frozen=True)
class Normalization:
    """`x' = (x - mean[c]) / std[c]` per input channel c (empty: inputs kept as read).

    The model is trained on normalized inputs, so the rule travels with its checkpoint, and
    everything that reads inputs (`hardware.input_bits`, the export's test vectors) sees the
    same values the model does.

    Attributes:
        mean: per-channel mean of the raw inputs (raw units: [0, 1] for 8-bit images).
        std: per-channel standard deviation, > 0.

    Example:
        >>> rule = Normalization((0.5,), (0.25,))
        >>> rule.apply(torch.tensor([[[[1.0]]]])).item()
        2.0
    """

    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    version: ClassVar[int] = 1

    def __post_init__(self) -> None:
        if len(self.mean) != len(self.std):
            raise WorkloadError(
                f"normalization: {len(self.mean)} means but {len(self.std)} standard deviations"
            )
        if any(not s > 0 for s in self.std):
            raise WorkloadError(f"normalization.std: must be > 0, got {list(self.std)}")

    @classmethod
    def of(cls, x: torch.Tensor, decimals: int = 4) -> Normalization:
        """The per-channel mean and standard deviation of images `x` (N, C, H, W) or features
        (N, F) taken as one channel, rounded to `decimals` (a rule a person can read and
        write down)."""
        dims = (0, 2, 3) if x.ndim == 4 else tuple(range(x.ndim))
        mean = x.double().mean(dim=dims).reshape(-1).tolist()
        std = x.double().std(dim=dims).reshape(-1).tolist()
        return cls(tuple(round(m, decimals) for m in mean), tuple(round(s, decimals) for s in std))

    @property
    def identity(self) -> bool:
        return not self.mean

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """The normalized inputs (a new tensor; `x` itself when the rule is empty)."""
        if self.identity:
            return x
        shape = (1, -1, 1, 1) if x.ndim == 4 else (1, -1)
        mean = torch.tensor(self.mean, dtype=x.dtype).reshape(shape)
        std = torch.tensor(self.std, dtype=x.dtype).reshape(shape)
        return ((x - mean) / std).contiguous()

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Normalization:
        """Rebuild from `to_dict()` output.

        Raises:
            WorkloadError: a malformed rule.
        """
        try:
            return cls(tuple(map(float, data["mean"])), tuple(map(float, data["std"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise WorkloadError(f"normalization: malformed rule {dict(data)!r}: {exc}") from None
