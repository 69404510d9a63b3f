"""The shape of each layer an accelerator computes: what a hardware cost model needs to know.

Conv/Linear layers (the approximable ones) keep the fields they always had. Layers without
weights that an accelerator still builds are recorded too, so the cost model prices them:
residual additions (the :class:`~evaluators._blocks.Add` module) and pooling
(``MaxPool1d/2d``, ``AvgPool1d/2d``, ``AdaptiveAvgPool1d/2d``, ``AdaptiveMaxPool1d/2d``).
Grouped convolutions (``groups > 1``; depthwise when ``groups`` equals the input channels)
record ``groups``, so their MACs are ``K x K x C_in / groups`` per output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from evaluators._blocks import Add
from evaluators._workload import APPROXIMABLE

POOLING = (
    nn.MaxPool1d,
    nn.MaxPool2d,
    nn.AvgPool1d,
    nn.AvgPool2d,
    nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveMaxPool1d,
    nn.AdaptiveMaxPool2d,
)
"""Pooling modules recorded by :func:`layer_shapes` (kind ``maxpool`` or ``avgpool``)."""

KINDS = ("linear", "conv", "depthwise", "add", "maxpool", "avgpool")
"""Values of :attr:`LayerShape.kind`."""


@dataclass(frozen=True)
class LayerShape:
    """Sizes of one layer for one inference of one sample.

    Attributes:
        name: qualified module name (a module called more than once, such as a shared pooling
            module, is recorded once per call: ``pool``, ``pool:2``, ...).
        kind: ``linear``, ``conv``, ``depthwise`` (a grouped convolution with one group per
            input channel), ``add`` (residual addition), ``maxpool`` or ``avgpool``.
        weight_shape: (out, in / groups, *kernel) or (out, in); ``()`` for layers without
            weights.
        input_shape: one sample's input (C, H, W) or (F,) (the first operand of an ``add``).
        output_shape: one sample's output.
        macs: multiply-accumulates per sample (0 for ``add`` and pooling).
        groups: convolution groups (1 for every other layer).
    """

    name: str
    kind: str
    weight_shape: tuple[int, ...]
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    macs: int
    groups: int = 1

    @property
    def weights(self) -> int:
        """Number of weights (0 for layers without weights)."""
        return math.prod(self.weight_shape) if self.weight_shape else 0

    @property
    def outputs(self) -> int:
        return math.prod(self.output_shape)

    @property
    def inputs(self) -> int:
        return math.prod(self.input_shape)

    @property
    def fan_in(self) -> int:
        """Products summed into one output (the accumulation depth); for ``add`` and pooling,
        the inputs that one output reads (2, or the pooling window)."""
        if self.weight_shape:
            return math.prod(self.weight_shape[1:])
        if self.kind == "add":
            return 2
        return max(1, self.inputs // max(1, self.outputs))


def _kind_of(module: nn.Module) -> str:
    if isinstance(module, nn.Linear):
        return "linear"
    if isinstance(module, Add):
        return "add"
    if isinstance(module, POOLING):
        return "maxpool" if "Max" in type(module).__name__ else "avgpool"
    groups = getattr(module, "groups", 1)
    if groups > 1 and groups == module.in_channels:  # type: ignore[attr-defined]
        return "depthwise"
    return "conv"


@torch.inference_mode()
def layer_shapes(model: nn.Module, sample: torch.Tensor) -> dict[str, LayerShape]:
    """Run one sample through ``model`` and record every computing layer's sizes.

    Conv/Linear layers as before (grouped convolutions with ``groups`` and, when depthwise,
    kind ``depthwise``), then ``Add`` modules and pooling layers, all in execution order.

    Args:
        model: the float model.
        sample: one input batch; only its first sample is used.

    Example:
        >>> net = nn.Sequential(nn.Conv2d(4, 4, 3, groups=4), nn.MaxPool2d(2))
        >>> shapes = layer_shapes(net, torch.zeros(1, 4, 6, 6))
        >>> shapes["0"].kind, shapes["0"].macs, shapes["1"].kind, shapes["1"].fan_in
        ('depthwise', 576, 'maxpool', 4)
    """
    shapes: dict[str, LayerShape] = {}
    hooks = []
    for name, module in model.named_modules():
        if not isinstance(module, (*APPROXIMABLE, Add, *POOLING)):
            continue

        def record(mod: nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor, name=name):
            out_shape = tuple(out.shape[1:])
            in_shape = tuple(args[0].shape[1:])
            kind = _kind_of(mod)
            if isinstance(mod, APPROXIMABLE):
                weight = tuple(mod.weight.shape)
                macs = math.prod(out_shape) * math.prod(weight[1:])
                groups = int(getattr(mod, "groups", 1))
            else:
                weight, macs, groups = (), 0, 1
            key, call = name, 2
            while key in shapes:
                key, call = f"{name}:{call}", call + 1
            shapes[key] = LayerShape(
                name=key,
                kind=kind,
                weight_shape=weight,
                input_shape=in_shape,
                output_shape=out_shape,
                macs=macs,
                groups=groups,
            )

        hooks.append(module.register_forward_hook(record))
    try:
        model(sample[:1])
    finally:
        for hook in hooks:
            hook.remove()
    return shapes
