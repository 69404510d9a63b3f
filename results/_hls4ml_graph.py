"""The model as hls4ml's PyTorch parser reads it, and its layers' names on both sides.

hls4ml 1.3 traces a model with torch.fx and converts each module call and function call it
knows. Two modules dse's workloads use have no handler there, though hls4ml computes what they
do: ``nn.Identity`` (what BatchNorm folding leaves, and a residual block's plain shortcut) and
``nn.AdaptiveAvgPool1d/2d`` (ResNet's global average pooling). `for_hls4ml` returns a copy of
the model in which an identity is traced through (no layer at all) and an adaptive average
pooling whose output divides its input is the plain average pooling it equals (kernel = stride
= input / output), so every other module keeps its name and its weights.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from results._errors import ResultsError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["for_hls4ml", "node_modules"]


class _PassThrough(nn.Module):
    """Returns its input. Not a ``torch.nn`` module, so hls4ml's tracer traces through it and
    no layer is left in the graph (``nn.Identity`` is a leaf hls4ml has no handler for)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


_ADAPTIVE = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d)


def for_hls4ml(model: nn.Module, input_shape: Sequence[int]) -> nn.Module:
    """A copy of `model` hls4ml's PyTorch converter accepts, computing the same values.

    Args:
        model: the network (not modified).
        input_shape: one input's shape, channels first.

    Returns:
        `model` itself when nothing needs replacing, else a copy with every ``nn.Identity``
        traced through and every adaptive average pooling made a plain one.

    Raises:
        ResultsError: an adaptive pooling whose output size does not divide its input's.
    """
    modules = dict(model.named_modules())
    adaptive = [n for n, m in modules.items() if isinstance(m, _ADAPTIVE)]
    identities = [n for n, m in modules.items() if isinstance(m, nn.Identity) and n]
    if not adaptive and not identities:
        return model
    sizes = _input_sizes(model, adaptive, input_shape)
    new = copy.deepcopy(model)
    for name in identities:
        _replace(new, name, _PassThrough())
    for name in adaptive:
        _replace(new, name, _plain_pooling(name, modules[name], sizes[name]))
    return new


def node_modules(model: nn.Module) -> dict[str, str]:
    """hls4ml layer name -> the PyTorch module it computes.

    hls4ml names a layer after its torch.fx node: a module call's node holds the module's
    name; a function call (the ``+`` of an `evaluators.Add`) is named after the function, and
    the module whose ``forward`` made it is the innermost one on the node's module stack.
    """
    from hls4ml.utils.torch import CustomFXTracer

    graph = CustomFXTracer().trace(model)
    names: dict[str, str] = {}
    for node in graph.nodes:
        if node.op == "call_module":
            names[node.name] = str(node.target)
        elif node.op == "call_function":
            stack: dict[str, Any] = node.meta.get("nn_module_stack") or {}
            inner = [key for key in stack if key]
            if inner:
                names[node.name] = _module_path(inner[-1])
    return names


def _module_path(key: str) -> str:
    """The module's dotted path from an ``nn_module_stack`` key (a path, or a mangled
    ``L['self'].layer1[0].add``-style path on some torch versions)."""
    if not key.startswith("L["):
        return key
    path = key.split("]", 1)[1] if "]" in key else key
    return path.replace("[", ".").replace("]", "").lstrip(".")


def _input_sizes(
    model: nn.Module, names: list[str], input_shape: Sequence[int]
) -> dict[str, tuple[int, ...]]:
    """The spatial size of the input of each module `names` on one zero input."""
    modules = dict(model.named_modules())
    sizes: dict[str, tuple[int, ...]] = {}

    def hook(name: str) -> Any:
        def record(_module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            sizes[name] = tuple(inputs[0].shape[2:])

        return record

    handles = [modules[n].register_forward_pre_hook(hook(n)) for n in names]
    dtype = next((p.dtype for p in model.parameters()), torch.float32)
    try:
        with torch.no_grad():
            model(torch.zeros((1, *input_shape), dtype=dtype))
    finally:
        for handle in handles:
            handle.remove()
    return sizes


def _plain_pooling(name: str, module: nn.Module, size: tuple[int, ...]) -> nn.Module:
    """The ``AvgPool`` an adaptive pooling equals on inputs of `size`."""
    out = module.output_size
    out = (out,) * len(size) if isinstance(out, int) else tuple(out)
    out = tuple(s if o is None else o for o, s in zip(out, size, strict=True))
    if any(s % o for s, o in zip(size, out, strict=True)):
        raise ResultsError(
            f"{name}: adaptive average pooling from {size} to {out} has no hls4ml layer (only "
            "output sizes that divide the input's)"
        )
    kernel = tuple(s // o for s, o in zip(size, out, strict=True))
    if isinstance(module, nn.AdaptiveAvgPool1d):
        return nn.AvgPool1d(kernel[0], kernel[0])
    return nn.AvgPool2d(kernel, kernel)


def _replace(model: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, module)
