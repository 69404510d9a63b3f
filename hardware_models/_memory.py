"""On-chip memories of the accelerator: block-RAM packing and the LUT-RAM / register choice.

A memory is ``depth`` words of ``width`` bits, read (or written) one whole word per cycle; the
accelerator model shapes every weight and activation buffer that way (a weight memory of
``reuse_factor`` words of ``multipliers x W`` bits, see
:class:`~hardware_models._accelerator.AcceleratorModel`). Where it lands follows what Vivado
synthesis infers by default:

* depth 1: no memory at all. A read-only depth-1 memory is a set of constants wired into the
  logic (0 resources); a writable one is a register (``width`` flip-flops).
* depth up to ``lutram_max_depth`` (64, the depth of one LUT6 used as RAM): distributed RAM
  (UG474, 7 Series CLB guide: a LUT6 is a 64 x 1 ROM or single-port RAM, ``RAM64X1S``; a
  simple dual-port RAM, written by one layer and read by the next, takes two, ``RAM64X1D``).
* deeper: 18 Kb block RAMs (UG473, 7 Series Memory Resources). One RAMB18 holds 16K x 1,
  8K x 2, 4K x 4, 2K x 9, 1K x 18, or 512 x 36 in simple dual-port mode; a memory of
  ``depth x width`` takes ``ceil(depth / d) * ceil(width / w)`` blocks in the best of those
  aspect ratios ``d x w``. Read-only memories may use the 36-bit simple dual-port mode; writable
  activation buffers are counted in true dual-port mode (at most 18 bits wide), as Vivado HLS
  counts them (a 9 x 128-bit buffer is 8 BRAM_18K in the YanLunHuang hls4ml report).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hardware_models._errors import HardwareModelError

__all__ = ["BRAM18_SHAPES", "MemoryCost", "bram18_blocks", "memory_cost"]

BRAM18_SHAPES: tuple[tuple[int, int], ...] = (
    (16384, 1),
    (8192, 2),
    (4096, 4),
    (2048, 9),
    (1024, 18),
    (512, 36),
)
"""(depth, width) aspect ratios of one 18 Kb block RAM (UG473); 512 x 36 is simple dual-port."""

LUTRAM_DEPTH = 64
"""Words of one LUT6 used as distributed RAM or ROM (UG474)."""


@dataclass(frozen=True)
class MemoryCost:
    """Resources of one memory and where it is placed.

    Attributes:
        placement: ``none`` (nothing to store), ``constants`` (depth-1 ROM folded into logic),
            ``registers``, ``lutram`` or ``bram``.
        bram_18k: 18 Kb block RAMs.
        lut: LUTs used as distributed RAM.
        ff: Flip-flops used as registers.
        bits: Bits stored (``depth x width``).
    """

    placement: str
    bram_18k: int
    lut: int
    ff: int
    bits: int


def bram18_blocks(depth: int, width: int, *, max_width: int = 36) -> int:
    """18 Kb block RAMs for a ``depth x width``-bit memory, in the best aspect ratio.

    Args:
        depth: Words.
        width: Bits per word.
        max_width: Widest port allowed: 36 (simple dual-port) or 18 (true dual-port).

    Returns:
        The smallest ``ceil(depth / d) * ceil(width / w)`` over :data:`BRAM18_SHAPES`.

    Example:
        >>> bram18_blocks(784, 8)   # the 784 x 8 buffer of the aa08453 conv1 report
        1
        >>> bram18_blocks(9, 128, max_width=18)
        8
    """
    if depth < 1 or width < 1:
        raise HardwareModelError(f"memory shape must be positive, got {depth} x {width}")
    return min(
        math.ceil(depth / d) * math.ceil(width / w) for d, w in BRAM18_SHAPES if w <= max_width
    )


def memory_cost(
    depth: int, width: int, *, writable: bool, lutram_max_depth: int = LUTRAM_DEPTH
) -> MemoryCost:
    """Place a ``depth x width``-bit memory and count its resources (see the module docstring).

    Args:
        depth: Words (one word read or written per cycle).
        width: Bits per word.
        writable: ``False`` for a ROM (weights), ``True`` for a RAM (activation buffers).
        lutram_max_depth: Deepest memory put in distributed RAM.

    Returns:
        Its :class:`MemoryCost`.

    Example:
        >>> memory_cost(16, 8, writable=False)
        MemoryCost(placement='lutram', bram_18k=0, lut=8, ff=0, bits=128)
    """
    if depth < 0 or width < 0:
        raise HardwareModelError(f"memory shape must not be negative, got {depth} x {width}")
    bits = depth * width
    if bits == 0:
        return MemoryCost("none", 0, 0, 0, 0)
    if depth == 1:
        if writable:
            return MemoryCost("registers", 0, 0, width, bits)
        return MemoryCost("constants", 0, 0, 0, bits)
    if depth <= lutram_max_depth:
        luts_per_bit = (2 if writable else 1) * math.ceil(depth / LUTRAM_DEPTH)
        return MemoryCost("lutram", 0, luts_per_bit * width, 0, bits)
    blocks = bram18_blocks(depth, width, max_width=18 if writable else 36)
    return MemoryCost("bram", blocks, 0, 0, bits)
