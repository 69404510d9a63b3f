"""What hls4ml generates for one layer: the reuse factor it uses and the hardware it asks for.

The rules below are read from hls4ml's public templates and backend (repository
``fastmachinelearning/hls4ml``, checked at v0.8.1 and at commit ``ef92ebdf``); each function
names its source. They are *derived* counts (multipliers, multiplexer inputs, register and ROM
bits, cycles); how many LUTs, flip-flops and block RAMs the HLS tool spends per count is not
derivable and is fitted on real reports (:mod:`hardware_models._fit`).

* **Reuse factor** (:func:`valid_reuse_factors`, :func:`reuse_factor`): for the ``resource``
  strategy hls4ml moves a requested reuse factor to the closest valid one
  (``FPGABackend._validate_reuse_factor`` / ``get_closest_reuse_factor`` in
  ``hls4ml/backends/fpga/fpga_backend.py``, called from ``VivadoBackend.init_dense`` /
  ``init_conv2d``); the ``latency`` strategy keeps it (``init_dense``'s ``else`` branch) and uses
  it as the pipeline's initiation interval (``#pragma HLS PIPELINE II=reuse_factor`` in
  ``nnet_dense_latency.h``).
* **Multipliers**: ``block_factor = ceil(n_in * n_out / R)`` (``nnet_dense_resource.h``,
  ``DIV_ROUNDUP(n_in * n_out, reuse_factor)``; the latency strategy's
  ``multiplier_limit`` in ``core_templates.py`` is the same number).
* **Weights**: ``#pragma HLS ARRAY_RESHAPE variable=weights block factor=block_factor`` makes a
  ROM of ``R`` words of ``block_factor x W`` bits, read one word per cycle of ``ReuseLoop``
  (``nnet_dense_resource.h``). Where it lands (LUTs, LUT RAM, block RAM) is the HLS tool's
  choice; see :class:`LayerPlan` for the rule and its source.
* **Multiplexers** (``io_parallel``: every array is partitioned, so selecting an element by a
  loop index is a multiplexer): with ``R <= n_in`` (``dense_resource_rf_leq_nin``) each
  multiplier reads ``data[in_index]`` with ``in_index`` stepping by ``R``: an ``R:1``
  multiplexer per multiplier, shared by the multipliers that read the same inputs
  (``n_in / R`` distinct ones), and it always adds into the same accumulator; with ``R > n_in``
  (``dense_resource_rf_gt_nin_rem0``) every multiplier reads the same ``data[ir % n_in]``: one
  shared ``n_in:1`` multiplexer, and each multiplier adds into one of ``R / n_in``
  accumulators: an ``(R / n_in):1`` read multiplexer per multiplier.
* **Convolutions** (``conv_2d_resource_cl`` in ``nnet_conv2d_resource.h``, ``io_parallel``): the
  window of one output pixel is gathered from the whole (partitioned) input (``fill_buffer``,
  a ``positions:1`` multiplexer per window element), then computed as a dense layer of
  ``n_in = C_in K_h K_w`` and ``n_out = C_out``; pixels one after the other. With
  ``io_stream`` a line buffer of ``K_h - 1`` rows replaces the gathering multiplexers
  (``nnet_conv_stream.h``, ``compute_output_buffer_2d``).
* **Pooling, residual add**: one operation per output, ``#pragma HLS PIPELINE`` with
  ``ALLOCATION limit = outputs / reuse_factor`` (``nnet_pooling.h``), ``#pragma HLS PIPELINE``
  fully parallel (``nnet_merge.h``, ``add``); with ``io_stream`` one pixel per cycle
  (``nnet_pooling_stream.h``, ``nnet_merge_stream.h``).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from hardware_models._errors import HardwareModelError
from hardware_models._settings import IO_TYPES, STRATEGIES

if TYPE_CHECKING:
    from evaluators import LayerShape

__all__ = [
    "IO_TYPES",
    "STRATEGIES",
    "LayerPlan",
    "LayerWidths",
    "closest_reuse_factor",
    "index_table_bram",
    "mult_size",
    "plan_layer",
    "reuse_factor",
    "valid_reuse_factors",
    "weight_rom_bram",
]


INDEX_BRAM_MIN_BITS = 1024
"""Smallest ``outidx`` table the HLS tool puts in block RAM (bits; from the wa-hls4ml reports:
1,024 classifies them best among 0, 512, 1,024, 2,048, 3,000)."""

BRAM_MAX_WEIGHT_BITS = 14
"""Widest weight whose wide ROM (:data:`DatapathConstants.bram_min_multipliers` or more weights
a word) still goes to block RAM. From the wa-hls4ml reports (Vitis HLS 2023.2): every design
with such a ROM and 2- to 14-bit weights has its weights in block RAM, while with 16-bit
weights the same networks report 1 to 22 BRAM_18K (112-104-24 at reuse 1024: 43 BRAM_18K with
14-bit weights, 8 with 16-bit ones, and 5,000 more LUTs): the ROM is built in LUTs."""


def weight_rom_bram(multipliers: int, weight_bits: int, *, wide: bool) -> float:
    """BRAM_18K of a Resource-strategy weight ROM in block RAM, as Vitis HLS 2023.2 counts it.

    hls4ml's Vitis templates (``templates/vitis/nnet_utils/nnet_dense_resource.h``, v0.8.1)
    view the weights as ``weights[block_factor][reuse_factor]`` and read one column of
    ``block_factor`` weights per cycle of the pipelined ``ReuseLoop``, leaving the
    partitioning to the tool ("we don't apply ARRAY_RESHAPE pragma as Vitis figures this out
    on its own"). How the tool then lays the ROM out is not in the templates; the count below
    is read off the wa-hls4ml reports (2,034 two-layer and 223 three-layer designs) by taking
    networks synthesized at several weight widths: half a BRAM_18K per *pair* of weights of a
    word (a dual-port block serves two of them) and per stored bit plane, the planes being
    ``W - 2`` for a wide ROM (``block_factor >= 9``; 2-bit weights count as 4-bit) and a
    single one for a narrow ROM of 2-bit weights. The reports hold even widths only (2..16):
    odd widths, 3-bit weights (taken as 2-bit ones) and the ``latency`` strategy are
    extrapolations. Examples (report = ``1``, the
    two ``outidx`` half blocks, + this count): 128-128-8 at reuse 1024 (16 weights a word in
    its first layer) reports 9, 9, 17, 25 BRAM_18K at 2, 4, 6, 8 bits (``8 x 0.5 x (W - 2) + 1``);
    8-128-112 (14 weights a word in its second layer) 43 at 14 bits (``7 x 0.5 x 12 + 1``);
    104-64-128 at reuse 1024 with 2-bit weights reports 5 (``1 + 2 + 2``: four pairs of
    weights a word in each layer, one plane).

    Args:
        multipliers: Weights per ROM word (``block_factor``).
        weight_bits: Bits of one weight.
        wide: The ROM holds at least ``bram_min_multipliers`` weights a word.

    Example:
        >>> weight_rom_bram(16, 8, wide=True)
        24.0
        >>> weight_rom_bram(4, 2, wide=False)
        1.0
    """
    planes = max(weight_bits, 4) - 2 if wide else 1
    return 0.5 * math.ceil(multipliers / 2) * planes


def index_table_bram(words: int, outscale: int) -> float:
    """BRAM_18K of the ``outidx`` table of ``dense_resource_rf_gt_nin_rem0``.

    The template (``nnet_dense_resource.h``, Vivado and Vitis alike) fills ``int
    outidx[reuse_factor]`` with the accumulator each cycle adds into, ``R`` words of
    ``ceil(log2(R / n_in))`` bits once the tool trims them. Read off the wa-hls4ml reports
    (a per-layer least-squares fit over the 1,747 designs whose weights are not in block RAM
    suggested the steps, which were then set by hand and checked row by row; nothing is
    fitted at run time): nothing below :data:`INDEX_BRAM_MIN_BITS` bits, then half a BRAM_18K
    per 2,048 words, and half a block more for tables deeper than 4,096 words of 7 bits or more
    (5,376 words x 7 bits: 2 BRAM_18K, 5,376 x 6: 1.5).

    Example:
        >>> index_table_bram(1664, 16), index_table_bram(3328, 32), index_table_bram(5376, 112)
        (0.5, 1.0, 2.0)
    """
    bits = max(1, math.ceil(math.log2(outscale)))
    if words * bits < INDEX_BRAM_MIN_BITS:
        return 0.0
    blocks = 0.5 * math.ceil(words / 2048)
    if words > 4096 and bits >= 7:
        blocks += 0.5
    return blocks


MAC_KINDS = ("linear", "conv", "depthwise")
"""Layer kinds computed by multiply-accumulate (the others: ``add``, ``maxpool``, ``avgpool``)."""


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise HardwareModelError(f"{name}: expected one of {list(allowed)}, got {value!r}")


@cache
def valid_reuse_factors(n_in: int, n_out: int) -> tuple[int, ...]:
    """The reuse factors hls4ml accepts for a layer of ``n_in x n_out`` multiplications.

    hls4ml's rule (``FPGABackend._validate_reuse_factor``, ``fpga_backend.py``): with
    ``multiplier_limit = ceil(n_in n_out / min(n_in, R))``, ``R`` is valid when
    ``multiplier_limit % n_out == 0 or R >= n_in`` (functional correctness of
    ``dense_resource``), ``R % n_in == 0 or R < n_in``, and ``n_in n_out % R == 0`` (quality
    of results).

    Args:
        n_in: Inputs of one output (``C_in K_h K_w`` for a convolution).
        n_out: Outputs (``C_out``).

    Returns:
        The valid reuse factors, ascending (``n_in n_out`` is always one).

    Raises:
        HardwareModelError: If a size is not a positive integer.

    Example:
        >>> valid_reuse_factors(4, 8)
        (1, 2, 4, 8, 16, 32)
    """
    for name, value in (("n_in", n_in), ("n_out", n_out)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise HardwareModelError(f"{name}: expected an integer >= 1, got {value!r}")
    total = n_in * n_out
    divisors = set()
    for low in range(1, math.isqrt(total) + 1):  # only divisors of n_in n_out can be valid
        if total % low == 0:
            divisors.update((low, total // low))
    valid = []
    for rf in sorted(divisors):
        limit = math.ceil(total / min(n_in, rf))
        if (limit % n_out == 0 or rf >= n_in) and (rf % n_in == 0 or rf < n_in):
            valid.append(rf)
    return tuple(valid)


def closest_reuse_factor(valid: tuple[int, ...], requested: int) -> int:
    """The valid reuse factor closest to ``requested``; ties go to the smaller one.

    hls4ml's ``FPGABackend.get_closest_reuse_factor`` (``bisect_left`` on the sorted list).

    Example:
        >>> closest_reuse_factor((104, 208, 416, 832, 1664), 1024)
        832
    """
    if not valid:
        raise HardwareModelError("closest_reuse_factor: no valid reuse factor given")
    pos = bisect_left(valid, requested)
    if pos == 0:
        return valid[0]
    if pos == len(valid):
        return valid[-1]
    before, after = valid[pos - 1], valid[pos]
    return after if after - requested < requested - before else before


def reuse_factor(n_in: int, n_out: int, requested: int, *, strategy: str = "latency") -> int:
    """The reuse factor hls4ml uses for a layer, given the one requested.

    One function for the cost model and the export to hls4ml: what the model prices is what
    the exported project asks for.

    * ``resource``: the closest valid reuse factor (:func:`valid_reuse_factors`,
      :func:`closest_reuse_factor`), as ``VivadoBackend.set_closest_reuse_factor`` does (it
      prints a warning and moves the value).
    * ``latency``: hls4ml keeps the requested value (``init_dense``); the model clips it to
      ``[1, n_in n_out]`` (a larger one would leave the pipeline idle).

    Args:
        n_in: Inputs of one output (see :func:`mult_size`).
        n_out: Outputs.
        requested: The requested reuse factor (>= 1).
        strategy: ``latency`` or ``resource``.

    Raises:
        HardwareModelError: On an unknown strategy or a reuse factor below 1.

    Example:
        >>> reuse_factor(104, 128, 1024, strategy="resource")
        832
        >>> reuse_factor(128, 64, 1024, strategy="resource")
        1024
    """
    _check_choice("strategy", strategy, STRATEGIES)
    if isinstance(requested, bool) or not isinstance(requested, int) or requested < 1:
        raise HardwareModelError(f"reuse_factor: expected an integer >= 1, got {requested!r}")
    if strategy == "resource":
        return closest_reuse_factor(valid_reuse_factors(n_in, n_out), requested)
    return min(requested, n_in * n_out)


def mult_size(shape: LayerShape) -> tuple[int, int]:
    """hls4ml's ``(n_in, n_out)`` of a layer, the sizes its reuse-factor rule reads.

    ``FPGABackend.get_layer_mult_size``: Dense ``(n_in, n_out)``; Conv ``(n_chan K_h K_w,
    n_filt)``. A depthwise convolution is a ``Conv2D`` there too, so ``n_in`` counts all its
    input channels although each output reads one of them.

    Example:
        >>> from evaluators import LayerShape
        >>> mult_size(LayerShape("fc", "linear", (8, 4), (4,), (8,), 32))
        (4, 8)
    """
    c_out = shape.weight_shape[0]
    groups = getattr(shape, "groups", 1)
    return shape.fan_in * groups, c_out


@dataclass(frozen=True)
class LayerWidths:
    """Bit widths of one layer as the HLS code has them.

    Attributes:
        input_bits: One input activation (``data_T``).
        weight_bits: One stored weight (``weight_t``; the index for shared weights).
        product_bits: One multiplier operand on the weight side (the codebook width for shared
            weights, else ``weight_bits``).
        accumulator_bits: One accumulator (``accum_t``).
        output_bits: One output activation (``res_T``).
        dsp: The multiplier is bound to DSP slices (else LUTs).
        dsp_per_multiplier: DSP slices of one multiplier when on DSPs.
    """

    input_bits: int
    weight_bits: int
    product_bits: int
    accumulator_bits: int
    output_bits: int
    dsp: bool
    dsp_per_multiplier: int = 1


@dataclass(frozen=True)
class LayerPlan:
    """The hardware hls4ml generates for one layer, as counts (see the module docstring).

    ``features`` are the structural counts the fitted coefficients multiply
    (:class:`~hardware_models._fit.Hls4mlCoefficients`); every one is derived from the
    templates, none is fitted:

    * ``mux_bits``: 2:1-multiplexer bit equivalents (a ``k:1`` multiplexer of ``b`` bits is
      ``(k - 1) b``): input selection, accumulator selection, convolution window gathering.
    * ``rom_lut_bits``: weight bits held in LUTs (a constant ROM read by a loop index).
    * ``adder_bits``: accumulate adders, ``multipliers x accumulator_bits`` (one add per
      product per cycle), plus the adders of pooling and residual layers.
    * ``fabric_mul_bits``: partial-product bits of the multipliers in LUTs (``A x W`` each).
    * ``acc_bits``: accumulator registers, ``n_out x positions in flight x accumulator_bits``.
    * ``input_bits``, ``output_bits``: the layer's partitioned input and output arrays.
    * ``activation_bits``: the ReLU layer after it (hls4ml writes activations as their own
      layer), ``outputs x output_bits`` (``io_stream``: one pixel, ``C_out x output_bits``);
      0 when no activation follows.
    * ``line_buffer_bits``: ``io_stream`` convolution line buffers.
    * ``weight_bram``: BRAM_18K of a weight ROM placed in block RAM
      (:func:`weight_rom_bram`: counted from the word's weights and bits, not fitted).
    * ``index_bram``: BRAM_18K of the ``outidx`` table of ``dense_resource_rf_gt_nin_rem0``
      (:func:`index_table_bram`: ``R`` words of ``ceil(log2(R / n_in))`` bits, half a block
      per 2,048 words from :data:`INDEX_BRAM_MIN_BITS` bits).
    * ``multipliers``: multiplier instances reading their weights from a memory (0 when the
      weights are constants folded into the logic).
    * ``layers``: 1 (per-layer control: FSM, loop counters).

    Attributes:
        kind: The layer kind (``linear``, ``conv``, ``depthwise``, ``add``, ``maxpool``,
            ``avgpool``).
        strategy: ``latency`` or ``resource``.
        io_type: ``io_parallel`` or ``io_stream``.
        requested_reuse: The reuse factor asked for.
        reuse: The reuse factor hls4ml uses (:func:`reuse_factor`).
        multipliers: Multipliers instantiated (``block_factor``, times pixels in parallel).
        positions: Output positions computed one after the other (pixels of a convolution).
        cycles_per_position: Cycles of one position (``ceil(MACs per position / multipliers)``).
        weight_depth: Words of the weight memory.
        weight_width: Bits of one word.
        weight_placement: ``none``, ``constants`` (folded into logic), ``lutram``, ``lut_rom``
            (constant ROM synthesized in LUTs) or ``bram``.
        dsp: DSP slices of the multipliers.
        features: Structural counts (see above).
    """

    kind: str
    strategy: str
    io_type: str
    requested_reuse: int
    reuse: int
    multipliers: int
    positions: int
    cycles_per_position: int
    weight_depth: int
    weight_width: int
    weight_placement: str
    dsp: int
    features: dict[str, float] = field(default_factory=dict)


FEATURES = (
    "mux_bits",
    "rom_lut_bits",
    "adder_bits",
    "fabric_mul_bits",
    "acc_bits",
    "input_bits",
    "output_bits",
    "activation_bits",
    "line_buffer_bits",
    "weight_bram",
    "index_bram",
    "multipliers",
    "layers",
)
"""Names of :attr:`LayerPlan.features`, in a fixed order."""


def plan_layer(
    shape: LayerShape,
    widths: LayerWidths,
    *,
    requested_reuse: int,
    strategy: str,
    io_type: str,
    activation: bool,
    lutram_max_depth: int,
    bram_min_multipliers: int,
) -> LayerPlan:
    """What hls4ml generates for one layer (rules in the module docstring).

    Weight placement (``resource`` strategy; the ``latency`` strategy folds constant weights
    into the logic when ``R = 1``): a ROM of one word (``R = 1``) is constants; up to
    ``lutram_max_depth`` words, LUT RAM; deeper, block RAM when a word holds at least
    ``bram_min_multipliers`` weights of at most :data:`BRAM_MAX_WEIGHT_BITS` bits, else a ROM
    synthesized in LUTs; 2- and 3-bit weights go to block RAM from two a word. hls4ml's Vitis
    template leaves the choice to the tool (no ``RESOURCE`` or ``ARRAY_RESHAPE`` pragma on the
    weights in ``templates/vitis/nnet_utils/nnet_dense_resource.h``, v0.8.1); the thresholds
    are read off the wa-hls4ml reports (Vitis HLS 2023.2): every design with a layer of 9 or
    more weights a word and 2- to 14-bit weights reports its weights in block RAM; of the
    layers of 8 or fewer, nearly none does, 2-bit weights aside (an exception the rule misses:
    112-56-64 at reuse 1024, 7 and 4 weights a word, reports ``W - 1`` BRAM_18K at 4 to 12
    bits), and the block count follows :func:`weight_rom_bram`. The 2- and 3-bit rule is
    applied to the ``resource`` strategy only (the reports' strategy); the others apply to
    both, unvalidated for ``latency``.

    Args:
        shape: The layer (``evaluators.LayerShape``).
        widths: Its bit widths.
        requested_reuse: Reuse factor requested (study.yaml ``hardware.reuse_factor``).
        strategy: ``latency`` or ``resource``.
        io_type: ``io_parallel`` or ``io_stream``.
        activation: Whether a ReLU layer follows (counted in ``activation_bits``).
        lutram_max_depth: Deepest weight memory kept in LUT RAM.
        bram_min_multipliers: Fewest weights per word that send a deep ROM to block RAM.

    Raises:
        HardwareModelError: On an unknown strategy, I/O type or layer kind.
    """
    _check_choice("strategy", strategy, STRATEGIES)
    _check_choice("io_type", io_type, IO_TYPES)
    kind = shape.kind
    if kind in MAC_KINDS:
        return _plan_mac(
            shape,
            widths,
            requested_reuse=requested_reuse,
            strategy=strategy,
            io_type=io_type,
            activation=activation,
            lutram_max_depth=lutram_max_depth,
            bram_min_multipliers=bram_min_multipliers,
        )
    if kind in ("add", "maxpool", "avgpool"):
        return _plan_elementwise(shape, widths, requested_reuse, strategy, io_type)
    raise HardwareModelError(
        f"layer {shape.name!r}: unknown kind {kind!r}; known: "
        f"{[*MAC_KINDS, 'add', 'maxpool', 'avgpool']}"
    )


def _plan_mac(
    shape: LayerShape,
    widths: LayerWidths,
    *,
    requested_reuse: int,
    strategy: str,
    io_type: str,
    activation: bool,
    lutram_max_depth: int,
    bram_min_multipliers: int,
) -> LayerPlan:
    n_in, n_out = mult_size(shape)
    c_out = shape.weight_shape[0]
    positions = max(1, shape.outputs // c_out)
    per_position = max(1, shape.macs // positions)  # true MACs (a depthwise conv: C K K)
    reuse = min(reuse_factor(n_in, n_out, requested_reuse, strategy=strategy), per_position)
    multipliers = math.ceil(per_position / reuse)
    cycles = math.ceil(per_position / multipliers)
    a, w, acc = widths.input_bits, widths.weight_bits, widths.accumulator_bits
    # A depthwise output reads only its own channel: its dense view has K K inputs.
    fan_in = shape.fan_in
    if strategy == "latency" and reuse == 1:
        placement = "constants"
    elif cycles <= 1:
        placement = "constants"
    elif cycles <= lutram_max_depth:
        placement = "lutram"
    elif multipliers >= bram_min_multipliers and w <= BRAM_MAX_WEIGHT_BITS:
        placement = "bram"
    elif strategy == "resource" and w <= 3 and multipliers >= 2:
        # 2-bit weights: the wa-hls4ml reports count half a BRAM_18K per pair of weights a
        # word (see weight_rom_bram); a single 2-bit weight a word stays in LUTs.
        placement = "bram"
    else:
        placement = "lut_rom"
    weight_bits = shape.weights * w
    mux = 0.0
    index_bram = 0.0
    if cycles > 1:
        if cycles <= fan_in:
            # An R:1 input multiplexer per multiplier; multipliers im and im + n_in / R read
            # the same inputs in the same cycles, so n_in / R distinct multiplexers remain.
            distinct = min(multipliers, math.ceil(fan_in / cycles))
            mux += distinct * (cycles - 1) * a
        else:
            outscale = math.ceil(cycles / fan_in)
            mux += (fan_in - 1) * a  # one shared n_in:1 input multiplexer
            mux += multipliers * (outscale - 1) * acc  # accumulator select
            if strategy == "resource":
                # dense_resource_rf_gt_nin_rem0's outidx[R] table (index_table_bram).
                index_bram = index_table_bram(cycles, outscale)
    line_buffer = 0.0
    channels_in = shape.input_shape[0] if len(shape.input_shape) > 1 else 0
    if kind_is_conv(shape) and positions > 1:
        window = fan_in * getattr(shape, "groups", 1)
        if io_type == "io_parallel":
            mux += window * (positions - 1) * a  # fill_buffer gathers the window
        else:
            kernel_h = shape.weight_shape[2] if len(shape.weight_shape) > 2 else 1
            width_in = shape.input_shape[-1]
            line_buffer = (kernel_h - 1) * width_in * channels_in * a
    fabric = 0.0 if widths.dsp else multipliers * a * widths.product_bits
    dsp = multipliers * widths.dsp_per_multiplier if widths.dsp else 0
    if io_type == "io_parallel":
        in_bits, out_bits = shape.inputs * a, shape.outputs * widths.output_bits
        act_elements = shape.outputs  # the ReLU layer is unrolled over the whole array
    else:  # streams: the window (or input vector) and a FIFO word plus its register
        in_bits, out_bits = n_in * a, 2 * c_out * widths.output_bits
        act_elements = c_out  # one pixel at a time
    features = {
        "mux_bits": mux,
        "rom_lut_bits": float(weight_bits) if placement == "lut_rom" else 0.0,
        "adder_bits": float(multipliers * acc),
        "fabric_mul_bits": float(fabric),
        "acc_bits": float(c_out * acc),
        "input_bits": float(in_bits),
        "output_bits": float(out_bits),
        "activation_bits": float(act_elements * widths.output_bits) if activation else 0.0,
        "line_buffer_bits": float(line_buffer),
        "weight_bram": (
            weight_rom_bram(multipliers, w, wide=multipliers >= bram_min_multipliers)
            if placement == "bram"
            else 0.0
        ),
        "index_bram": index_bram,
        # The per-multiplier overhead of reading weights from a memory (word routing, product
        # register); constant weights folded into the logic have none.
        "multipliers": float(multipliers) if placement != "constants" else 0.0,
        "layers": 1.0,
    }
    return LayerPlan(
        kind=shape.kind,
        strategy=strategy,
        io_type=io_type,
        requested_reuse=requested_reuse,
        reuse=reuse,
        multipliers=multipliers,
        positions=positions,
        cycles_per_position=cycles,
        weight_depth=cycles,
        weight_width=multipliers * w,
        weight_placement=placement,
        dsp=dsp,
        features=features,
    )


def kind_is_conv(shape: LayerShape) -> bool:
    """Whether the layer slides a window (a convolution, depthwise or not)."""
    return shape.kind in ("conv", "depthwise")


def _plan_elementwise(
    shape: LayerShape, widths: LayerWidths, requested_reuse: int, strategy: str, io_type: str
) -> LayerPlan:
    """Residual add (two inputs per output) and pooling (``K x K`` inputs per output).

    ``io_parallel``: hls4ml's ``add`` is one pipelined loop over every element (``nnet_merge.h``,
    no reuse: one adder per output); pooling limits its operators to ``outputs / R``
    (``ALLOCATION ... limit``, ``nnet_pooling.h``), each fed by an ``R:1`` multiplexer.
    ``io_stream``: both work one pixel at a time (``C`` operators, one pixel per cycle);
    pooling keeps ``K_h - 1`` rows of its input in a line buffer.
    """
    outputs = shape.outputs
    per_output = shape.fan_in
    a = widths.input_bits
    channels = shape.output_shape[0] if len(shape.output_shape) > 1 else outputs
    positions = max(1, outputs // channels)
    line_buffer = 0.0
    if io_type == "io_stream":
        reuse, lanes, cycles = 1, channels, 1
        mux = 0.0
        in_bits = channels * per_output * a
        out_bits = 2 * channels * widths.output_bits
        if shape.kind != "add" and len(shape.input_shape) > 2 and positions > 1:
            rows = max(1, shape.input_shape[1] // max(1, shape.output_shape[1]))
            line_buffer = (rows - 1) * shape.input_shape[-1] * channels * a
        plan_positions = positions
    else:
        reuse = 1 if shape.kind == "add" else max(1, min(requested_reuse, outputs))
        lanes = math.ceil(outputs / reuse)
        cycles = reuse
        mux = (reuse - 1) * lanes * per_output * a if reuse > 1 else 0.0
        in_bits, out_bits = shape.inputs * a, outputs * widths.output_bits
        plan_positions = 1
    features = dict.fromkeys(FEATURES, 0.0)
    features.update(
        {
            "mux_bits": float(mux),
            "adder_bits": float(lanes * (per_output - 1) * (a + 1)),
            "input_bits": float(in_bits),
            "output_bits": float(out_bits),
            "line_buffer_bits": float(line_buffer),
            "layers": 1.0,
        }
    )
    return LayerPlan(
        kind=shape.kind,
        strategy=strategy,
        io_type=io_type,
        requested_reuse=requested_reuse,
        reuse=reuse,
        multipliers=0,
        positions=plan_positions,
        cycles_per_position=cycles,
        weight_depth=0,
        weight_width=0,
        weight_placement="none",
        dsp=0,
        features=features,
    )
