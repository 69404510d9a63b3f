"""Turning a Configuration into an approximated copy of a model; the original is untouched."""

from __future__ import annotations

import copy
import math
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from evaluators._accumulator import accumulate
from evaluators._errors import EvaluationError
from evaluators._fixed_point import FixedPoint, to_integers_
from evaluators._weight_sharing import WeightSharing, share_weights
from evaluators._workload import APPROXIMABLE, STORED

if TYPE_CHECKING:
    from evaluators._configuration import ActivationFormat, Configuration


class QuantizedOutput(nn.Module):
    """Wraps a layer so that it sums in its accumulator format, then casts to its activations.

    With an accumulator the layer's sums are emulated as hls4ml computes them (see
    :func:`~evaluators._accumulator.accumulate`): every product and the bias cast to the
    accumulator, then added with its overflow mode, in the Latency kernels' order. The exact
    accumulator value (float64) is then cast to a fixed-point activation format directly, so
    no float32 rounding comes between; a float activation format reads it as float32 (exact
    up to 24-bit accumulators). Without an accumulator, a Conv/Linear layer with a fixed-point
    activation format casts the exact sum of its products and bias (:func:`_cast_sum`), as an
    exported design whose accumulator holds every product and the bias exactly computes;
    otherwise the float32 output is kept.
    """

    def __init__(
        self,
        layer: nn.Module,
        activations: ActivationFormat | None,
        accumulator: FixedPoint | None,
    ) -> None:
        super().__init__()
        self.layer = layer
        self.activations = activations
        self.accumulator = accumulator

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        if self.accumulator is None:
            if isinstance(self.activations, FixedPoint) and isinstance(self.layer, APPROXIMABLE):
                return _cast_sum(self.layer, inputs[0], self.activations)
            out = self.layer(*inputs)  # an addition takes two inputs
        else:
            acc = accumulate(self.layer, inputs[0], self.accumulator)
            if isinstance(self.activations, FixedPoint):
                return _cast_exact(acc, self.activations)
            out = acc.to(torch.float32)
        if self.activations is not None:
            out = self.activations.quantize(out)
        return out


def _cast_sum(layer: nn.Module, x: torch.Tensor, fmt: FixedPoint) -> torch.Tensor:
    """``(res_T)`` of a Conv/Linear layer's exact sum: its products and its float32 bias.

    The products are summed in float64, exact while they span at most 53 bits (fixed-point
    inputs and weights). A float32 bias may be far smaller than the products (a dead unit's
    bias decays to 1e-30), so it is added with its rounding error kept (Knuth's TwoSum); where
    the float64 sum lands on a rounding boundary of ``fmt`` (a grid point for ``truncate``, a
    half step for the nearest modes) that error says on which side the exact sum lies. The
    result is what an accumulator holding every product and the bias exactly gives, and a
    float32 sum (which rounds first) may not.
    """
    weight = layer.weight.detach().to(torch.float32).double()
    x = x.detach().to(torch.float32).double()
    if isinstance(layer, nn.Linear):
        products = F.linear(x, weight)
    else:
        products = layer._conv_forward(x, weight, None)  # the layer's padding and geometry
    scale = math.ldexp(1.0, fmt.fraction_bits)
    if layer.bias is None:
        return _cast_exact(products, fmt)
    bias = layer.bias.detach().to(torch.float32).double()
    if not isinstance(layer, nn.Linear):
        bias = bias.view(-1, *([1] * (products.dim() - 2)))
    total = products + bias
    back = total - products
    error = (products - (total - back)) + (bias - back)  # total + error == products + bias
    scaled = total.mul_(scale)
    if fmt.rounding == "truncate":
        below = (scaled == scaled.floor()) & (error < 0)
        scaled = torch.where(below, scaled - 0.5, scaled)
    else:
        tie = (scaled - scaled.floor()) == 0.5
        scaled = torch.where(tie, scaled + 0.25 * torch.sign(error), scaled)
    return to_integers_(scaled, fmt).mul_(1.0 / scale).to(torch.float32)


def _cast_exact(values: torch.Tensor, fmt: FixedPoint) -> torch.Tensor:
    """``(res_T) acc``: float64 accumulator values cast to ``fmt``, returned as float32."""
    scale = math.ldexp(1.0, fmt.fraction_bits)
    return to_integers_(values * scale, fmt).mul_(1.0 / scale).to(torch.float32)


class WeightCache:
    """Approximated weight tensors keyed by (model, layers, format): each computed once.

    Least recently used entries are dropped beyond `max_bytes`, so a study over a large model
    keeps the layer choices it revisits without growing without bound.

    Args:
        max_bytes: memory the cached tensors may take (default 1 GiB).
    """

    def __init__(self, max_bytes: int = 1 << 30) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, list[torch.Tensor]] = OrderedDict()
        self._bytes = 0

    def get(self, key: Hashable, compute: Callable[[], list[torch.Tensor]]) -> list[torch.Tensor]:
        """The cached tensors for `key`, computed by `compute()` on the first request."""
        hit = self._entries.get(key)
        if hit is not None:
            self._entries.move_to_end(key)
            return hit
        hit = compute()
        self._entries[key] = hit
        self._bytes += sum(t.numel() * t.element_size() for t in hit)
        while self._bytes > self.max_bytes and len(self._entries) > 1:
            _, old = self._entries.popitem(last=False)
            self._bytes -= sum(t.numel() * t.element_size() for t in old)
        return hit

    def __len__(self) -> int:
        return len(self._entries)


def approximate_weights(
    model: nn.Module, configuration: Configuration, cache: WeightCache | None = None
) -> dict[str, torch.Tensor]:
    """The approximated weight of every configured layer, by layer name.

    Layers sharing weights at `network` granularity with the same format are clustered jointly,
    one codebook for all of them.

    Raises:
        EvaluationError: a layer with a weight format is not a Conv/Linear layer of the model,
            or a layer with an output format is not a module whose output is stored.
    """
    modules = dict(model.named_modules())
    groups: dict[Hashable, list[str]] = {}
    for name, layer in configuration.layers:
        module = modules.get(name)
        kinds = APPROXIMABLE if layer.weights is not None or layer.accumulator else STORED
        if not isinstance(module, kinds):
            known = ", ".join(n for n, m in modules.items() if isinstance(m, kinds))
            what = "Conv/Linear layer" if kinds is APPROXIMABLE else "stored output"
            raise EvaluationError(f"layer {name!r}: not a {what} of the model ({known})")
        fmt = layer.weights
        if fmt is None:
            continue
        network = isinstance(fmt, WeightSharing) and fmt.granularity.name == "network"
        groups.setdefault((fmt, "network") if network else (fmt, name), []).append(name)
    out: dict[str, torch.Tensor] = {}
    for (fmt, _), names in groups.items():
        tensors = [modules[n].weight.detach() for n in names]

        def compute(fmt=fmt, tensors=tensors) -> list[torch.Tensor]:
            if isinstance(fmt, WeightSharing):
                return share_weights(tensors, fmt)
            return [fmt.quantize(t) for t in tensors]

        key = (id(model), tuple(names), fmt)  # one cache may serve several models
        result = cache.get(key, compute) if cache is not None else compute()
        out.update(zip(names, result, strict=True))
    return out


def apply(
    model: nn.Module, configuration: Configuration, cache: WeightCache | None = None
) -> nn.Module:
    """A new model computing what the accelerator would for `configuration`.

    Weights are replaced by their approximation (biases stay float32: HLS designs usually keep
    a wide bias, which a layer with an accumulator casts to it); layers with activation or
    accumulator formats are wrapped in `QuantizedOutput`. The input model is never modified.
    """
    weights = approximate_weights(model, configuration, cache)
    new = copy.deepcopy(model)
    modules = dict(new.named_modules())
    with torch.no_grad():
        for name, tensor in weights.items():
            modules[name].weight.copy_(tensor)
    for name, layer in configuration.layers:
        if layer.activations is None and layer.accumulator is None:
            continue
        parent_name, _, child = name.rpartition(".")
        parent = modules[parent_name] if parent_name else new
        setattr(
            parent, child, QuantizedOutput(modules[name], layer.activations, layer.accumulator)
        )
    return new
