"""Folding BatchNorm into the convolution (or linear layer) before it: what an accelerator runs.

At inference a BatchNorm is an affine map per channel, `y = g (x - mu) / sqrt(var + eps) + b`.
Applied to a layer's output `x = W * in + c`, it folds into that layer: `W' = W s`,
`c' = (c - mu) s + b` with `s = g / sqrt(var + eps)` per output channel. hls4ml and FINN fold
it the same way, so the weights a study quantizes are the folded ones: quantizing unfolded
weights would search a model no accelerator runs.
"""

from __future__ import annotations

import copy

import torch
from torch import fx, nn

from evaluators._errors import WorkloadError

_FOLDABLE = (nn.Conv1d, nn.Conv2d, nn.Linear)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


def batchnorm_pairs(model: nn.Module) -> list[tuple[str, str]]:
    """(layer, batchnorm) module names where the BatchNorm reads only that layer's output and
    the layer feeds only that BatchNorm, in execution order.

    Raises:
        WorkloadError: the model cannot be traced by `torch.fx` (data-dependent control flow).
    """
    try:
        graph = fx.symbolic_trace(model).graph
    except Exception as exc:  # noqa: BLE001 - tracing fails in many ways
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WorkloadError(
            f"fold_batchnorm: cannot trace the model ({first}); set "
            "workload.fold_batchnorm: false to keep its BatchNorm layers"
        ) from None
    modules = dict(model.named_modules())
    pairs = []
    for node in graph.nodes:
        if node.op != "call_module" or not isinstance(modules.get(node.target), _NORMS):
            continue
        source = node.args[0] if node.args else None
        if (
            isinstance(source, fx.Node)
            and source.op == "call_module"
            and isinstance(modules.get(source.target), _FOLDABLE)
            and len(source.users) == 1
        ):
            pairs.append((str(source.target), str(node.target)))
    return pairs


@torch.no_grad()
def fold_batchnorm(model: nn.Module) -> nn.Module:
    """A copy of `model` (eval mode) with every foldable BatchNorm folded into the layer before
    it and replaced by `nn.Identity` (names of all other modules unchanged). The input model
    is not modified. Folded layers get a bias.

    Raises:
        WorkloadError: the model cannot be traced.

    Example:
        >>> net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)).eval()
        >>> x = torch.randn(1, 1, 5, 5)
        >>> bool(torch.allclose(fold_batchnorm(net)(x), net(x), atol=1e-6))
        True
    """
    folded = copy.deepcopy(model).eval()
    modules = dict(folded.named_modules())
    for layer_name, norm_name in batchnorm_pairs(folded):
        layer, norm = modules[layer_name], modules[norm_name]
        var = norm.running_var.double()
        mean = norm.running_mean.double()
        gamma = norm.weight.double() if norm.affine else torch.ones_like(var)
        beta = norm.bias.double() if norm.affine else torch.zeros_like(var)
        scale = gamma / torch.sqrt(var + norm.eps)
        shape = (-1,) + (1,) * (layer.weight.ndim - 1)
        weight = layer.weight.double() * scale.reshape(shape)
        bias = layer.bias.double() if layer.bias is not None else torch.zeros_like(mean)
        layer.weight.copy_(weight.to(layer.weight.dtype))
        new_bias = ((bias - mean) * scale + beta).to(layer.weight.dtype)
        if layer.bias is None:
            layer.bias = nn.Parameter(new_bias, requires_grad=False)
        else:
            layer.bias.copy_(new_bias)
        parent_name, _, child = norm_name.rpartition(".")
        parent = modules[parent_name] if parent_name else folded
        setattr(parent, child, nn.Identity())
    return folded
