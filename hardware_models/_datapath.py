"""Which operators a layer's multiply-accumulate lanes use: :func:`choose_datapath`.

The operator kinds follow the number formats of the configuration, so the cost model reads
the same format objects the emulator applies (one truth for what a layer computes). The rules
and their sources are in :class:`DatapathConstants` and :func:`choose_datapath`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from evaluators import FixedPoint, WeightSharing
from hardware_models._errors import HardwareModelError
from hardware_models._memory import LUTRAM_DEPTH

if TYPE_CHECKING:
    from evaluators import FloatFormat, LayerConfig, LayerShape

__all__ = ["FLOAT32", "Datapath", "DatapathConstants", "Operand", "choose_datapath", "operand"]

FLOAT32 = (8, 23)
"""(exponent, mantissa) bits of float32, the format of whatever a configuration leaves float."""

_SCHEMA_VERSION = 1

FLOAT_MUL_LUT_MAX_BITS = 16
"""A float multiply stays in LUTs only while ``2 (M + 1)`` is at most this: bfloat16-like and
narrower significands; from half precision (11 x 11) up the HLS float cores use DSPs (the
Vitis ``fmul max_dsp`` core of the ayumiohno report uses 3 DSPs for float32)."""

Operand = int | tuple[int, int]
"""A fixed-point width in bits, or a float format as (exponent bits, mantissa bits)."""


@dataclass(frozen=True)
class DatapathConstants:
    """Architecture constants of the accelerator model (study.yaml ``hardware.datapath``).

    Attributes:
        mul_lut_max_bits: A fixed ``W x A`` multiply is built in LUTs when ``W + A`` is at most
            this, else on DSPs; a float multiply when ``2 (M + 1)`` is (and at most
            :data:`FLOAT_MUL_LUT_MAX_BITS`). 22 reproduces every
            HLS report at hand: 8 x 8 in fabric (aa08453 conv1, Vivado HLS 2020.1), 16 x 16 on
            DSP48 (hls4ml Dense, ap_fixed<16,6>), and in the 2,034 wa-hls4ml designs (Vitis
            HLS 2023.2, 16-bit activations) 16 x 2..6 in fabric, 16 x 8..16 on DSPs (DSP count
            exact on 98.7 % of them with this threshold).
        lutram_max_depth: Memories up to this many words go to distributed RAM, deeper ones to
            block RAM (64: one LUT6 is a 64 x 1 RAM, UG474; Vivado's inference does the same
            for small arrays).
        control_lut: LUTs per layer for its FSM, loop counters, address generation and
            multiplexers. 500 is the order of the non-operator LUTs of the single-layer HLS
            reports (aa08453 conv1: 684 = 492 multiplexer + 192 register LUTs; YanLunHuang
            conv_2d: 568 multiplexer; ayumiohno depthwise px: 646).
        control_ff: Flip-flops per layer for the same (state, counters, pipeline valid bits);
            300, the order of the registers of those reports that are not operator pipeline
            registers (which the operator library already counts).
        control_cycles: Cycles per layer outside the pipelined loop (start, memory read and
            write-back): 3. (The hls4ml model fits this per layer instead: ``cycles``
            coefficients of :class:`~hardware_models.Hls4mlCoefficients`.)
        bram_min_multipliers: A weight ROM deeper than ``lutram_max_depth`` goes to block RAM
            when one word holds at least this many weights (the layer's multipliers), else it
            is synthesized in LUTs. 9: the threshold that classifies 95.7 % of the 2,034
            wa-hls4ml designs (Vitis HLS 2023.2) by whether their weights are in block RAM
            (reported BRAM_18K >= 5); hls4ml's template asks for block RAM always
            (``ROM_nP_BRAM``), the tool does not follow it for narrow ROMs.

    Raises:
        HardwareModelError: If a field is not a number >= 0.
    """

    mul_lut_max_bits: int = 22
    lutram_max_depth: int = LUTRAM_DEPTH
    control_lut: float = 500.0
    control_ff: float = 300.0
    control_cycles: int = 3
    bram_min_multipliers: int = 9

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise HardwareModelError(
                    f"DatapathConstants.{item.name}: expected a number >= 0, got {value!r}"
                )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary (with a ``version``)."""
        return {"version": _SCHEMA_VERSION, **asdict(self)}


@dataclass(frozen=True)
class Datapath:
    """The operators of one multiply-accumulate lane of a layer, as operator-library keys.

    Attributes:
        multiplier: ``(kind, widths)`` of the multiplier.
        accumulator: ``(kind, widths)`` of the accumulator (``accumulate`` or ``fadd``).
        lookup: ``(kind, widths)`` of the codebook lookup of shared weights, or ``None``.
        activation: ``(kind, widths)`` of the ReLU at the output.
        weight_word_bits: Bits stored per weight (the index bits for shared weights).
        input_bits: Bits of one input activation.
        output_bits: Bits of one output activation.
    """

    multiplier: tuple[str, tuple[int, ...]]
    accumulator: tuple[str, tuple[int, ...]]
    lookup: tuple[str, tuple[int, ...]] | None
    activation: tuple[str, tuple[int, ...]]
    weight_word_bits: int
    input_bits: int
    output_bits: int


def operand(fmt: FixedPoint | FloatFormat | None) -> Operand:
    """The operand a format feeds to an operator; ``None`` (left float) is float32.

    Example:
        >>> operand(FixedPoint(8, 2)), operand(None)
        (8, (8, 23))
    """
    if fmt is None:
        return FLOAT32
    if isinstance(fmt, FixedPoint):
        return fmt.word_length
    return (fmt.exponent_bits, fmt.mantissa_bits)


def operand_bits(value: Operand) -> int:
    """Bits of one value of an operand (``1 + E + M`` for a float)."""
    return value if isinstance(value, int) else 1 + value[0] + value[1]


def choose_datapath(
    shape: LayerShape,
    layer: LayerConfig,
    *,
    input_operand: Operand,
    output_operand: Operand,
    reuse: int,
    constants: DatapathConstants,
) -> Datapath:
    """Choose the operators of one layer's lanes from its formats.

    * Fixed weights ``W`` and fixed inputs ``A``: ``mul_lut(W, A)`` when ``W + A <=
      mul_lut_max_bits``, else ``mul_dsp(W, A)``; ``accumulate(W + A, W_acc)`` with ``W_acc``
      the configuration's accumulator word length, or ``W + A + ceil(log2 fan_in)`` (a sum
      that cannot overflow); ReLU at ``W_acc`` bits.
    * A float operand on either side (a float format, float32 where the configuration leaves
      weights or activations unformatted, or a float codebook): ``fmul_lut``/``fmul_dsp`` and
      ``fadd`` at the widest exponent and mantissa of the float operands; a fixed operand is
      converted to it at no modelled cost.
    * Shared weights (``k`` clusters, codebook width ``C``): the stored word is the
      ``ceil(log2 k)``-bit index; each lane looks its centroid up in a codebook held in LUTs,
      ``lookup(k x m, C)`` where ``m = min(codebooks, reuse)`` codebooks pass through one lane
      (one per layer: ``m = 1``; per channel: the channels a lane serves), then multiplies at
      ``C`` bits as above. (The alternative, accumulating activations per cluster and
      multiplying k sums, needs ``k`` accumulators per output and is not modelled.)

    Args:
        shape: The layer.
        layer: Its formats.
        input_operand: Its input activations (the previous layer's output).
        output_operand: Its output activations.
        reuse: Its reuse factor.
        constants: The thresholds.
    """
    weights = layer.weights
    lookup = None
    if isinstance(weights, WeightSharing):
        weight_operand = operand(weights.codebook)
        word_bits = weights.index_bits
        if weights.clusters > 1:
            per_lane = min(weights.codebooks(shape.weight_shape), reuse)
            lookup = ("lookup", (weights.clusters * per_lane, weights.codebook_bits))
    else:
        weight_operand = operand(weights)
        word_bits = operand_bits(weight_operand)
    floats = [op for op in (weight_operand, input_operand) if not isinstance(op, int)]
    if floats:
        em = (max(e for e, _ in floats), max(m for _, m in floats))
        in_lut = 2 * (em[1] + 1) <= min(constants.mul_lut_max_bits, FLOAT_MUL_LUT_MAX_BITS)
        multiplier = ("fmul_lut" if in_lut else "fmul_dsp", em)
        accumulator = ("fadd", em)
        relu_bits = 1 + em[0] + em[1]
    else:
        w, a = int(weight_operand), int(input_operand)  # type: ignore[arg-type]
        product = w + a
        kind = "mul_lut" if product <= constants.mul_lut_max_bits else "mul_dsp"
        multiplier = (kind, (w, a))
        if layer.accumulator is not None:
            acc = layer.accumulator.word_length
        else:
            acc = product + math.ceil(math.log2(max(shape.fan_in, 1)))
        accumulator = ("accumulate", (min(product, acc), max(acc, 1)))
        relu_bits = max(acc, 1)
    return Datapath(
        multiplier=multiplier,
        accumulator=accumulator,
        lookup=lookup,
        activation=("relu", (relu_bits,)),
        weight_word_bits=word_bits,
        input_bits=operand_bits(input_operand),
        output_bits=operand_bits(output_operand),
    )
