"""Turning a Configuration into an approximated copy of a model; the original is untouched."""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

import torch
from torch import nn

from evaluators._accumulator import LoweredLayer
from evaluators._errors import EvaluationError
from evaluators._fixed_point import FixedPoint
from evaluators._result_cast import cast_exact, cast_sum
from evaluators._weight_sharing import WeightSharing, share_weights
from evaluators._workload import APPROXIMABLE, STORED

if TYPE_CHECKING:
    from evaluators._configuration import ActivationFormat, Configuration


class QuantizedOutput(nn.Module):
    """Wraps a layer so that it sums in its accumulator format, then casts to its activations.

    With an accumulator the layer's sums are emulated as hls4ml computes them (see
    :func:`~evaluators._accumulator.accumulate`): every product and the bias cast to the
    accumulator, then added with its overflow mode, in the Latency kernels' order. The exact
    accumulator value is then cast to a fixed-point activation format directly, so no float32
    rounding comes between; a float activation format reads it as float32 (exact up to 24-bit
    accumulators). Without an accumulator, a Conv/Linear layer with a fixed-point activation
    format casts the exact sum of its products and bias, as an exported design whose
    accumulator holds every product and the bias exactly computes; otherwise the float32
    output is kept.

    Where the accumulator provably neither rounds nor overflows, its value is the exact sum
    of the products and its bias, computed and cast without replaying hls4ml's order
    (``LoweredLayer.terms`` in :mod:`evaluators._accumulator`, then
    :func:`~evaluators._result_cast.cast_sum`).
    The wrapped layer's weights are read once, at the first call.
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
        self._lowered: LoweredLayer | None = None

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        fixed = isinstance(self.activations, FixedPoint)
        if self.accumulator is not None or (fixed and isinstance(self.layer, APPROXIMABLE)):
            out = self._exact_output(inputs[0])
            if fixed:
                return out
        else:
            out = self.layer(*inputs)  # an addition takes two inputs
        if self.activations is not None:
            out = self.activations.quantize(out)
        return out

    def _exact_output(self, x: torch.Tensor) -> torch.Tensor:
        """The sum as the accumulator holds it, cast to fixed-point activations if any."""
        if self._lowered is None:
            self._lowered = LoweredLayer.of(self.layer)
        terms = self._lowered.terms(x, self.accumulator)
        fixed = isinstance(self.activations, FixedPoint)
        if terms is not None:
            products, bias = terms
            if fixed:
                return cast_sum(products, bias, self.activations)
            # float32 + float32 rounds the exact sum once; with a float64 term the sum is
            # exact (below 2**53 steps, as the replay's) and read as float32: one rounding
            total = products if bias is None else products + bias
            return total.to(torch.float32)
        if self.accumulator is None:  # pragma: no cover - terms() always sums without one
            raise RuntimeError(f"{type(self.layer).__name__}: no exact sum without accumulator")
        acc = self._lowered.accumulate(x, self.accumulator)
        return cast_exact(acc, self.activations) if fixed else acc.to(torch.float32)


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
