"""Activation ranges calibrated on representative data: the post-training flow of N2D2."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from evaluators._errors import FormatError
from evaluators._workload import APPROXIMABLE

CALIBRATION_METHODS = ("minmax", "percentile", "mse")


def _mse_clip(values: torch.Tensor, bits: int = 8, candidates: int = 64) -> float:
    """The clipping value that minimizes the quantization MSE of `values` at `bits` bits.

    Searches clip points between 1% and 100% of the max |value| (uniform quantizer with
    2^(bits-1) levels per side), as TensorRT-style calibrators do.
    """
    amax = float(values.abs().max())
    if amax == 0.0:
        return 0.0
    levels = 2 ** (bits - 1) - 1
    best, best_err = amax, float("inf")
    for clip in torch.linspace(amax * 0.01, amax, candidates).tolist():
        step = clip / levels
        q = torch.clamp(torch.round(values / step), -levels - 1, levels) * step
        err = float(torch.mean((q - values) ** 2))
        if err < best_err:
            best, best_err = clip, err
    return best


@torch.inference_mode()
def calibrate_activations(
    model: nn.Module,
    data: torch.Tensor,
    *,
    layers: Iterable[str] | None = None,
    method: str = "minmax",
    percentile: float = 99.99,
    batch_size: int = 1024,
    max_values: int = 1_000_000,
) -> dict[str, float]:
    """The range (max |output|) to size each layer's activation format from.

    Args:
        model: the float model.
        data: representative inputs (the training split).
        layers: names of the layers to calibrate (default: every Conv/Linear layer).
        method: `minmax` (the largest |output|), `percentile` (that percentile of |output|,
            robust to outliers) or `mse` (the clip minimizing 8-bit quantization error).
        percentile: used by `percentile`.
        batch_size: samples per forward pass.
        max_values: outputs kept per layer for `percentile` and `mse` (a strided subsample).

    Returns:
        Layer name -> positive range.

    Raises:
        FormatError: unknown method.
    """
    if method not in CALIBRATION_METHODS:
        raise FormatError(f"calibration: expected one of {CALIBRATION_METHODS}, got {method!r}")
    modules = dict(model.named_modules())
    names = (
        list(layers)
        if layers is not None
        else [n for n, m in modules.items() if isinstance(m, APPROXIMABLE)]
    )
    outputs: dict[str, list[torch.Tensor]] = {n: [] for n in names}
    hooks = [
        modules[n].register_forward_hook(
            lambda _m, _a, out, n=n: outputs[n].append(out.detach().abs().flatten())
        )
        for n in names
    ]
    try:
        for start in range(0, len(data), batch_size):
            model(data[start : start + batch_size])
    finally:
        for hook in hooks:
            hook.remove()
    ranges: dict[str, float] = {}
    for name, chunks in outputs.items():
        values = torch.cat(chunks)
        if method == "minmax":
            ranges[name] = float(values.max())
            continue
        if values.numel() > max_values:
            values = values[:: values.numel() // max_values + 1]
        if method == "percentile":
            ranges[name] = float(torch.quantile(values.double(), percentile / 100.0))
        else:
            ranges[name] = _mse_clip(values.float())
    return {n: max(r, 1e-12) for n, r in ranges.items()}
