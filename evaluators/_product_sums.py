"""Accumulator sums with every product cast on its own: the general path of ``accumulate``.

hls4ml casts each product to ``accum_t`` before adding it (see :mod:`evaluators._accumulator`
for the kernels and the order). Here the products are formed block by block, a cache-sized
``(G, rows, K, positions)`` slice at a time, cast with the accumulator's rounding, and summed:
with wrap in any order (modulo ``2**W`` at the end), with saturation through :class:`_Replay`,
which replays in order only the outputs whose running sum may leave the range.
"""

from __future__ import annotations

import math

import torch

from evaluators._fixed_point import FixedPoint, round_scaled_, to_integers_

__all__ = ["EXACT_SUM", "EXACT_SUM_SINGLE", "product_sums"]

EXACT_SUM = float(1 << 52)  # integer partial sums below this are exact in float64
EXACT_SUM_SINGLE = float(1 << 23)  # ... and below this in float32
_BLOCK_PRODUCTS = 1 << 17  # products formed at once (1 MiB of float64: L2-sized)
_REPLAY = 1 << 21  # cast products held for in-order saturating sums before they run
_MIN_POSITIONS = 16  # fewer output positions per block: vectorise along the fan-in instead


def product_sums(
    columns: torch.Tensor,
    peak: float,
    weight: torch.Tensor,
    bias_q: torch.Tensor,
    fmt: FixedPoint,
) -> torch.Tensor:
    """Integer accumulator values ``(G, Og, M)``, each product cast on its own.

    Args:
        columns: ``(G, K, M)`` inputs of every product, fan-in in hls4ml's order; float64,
            or float32 where :mod:`evaluators._accumulator` allows.
        peak: ``max |columns|`` (NaN or inf when the input holds them).
        weight: ``(G, Og, K)``, same dtype.
        bias_q: ``(G, Og)``: the bias cast to the accumulator (integers), same dtype.
        fmt: The accumulator format.

    Returns:
        The accumulator's stored integers (in steps of ``fmt.step``), like ``columns``' dtype.

    Example:
        >>> w = torch.full((1, 1, 4), 0.5, dtype=torch.float64)  # (G, Og, K)
        >>> x = torch.full((1, 4, 1), -1 / 64, dtype=torch.float64)  # (G, K, M)
        >>> acc = FixedPoint(8, 2, rounding="truncate", overflow="wrap")  # step 1/64
        >>> product_sums(x, 1 / 64, w, torch.zeros(1, 1, dtype=torch.float64), acc)
        tensor([[[-4.]]], dtype=torch.float64)
    """
    groups, per_group, fan_in = weight.shape
    positions = columns.shape[2]
    dtype = columns.dtype
    scaled = weight * math.ldexp(1.0, fmt.fraction_bits)  # exact: a power of two
    out = torch.empty(groups, per_group, positions, dtype=dtype, device=columns.device)
    # Products bounded well inside the float's integers need no wrap of their own, and
    # finite ones no NaN/inf handling.
    bound = peak * float(scaled.abs().sum(dim=2).max()) + fan_in if scaled.numel() else 0.0
    limit = EXACT_SUM_SINGLE if dtype == torch.float32 else EXACT_SUM
    finite = bound < limit  # False for NaN and inf
    q_low, q_high = fmt._int_range
    # A block holds products of `rows` output channels (per group) at `block` positions.
    rows = min(per_group, max(1, _BLOCK_PRODUCTS // max(1, groups * fan_in)))
    block = max(1, _BLOCK_PRODUCTS // max(1, groups * rows * fan_in))
    # Few positions per block (Linear, wide layers): the fan-in goes innermost, where the
    # vector units run along it; otherwise the positions do.
    fan_in_inner = block < _MIN_POSITIONS
    shape = (groups, rows, block, fan_in) if fan_in_inner else (groups, rows, fan_in, block)
    # Buffers reused across blocks: fresh 1 MiB tensors per block cost page faults.
    buffer = torch.empty(shape, dtype=dtype, device=columns.device)
    scratch = torch.empty_like(buffer)
    by_position = columns.transpose(1, 2)  # (G, M, K)
    replay = _Replay(out, fmt) if fmt.overflow == "saturate" else None
    for first in range(0, per_group, rows):
        last = min(first + rows, per_group)
        w = scaled[:, first:last]
        for start in range(0, positions, block):
            stop = min(start + block, positions)
            if fan_in_inner:  # views as (G, rows, K, b) either way
                products = buffer[:, : last - first, : stop - start].transpose(2, 3)
                spare = scratch[:, : last - first, : stop - start].transpose(2, 3)
                right = by_position[:, None, start:stop].transpose(2, 3)
            else:
                products = buffer[:, : last - first, :, : stop - start]
                spare = scratch[:, : last - first, :, : stop - start]
                right = columns[:, None, :, start:stop]
            torch.mul(w.unsqueeze(3), right, out=products)
            if not finite:
                to_integers_(products, fmt, spare)
            elif replay is None:
                round_scaled_(products, fmt.rounding)
            else:
                round_scaled_(products, fmt.rounding).clamp_(q_low, q_high)
            if replay is None:
                torch.sum(products, dim=2, out=out[:, first:last, start:stop])
            else:
                replay.add(products, bias_q[:, first:last], first, start, spare)
    if replay is None:
        to_integers_(out.add_(bias_q.unsqueeze(2)), fmt)  # integers: only the wrap acts
    else:
        replay.flush()
    return out


class _Replay:
    """Saturating sums ``acc = sat(acc + q_k)`` from ``acc = bias``, in order of ``k``.

    The running sums of an output lie between ``bias`` plus the sum of its negative casts
    and ``bias`` plus the sum of its positive ones; where both stay in range nothing
    saturates and the plain sum is the result. The other outputs are collected and replayed
    one fan-in step at a time, vectorised over all of them (a flush per ``_REPLAY`` values).
    """

    def __init__(self, out: torch.Tensor, fmt: FixedPoint) -> None:
        self.out = out  # (G, Og, M), written in place
        self.q_low, self.q_high = fmt._int_range
        self.rows: list[torch.Tensor] = []
        self.starts: list[torch.Tensor] = []
        self.where: list[torch.Tensor] = []
        self.size = 0

    def add(
        self,
        products: torch.Tensor,
        bias_q: torch.Tensor,
        first: int,
        start: int,
        scratch: torch.Tensor,
    ) -> None:
        """Sum cast products ``(G, r, K, b)``: channels ``first:first+r``, positions
        ``start:start+b`` of the output (``bias_q``: those channels' ``(G, r)``)."""
        channels, fan_in, width = products.shape[1:]
        total = products.sum(dim=2)
        spread = torch.abs(products, out=scratch).sum(dim=2)
        bias = bias_q.unsqueeze(2)
        # total +- spread is twice the sum of the positive (negative) casts: exact integers
        may_leave = (bias + (total + spread) * 0.5 > self.q_high) | (
            bias + (total - spread) * 0.5 < self.q_low
        )
        self.out[:, first : first + channels, start : start + width] = total.add_(bias)
        if not bool(may_leave.any()):
            return
        g, o, j = may_leave.nonzero(as_tuple=True)
        per_group, positions = self.out.shape[1:]
        self.where.append((g * per_group + first + o) * positions + start + j)
        by_step = products.permute(2, 0, 1, 3).reshape(fan_in, -1)  # (K, G * r * b)
        self.rows.append(by_step.index_select(1, (g * channels + o) * width + j))  # (K, R)
        self.starts.append(bias_q[g, o])
        self.size += self.rows[-1].numel()
        if self.size >= _REPLAY:
            self.flush()

    def flush(self) -> None:
        """Replay the collected outputs in hls4ml's order and write them."""
        if not self.rows:
            return
        steps = torch.cat(self.rows, dim=1)  # (K, R): one row per fan-in step
        acc = torch.cat(self.starts)
        for step in steps:
            acc.add_(step).clamp_(self.q_low, self.q_high)
        self.out.view(-1)[torch.cat(self.where)] = acc
        self.rows, self.starts, self.where, self.size = [], [], [], 0
