"""Per-layer sensitivity: each layer approximated alone, measured once per choice and cached.

Approximation errors of different layers add up roughly independently as long as each is
small, so the damage of a configuration is well predicted by the sum of what each of its
layer choices does alone. A profile holds, for every (layer, choice) measured, the accuracy
of the model with only that layer approximated and the KL divergence of its outputs to the
float model's; the KL sees every change of the output distribution, where the accuracy only
sees flipped decisions, so it ranks small approximations far better.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from evaluators._accuracy import exact_float32, predict
from evaluators._apply import WeightCache, apply
from evaluators._configuration import Configuration, LayerConfig
from evaluators._datasets import DataSplit
from evaluators._errors import ProxyError
from evaluators._prefix import PrefixCache
from evaluators._proxy import Proxy, register_proxy

if TYPE_CHECKING:
    from evaluators._workload import Workload

__all__ = [
    "LayerSensitivity",
    "SensitivityAccuracyProxy",
    "SensitivityProfile",
    "SensitivityProxy",
]


@dataclass(frozen=True)
class LayerSensitivity:
    """One layer approximated alone.

    Attributes:
        layer: the layer's qualified name.
        config: its formats.
        accuracy: top-1 accuracy of the model with only this layer approximated.
        accuracy_drop: the float model's accuracy minus `accuracy` (may be negative).
        kl: mean KL divergence (nats) of the float model's output distribution to this one's.
    """

    layer: str
    config: LayerConfig
    accuracy: float
    accuracy_drop: float
    kl: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "config": self.config.to_dict(),
            "accuracy": self.accuracy,
            "accuracy_drop": self.accuracy_drop,
            "kl": self.kl,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LayerSensitivity:
        return cls(
            layer=str(data["layer"]),
            config=LayerConfig.from_dict(data["config"]),
            accuracy=float(data["accuracy"]),
            accuracy_drop=float(data["accuracy_drop"]),
            kl=float(data["kl"]),
        )


class SensitivityProfile:
    """Measures and caches `LayerSensitivity` per (layer, choice) on one data split.

    Args:
        workload: the float model and its data.
        split: the split measured on (`validation`, as the exact scores a study compares to).
        batch_size: samples per forward pass.
        max_samples: measure on the first samples only.
        cache_mb: memory for the float activations shared by the layers' measurements (MiB).

    Example:
        >>> profile = SensitivityProfile(workload)  # doctest: +SKIP
        >>> profile.measure("fc1", LayerConfig(WeightSharing(4))).kl  # doctest: +SKIP
        0.0123
    """

    version: ClassVar[int] = 1

    def __init__(
        self,
        workload: Workload,
        *,
        split: str = "validation",
        batch_size: int = 1024,
        max_samples: int | None = None,
        cache_mb: int = 1024,
    ) -> None:
        self.workload = workload
        self.split = split
        self.batch_size = batch_size
        self.max_samples = max_samples
        self.cache_mb = cache_mb
        self._prefix: PrefixCache | None = None
        self._entries: dict[Hashable, LayerSensitivity] = {}
        self._reference: tuple[torch.Tensor, float] | None = None
        self._cache = WeightCache()
        self.measured_ = 0

    def _data(self) -> DataSplit:
        return self.workload.data.split(self.split).head(self.max_samples)

    def _logits(self, model: torch.nn.Module) -> torch.Tensor:
        return predict(model, self._data().x, self.batch_size).double()

    def _float(self) -> tuple[torch.Tensor, float]:
        """Log-probabilities and accuracy of the float model, computed once."""
        if self._reference is None:
            logits = self._logits(self.workload.model)
            y = self._data().y
            accuracy = float((logits.argmax(dim=1) == y).double().mean())
            self._reference = (torch.log_softmax(logits, dim=1), accuracy)
        return self._reference

    def fingerprint(self) -> str:
        """Hash of the model's weights and the measured samples: a cache is valid for it."""
        digest = hashlib.sha256()
        for name, tensor in sorted(self.workload.model.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        data = self._data()
        digest.update(f"{self.split}:{len(data)}".encode())
        digest.update(data.x.contiguous().numpy().tobytes())
        return digest.hexdigest()[:16]

    def measure(self, layer: str, config: LayerConfig) -> LayerSensitivity:
        """The sensitivity of `layer` under `config`, measured on first use only."""
        key = (layer, config)
        hit = self._entries.get(key)
        if hit is not None:
            return hit
        reference, accuracy = self._float()
        configuration = Configuration.of({layer: config})
        model = apply(self.workload.model, configuration, self._cache)
        if self._prefix is None:  # one layer at a time: the float prefix is shared
            self._prefix = PrefixCache(self.workload.model, max_bytes=self.cache_mb << 20)
        x = self._data().x
        with torch.inference_mode(), exact_float32():
            logits = torch.cat(
                [
                    self._prefix.run(model, configuration, x[s : s + self.batch_size], key=s)
                    for s in range(0, len(x), self.batch_size)
                ]
            ).double()
        approx = float((logits.argmax(dim=1) == self._data().y).double().mean())
        log_q = torch.log_softmax(logits, dim=1)
        kl = float(torch.sum(reference.exp() * (reference - log_q), dim=1).mean())
        hit = LayerSensitivity(layer, config, approx, accuracy - approx, max(kl, 0.0))
        self._entries[key] = hit
        self.measured_ += 1
        return hit

    def entries(self) -> list[LayerSensitivity]:
        """Every measured entry, in measurement (or load) order."""
        return list(self._entries.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON data with the fingerprint it is valid for; inverse of `load`."""
        return {
            "version": self.version,
            "fingerprint": self.fingerprint(),
            "split": self.split,
            "entries": [e.to_dict() for e in self._entries.values()],
        }

    def load(self, data: Mapping[str, Any]) -> SensitivityProfile:
        """Add the entries of a saved profile, when it was measured on the same model and data.

        Returns:
            self; a profile of another model, split or version is ignored (it would mislead).
        """
        if (
            data.get("version") == self.version
            and data.get("split") == self.split
            and data.get("fingerprint") == self.fingerprint()
        ):
            for item in data.get("entries", ()):
                entry = LayerSensitivity.from_dict(item)
                self._entries.setdefault((entry.layer, entry.config), entry)
        return self


class _SumOfLayers(Proxy):
    """A sum over the configuration's layers of one field of their sensitivity."""

    field: ClassVar[str] = ""

    def __init__(
        self,
        workload: Workload,
        *,
        calibration_samples: int = 256,
        profile: SensitivityProfile | None = None,
    ) -> None:
        super().__init__(workload, calibration_samples=calibration_samples)
        if profile is not None and profile.workload is not workload:
            raise ProxyError(f"proxy {self.name!r}: profile: measured on another workload")
        self.profile = profile if profile is not None else SensitivityProfile(workload)

    def value(self, configuration: Configuration) -> float:
        measure = self.profile.measure
        return float(sum(getattr(measure(n, c), self.field) for n, c in configuration.layers))


@register_proxy("sensitivity")
class SensitivityProxy(_SumOfLayers):
    """Sum over layers of the KL divergence each layer choice causes alone (nats).

    Args:
        workload: the float model and its data.
        calibration_samples: unused (the profile's split is measured).
        profile: a shared, possibly preloaded, profile; default: a new one on `validation`.
    """

    field: ClassVar[str] = "kl"


@register_proxy("sensitivity_accuracy")
class SensitivityAccuracyProxy(_SumOfLayers):
    """Sum over layers of the accuracy drop each layer choice causes alone (the seed work's).

    Args:
        workload: the float model and its data.
        calibration_samples: unused (the profile's split is measured).
        profile: a shared, possibly preloaded, profile; default: a new one on `validation`.
    """

    field: ClassVar[str] = "accuracy_drop"
