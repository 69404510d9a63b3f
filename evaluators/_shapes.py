"""The shape of each approximable layer: what a hardware cost model needs to know of it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from evaluators._workload import APPROXIMABLE


@dataclass(frozen=True)
class LayerShape:
    """Sizes of one layer for one inference of one sample.

    Attributes:
        name: qualified layer name.
        kind: `conv` or `linear`.
        weight_shape: (out, in, *kernel) or (out, in).
        input_shape: one sample's input (C, H, W) or (F,).
        output_shape: one sample's output.
        macs: multiply-accumulates per sample.
    """

    name: str
    kind: str
    weight_shape: tuple[int, ...]
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    macs: int

    @property
    def weights(self) -> int:
        return math.prod(self.weight_shape)

    @property
    def outputs(self) -> int:
        return math.prod(self.output_shape)

    @property
    def inputs(self) -> int:
        return math.prod(self.input_shape)

    @property
    def fan_in(self) -> int:
        """Products summed into one output (the accumulation depth)."""
        return math.prod(self.weight_shape[1:])


@torch.inference_mode()
def layer_shapes(model: nn.Module, sample: torch.Tensor) -> dict[str, LayerShape]:
    """Run one sample through `model` and record every Conv/Linear layer's sizes.

    Args:
        model: the float model.
        sample: one input batch; only its first sample is used.
    """
    shapes: dict[str, LayerShape] = {}
    hooks = []
    for name, module in model.named_modules():
        if not isinstance(module, APPROXIMABLE):
            continue

        def record(mod: nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor, name=name):
            weight = tuple(mod.weight.shape)
            out_shape = tuple(out.shape[1:])
            fan_in = math.prod(weight[1:])
            shapes[name] = LayerShape(
                name=name,
                kind="linear" if isinstance(mod, nn.Linear) else "conv",
                weight_shape=weight,
                input_shape=tuple(args[0].shape[1:]),
                output_shape=out_shape,
                macs=math.prod(out_shape) * fan_in,
            )

        hooks.append(module.register_forward_hook(record))
    try:
        model(sample[:1])
    finally:
        for hook in hooks:
            hook.remove()
    return shapes
