"""Weight-space proxies: k-means inertia and its normalized form, one measure for every format.

The weight-sharing work this project follows scored configurations by the k-means inertia of
their layers instead of running the network. Raw inertia (the SSE summed over layers) favours
configurations that approximate small layers badly; dividing each layer's SSE by its energy
``||W_l||^2`` makes layers comparable, and is the same measure (a noise-to-signal ratio) for
fixed-point and float formats, whose SSE is their quantization noise.

Shared-weight SSEs come from one optimal-k-means DP per (layer, granularity): `inertia_curve`
returns the SSE for every k at the cost of the largest, so a study computes each curve once.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

import numpy as np
import torch

from evaluators._apply import approximate_weights
from evaluators._configuration import Configuration, LayerConfig
from evaluators._kmeans import inertia_curve
from evaluators._proxy import Proxy, register_proxy
from evaluators._weight_sharing import WeightSharing, _group_shape

if TYPE_CHECKING:
    from torch import nn

    from evaluators._configuration import WeightFormat
    from evaluators._workload import Workload

__all__ = ["InertiaProxy", "NormalizedInertiaProxy", "WeightNoise"]

_FIRST_K_MAX = 64  # curves are computed up to here first, and doubled when a k exceeds it


class WeightNoise:
    """Squared error of approximated weights, per layer, cached per (layer, format).

    Args:
        model: the float model; read, never modified.

    Example:
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Linear(2, 1, bias=False))
        >>> _ = net[0].weight.data.copy_(torch.tensor([[0.0, 1.0]]))
        >>> WeightNoise(net).sse("0", WeightSharing(1))
        0.5
    """

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self._modules = dict(model.named_modules())
        self._curves: dict[tuple[str, str], np.ndarray] = {}
        self._sse: dict[Hashable, float] = {}
        self._energy: dict[str, float] = {}

    def energy(self, layer: str) -> float:
        """``||W||^2`` of a layer's float weights."""
        hit = self._energy.get(layer)
        if hit is None:
            weight = self._modules[layer].weight.detach().double()
            hit = self._energy[layer] = float(torch.sum(weight * weight))
        return hit

    def sse(self, layer: str, fmt: WeightFormat | None) -> float:
        """``||Q(W) - W||^2`` of one layer approximated alone (network sharing: see `errors`)."""
        if fmt is None:
            return 0.0
        key = (layer, fmt)
        hit = self._sse.get(key)
        if hit is not None:
            return hit
        if _from_curve(fmt):
            hit = float(self._curve(layer, fmt)[fmt.clusters - 1])
        else:
            weight = self._modules[layer].weight.detach()
            approx = approximate_weights(self.model, Configuration.of({layer: LayerConfig(fmt)}))
            hit = float(torch.sum((approx[layer].double() - weight.double()) ** 2))
        self._sse[key] = hit
        return hit

    def errors(self, configuration: Configuration) -> dict[str, float]:
        """The SSE of every approximated layer of `configuration`.

        Layers sharing one codebook at `network` granularity are clustered jointly (as
        `apply` does), so their SSE depends on the whole group and is cached by it.
        """
        out: dict[str, float] = {}
        groups: dict[WeightSharing, list[str]] = {}
        for name, layer in configuration.layers:
            fmt = layer.weights
            if fmt is None:  # outputs only, or a module without weights (an addition)
                continue
            if isinstance(fmt, WeightSharing) and fmt.granularity.name == "network":
                groups.setdefault(fmt, []).append(name)
            else:
                out[name] = self.sse(name, fmt)
        for fmt, names in groups.items():
            key = (tuple(names), fmt)
            hit = self._sse.get(key)
            if hit is None:
                config = Configuration.of({n: LayerConfig(fmt) for n in names})
                approx = approximate_weights(self.model, config)
                per_layer = tuple(
                    float(torch.sum((approx[n].double() - self._weight(n).double()) ** 2))
                    for n in names
                )
                self._sse[key] = hit = per_layer  # type: ignore[assignment]
            out.update(zip(names, hit, strict=True))  # type: ignore[arg-type]
        return out

    def _weight(self, layer: str) -> torch.Tensor:
        return self._modules[layer].weight.detach()

    def _curve(self, layer: str, fmt: WeightSharing) -> np.ndarray:
        """The layer's inertia for k = 1..k_max, summed over its codebook groups."""
        key = (layer, fmt.granularity.name)
        curve = self._curves.get(key)
        if curve is None or len(curve) < fmt.clusters:
            k_max = max(_FIRST_K_MAX, fmt.clusters, 2 * (0 if curve is None else len(curve)))
            weight = self._weight(layer)
            rows = weight.reshape(_group_shape(tuple(weight.shape), fmt.granularity))
            values = rows.double().numpy()
            curve = np.sum([inertia_curve(row, k_max) for row in values], axis=0)
            self._curves[key] = curve
        return curve


def _from_curve(fmt: WeightFormat) -> bool:
    """Whether the SSE is the DP's inertia: shared, float32 codebook, one tensor per codebook."""
    return (
        isinstance(fmt, WeightSharing)
        and fmt.codebook is None
        and fmt.granularity.name != "network"
    )


@register_proxy("inertia")
class InertiaProxy(Proxy):
    """Raw inertia: ``sum_l ||Q(W_l) - W_l||^2`` over the approximated layers.

    The seed work's proxy. Its units are squared weights, so a coarse small layer counts less
    than a mild error on a large one: it ranks configurations poorly (Spearman ~0.6 on LeNet),
    and is kept as the baseline the other proxies are measured against.
    """

    def __init__(self, workload: Workload, *, calibration_samples: int = 256) -> None:
        super().__init__(workload, calibration_samples=calibration_samples)
        self._noise = WeightNoise(workload.model)

    def value(self, configuration: Configuration) -> float:
        return float(sum(self._noise.errors(configuration).values()))


@register_proxy("normalized_inertia")
class NormalizedInertiaProxy(Proxy):
    """Normalized inertia: ``sum_l ||Q(W_l) - W_l||^2 / ||W_l||^2`` (noise-to-signal ratios).

    Why: every layer's error is measured relative to its own weights, so layers of any size
    count alike, and fixed, float and shared formats share one scale (for fixed and float
    formats the SSE is the quantization noise of the weights).
    """

    def __init__(self, workload: Workload, *, calibration_samples: int = 256) -> None:
        super().__init__(workload, calibration_samples=calibration_samples)
        self._noise = WeightNoise(workload.model)

    def value(self, configuration: Configuration) -> float:
        errors = self._noise.errors(configuration)
        return float(sum(sse / max(self._noise.energy(n), 1e-30) for n, sse in errors.items()))
