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
    # Memory stays bounded whatever the data: a running max, plus a strided sample of at
    # most `max_values` outputs per layer for the methods that need the distribution.
    batches = -(-len(data) // batch_size)
    peaks: dict[str, float] = dict.fromkeys(names, 0.0)
    samples: dict[str, list[torch.Tensor]] = {n: [] for n in names}

    def record(name: str, out: torch.Tensor) -> None:
        values = out.detach().abs().flatten()
        peaks[name] = max(peaks[name], float(values.max()))
        if method != "minmax":
            stride = max(1, values.numel() * batches // max_values)
            samples[name].append(values[::stride].clone())

    hooks = [
        modules[n].register_forward_hook(lambda _m, _a, out, n=n: record(n, out)) for n in names
    ]
    try:
        for start in range(0, len(data), batch_size):
            model(data[start : start + batch_size])
    finally:
        for hook in hooks:
            hook.remove()
    ranges: dict[str, float] = {}
    for name in names:
        if method == "minmax":
            ranges[name] = peaks[name]
            continue
        values = torch.cat(samples[name])
        if method == "percentile":
            ranges[name] = float(torch.quantile(values.double(), percentile / 100.0))
        else:
            ranges[name] = _mse_clip(values.float())
    return {n: max(r, 1e-12) for n, r in ranges.items()}
