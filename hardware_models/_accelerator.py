"""The accelerator cost model: resources, latency and energy of a configuration on an FPGA.

The accelerator is the layer-per-engine architecture hls4ml generates (``io_parallel``,
``Resource`` strategy), run one layer after the other (no dataflow overlap between layers):

* **Parallelism.** A layer computes its output positions one after the other (``H_out x W_out``
  for a convolution, 1 for a linear layer). One position takes ``fan_in x C_out`` multiplies
  (``macs_per_position``). The *reuse factor* ``R`` is hls4ml's: how many times each multiplier
  is used per position, so the layer instantiates ``n_mult = ceil(macs_per_position / R)``
  multiply-accumulate lanes (``R`` is clipped to ``[1, macs_per_position]``), and a position
  takes ``R_eff = ceil(macs_per_position / n_mult)`` cycles.
* **Datapath.** Each lane is a multiplier feeding an accumulator (an adder tree of ``n`` inputs
  has ``n - 1`` adders plus the output register, counted as ``n`` accumulate operators). The
  kinds follow the formats (``_datapath.choose_datapath``): fixed ``W x A`` ->
  ``mul_lut`` when ``W + A <= mul_lut_max_bits`` (16: an 8 x 8 product stays in fabric as in
  the aa08453 Vivado HLS report, a 16 x 16 one goes to a DSP as in hls4ml's), else ``mul_dsp``;
  accumulator ``accumulate(W + A, W_acc)`` with ``W_acc`` the configuration's accumulator or
  ``W + A + ceil(log2 fan_in)`` (no overflow). A float operand on either side (a float
  format, or float32 where the configuration leaves it) makes the lane float: ``fmul_*`` and
  ``fadd`` at the widest exponent and mantissa of the float operands (fixed operands are
  converted at no modelled cost). Shared weights: the lane reads a ``ceil(log2 k)``-bit index,
  looks the centroid up in a codebook held in LUTs (``lookup(k x codebooks per lane, C)``) and
  multiplies at the codebook's width ``C``; a lane serves ``min(codebooks, R)`` codebooks (per-
  channel codebooks multiply the lookup's entries). One ReLU per output lane,
  ``min(C_out, n_mult)`` of them, at the accumulator width.
* **Memories** (:func:`~hardware_models._memory.memory_cost`). Weights: a ROM of ``R_eff``
  words of ``n_mult x W`` bits (every lane reads one weight per cycle), in distributed RAM up
  to 64 words, else 18 Kb block RAMs. Activations: every layer writes its whole output feature
  map into a buffer of ``H_out x W_out`` words of ``C_out x A`` bits (registers for a linear
  layer); the first layer also has an input buffer. Activations the configuration leaves in
  float are 32 bits.
* **Control.** ``control_lut`` LUTs and ``control_ff`` flip-flops per layer for the FSM, loop
  counters, address generation and multiplexers (``DatapathConstants``).
* **Latency.** ``cycles = positions x R_eff + depth`` per layer, ``depth = control_cycles +
  latency(lookup) + latency(mul) + latency(acc) x ceil(log2(max(2, ceil(fan_in / R_eff))))``
  (the adder tree of the products of one output in one cycle); the layers add up; seconds at
  ``clock_mhz``.
* **Energy per inference** (J): ``sum(ops x E_op) + sum(bits accessed x E_bit) + P_static x
  latency``. ``E_op = activity x (LUT x lut_pj + FF x ff_pj + DSP x dsp_pj)`` of the operator
  (:class:`~hardware_models._energy.EnergyConstants`); per MAC one multiply, one accumulate
  (and one lookup), one ReLU per output. Accesses: one weight word per MAC, the input window
  (``fan_in`` words) once per position, each output written once, at the per-bit energy of
  the memory's placement (constants cost nothing).

Resources may be corrected by an :class:`~hardware_models.HlsCalibration` (factors on
``LUT``, ``FF``, ``DSP``, ``BRAM_18K``, applied per layer); energy uses the raw operator counts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from hardware_models._cost_model import Cost, CostModel, weight_memory_bits
from hardware_models._datapath import (
    FLOAT32,
    DatapathConstants,
    Operand,
    choose_datapath,
    operand,
)
from hardware_models._energy import EnergyConstants
from hardware_models._errors import HardwareModelError
from hardware_models._memory import MemoryCost, memory_cost
from hardware_models._operators import OperatorLibrary

if TYPE_CHECKING:
    from evaluators import Configuration, FixedPoint, FloatFormat, LayerConfig, LayerShape
    from hardware_models._calibration import HlsCalibration
    from hardware_models._devices import Device
    from hardware_models._operator_kinds import OperatorCost

__all__ = ["AcceleratorModel"]

_CALIBRATED = {"lut": "LUT", "ff": "FF", "dsp": "DSP", "bram": "BRAM_18K"}


class AcceleratorModel(CostModel):
    """Resources, latency and energy of a configuration on one FPGA (see the module docstring).

    Args:
        shapes: The model's layer shapes in execution order (``evaluators.layer_shapes``);
            each layer's input is the previous layer's output.
        device: The target part (``get_device("xc7z020")``).
        clock_mhz: Clock frequency in MHz.
        reuse_factor: hls4ml reuse factor, one for every layer or per layer name (layers not
            named take 1).
        library: Operator costs; ``None`` loads the shipped Yosys library of the device family.
        energy: Energy constants; ``None`` takes :meth:`EnergyConstants.for_family`.
        datapath: Architecture constants; ``None`` takes the defaults.
        calibration: Fitted correction of LUT/FF/DSP/BRAM_18K estimates, or ``None``.
        input_bits: Fixed-point width of the network input (8: image pixels); ``None`` float32.
        activation_bits: Fixed-point width assumed for activations the configuration leaves
            unformatted; ``None`` costs them as float32.

    Example:
        >>> from evaluators import LayerShape, Configuration, LayerConfig, FixedPoint
        >>> from hardware_models import get_device
        >>> shape = LayerShape("fc", "linear", (8, 4), (4,), (8,), 32)
        >>> model = AcceleratorModel({"fc": shape}, device=get_device("xc7z020"))
        >>> fixed = LayerConfig(weights=FixedPoint(8, 2), activations=FixedPoint(8, 4))
        >>> model.cost(Configuration.of({"fc": fixed}))["dsp"]
        0.0
    """

    metrics = ("lut", "ff", "dsp", "bram", "latency", "energy", "weight_bits", "utilization")

    def __init__(
        self,
        shapes: Mapping[str, LayerShape],
        *,
        device: Device,
        clock_mhz: float = 200.0,
        reuse_factor: int | Mapping[str, int] = 1,
        library: OperatorLibrary | None = None,
        energy: EnergyConstants | None = None,
        datapath: DatapathConstants | None = None,
        calibration: HlsCalibration | None = None,
        input_bits: int | None = 8,
        activation_bits: int | None = None,
    ) -> None:
        self.shapes = shapes
        self.device = device
        self.clock_mhz = clock_mhz
        self.reuse_factor = reuse_factor
        self.library = library
        self.energy = energy
        self.datapath = datapath
        self.calibration = calibration
        self.input_bits = input_bits
        self.activation_bits = activation_bits

    # -- parameters ---------------------------------------------------------------------------

    def _resolved(self) -> tuple[OperatorLibrary, EnergyConstants, DatapathConstants]:
        """Library, energy and datapath constants, defaults filled in (loaded once)."""
        cached = getattr(self, "_resolved_parts", None)
        if cached is not None:
            return cached
        if not self.clock_mhz > 0:
            raise HardwareModelError(f"clock_mhz: expected > 0 MHz, got {self.clock_mhz!r}")
        family = self.device.family
        library = self.library if self.library is not None else OperatorLibrary.default(family)
        energy = self.energy if self.energy is not None else EnergyConstants.for_family(family)
        datapath = self.datapath if self.datapath is not None else DatapathConstants()
        self._reuse_of("")  # validates the reuse factors
        self._resolved_parts = (library, energy, datapath)
        return self._resolved_parts

    def _reuse_of(self, name: str) -> int:
        if isinstance(self.reuse_factor, Mapping):
            unknown = sorted(set(self.reuse_factor) - set(self.shapes))
            if unknown:
                raise HardwareModelError(
                    f"reuse_factor: no layer named {unknown}; layers: {list(self.shapes)}"
                )
            values = dict(self.reuse_factor)
        else:
            values = dict.fromkeys(self.shapes, self.reuse_factor)
        for layer, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise HardwareModelError(
                    f"reuse_factor[{layer!r}]: expected an integer >= 1, got {value!r}"
                )
        return values.get(name, 1)

    # -- the model ----------------------------------------------------------------------------

    def _activation(self, fmt: FixedPoint | FloatFormat | None) -> Operand:
        if fmt is None and self.activation_bits is not None:
            return self.activation_bits
        return operand(fmt)

    def cost(self, configuration: Configuration) -> Cost:
        """Resources, latency and energy of ``configuration`` (see the module docstring).

        Returns:
            ``values``: ``lut``, ``ff``, ``dsp``, ``bram`` (18 Kb blocks), ``latency`` (s),
            ``energy`` (J per inference), ``weight_bits``, ``utilization`` (largest used
            fraction of the device's LUT, FF, DSP or BRAM_18K); ``per_layer``: the same per
            layer (``utilization`` aside) with ``cycles``, ``multipliers``, ``reuse_factor``
            and the energy split ``energy_compute``, ``energy_memory``, ``energy_static``.

        Raises:
            HardwareModelError: On an invalid reuse factor, clock or operator width.
        """
        self._resolved()
        weight_bits = weight_memory_bits(self.shapes, configuration)
        input_operand: Operand = self.input_bits if self.input_bits is not None else FLOAT32
        previous_pj_per_bit: float | None = None
        per_layer: dict[str, dict[str, float]] = {}
        for index, (name, shape) in enumerate(self.shapes.items()):
            layer = configuration.get(name)
            values, input_pj = self._layer(
                shape, layer, input_operand, first=index == 0, input_pj=previous_pj_per_bit
            )
            values["weight_bits"] = float(weight_bits[name])
            per_layer[name] = self._calibrated(values)
            previous_pj_per_bit = input_pj
            input_operand = self._activation(layer.activations)
        totals = {
            key: float(sum(layer[key] for layer in per_layer.values()))
            for key in ("lut", "ff", "dsp", "bram", "latency", "energy", "weight_bits")
        }
        device = self.device
        totals["utilization"] = max(
            totals["lut"] / device.lut,
            totals["ff"] / device.ff,
            totals["dsp"] / device.dsp if device.dsp else 0.0,
            totals["bram"] / device.bram_18k if device.bram_18k else 0.0,
        )
        return Cost(values=totals, per_layer=per_layer)

    def _layer(
        self,
        shape: LayerShape,
        layer: LayerConfig,
        input_operand: Operand,
        *,
        first: bool,
        input_pj: float | None,
    ) -> tuple[dict[str, float], float]:
        """One layer's metrics, and the per-bit energy of its output buffer (the next input)."""
        library, energy, constants = self._resolved()
        family = self.device.family
        c_out = shape.weight_shape[0]
        positions = max(1, shape.outputs // c_out)
        per_position = shape.fan_in * c_out
        reuse = min(max(1, self._reuse_of(shape.name)), per_position)
        lanes = math.ceil(per_position / reuse)
        cycles_per_position = math.ceil(per_position / lanes)
        path = choose_datapath(
            shape,
            layer,
            input_operand=input_operand,
            output_operand=self._activation(layer.activations),
            reuse=reuse,
            constants=constants,
        )

        def op(key: tuple[str, tuple[int, ...]]) -> OperatorCost:
            return library.predict(key[0], key[1], family)

        multiplier, accumulator, relu = (
            op(path.multiplier),
            op(path.accumulator),
            op(path.activation),
        )
        lane_ops = [multiplier, accumulator]
        if path.lookup is not None:
            lane_ops.append(op(path.lookup))
        relu_lanes = min(c_out, lanes)
        lut = lanes * sum(c.lut for c in lane_ops) + relu_lanes * relu.lut
        ff = lanes * sum(c.ff for c in lane_ops) + relu_lanes * relu.ff
        dsp = lanes * sum(c.dsp for c in lane_ops) + relu_lanes * relu.dsp

        memories: list[MemoryCost] = []
        weights = memory_cost(
            cycles_per_position,
            lanes * path.weight_word_bits,
            writable=False,
            lutram_max_depth=constants.lutram_max_depth,
        )
        output = memory_cost(
            positions,
            c_out * path.output_bits,
            writable=True,
            lutram_max_depth=constants.lutram_max_depth,
        )
        memories += [weights, output]
        input_pj_per_bit = input_pj if input_pj is not None else 0.0
        if first:
            # (C, H, W): H x W words of C values; a linear layer's (F,): one word of F values.
            channels = shape.input_shape[0]
            words = max(1, shape.inputs // channels)
            source = memory_cost(
                words,
                channels * path.input_bits,
                writable=True,
                lutram_max_depth=constants.lutram_max_depth,
            )
            memories.append(source)
            input_pj_per_bit = self._pj_per_bit(source, energy)
        lut += sum(m.lut for m in memories) + constants.control_lut
        ff += sum(m.ff for m in memories) + constants.control_ff
        bram = sum(m.bram_18k for m in memories)

        terms = math.ceil(shape.fan_in / cycles_per_position)
        depth = (
            constants.control_cycles
            + sum(c.latency_cycles for c in lane_ops if c is not accumulator)
            + accumulator.latency_cycles * math.ceil(math.log2(max(2, terms)))
        )
        cycles = positions * cycles_per_position + depth
        seconds = cycles / (self.clock_mhz * 1e6)

        def pj(cost: OperatorCost) -> float:
            return energy.operation_pj(cost.lut, cost.ff, cost.dsp)

        compute_pj = shape.macs * sum(pj(c) for c in lane_ops) + shape.outputs * pj(relu)
        memory_pj = (
            shape.macs * path.weight_word_bits * self._pj_per_bit(weights, energy)
            + positions * shape.fan_in * path.input_bits * input_pj_per_bit
            + shape.outputs * path.output_bits * self._pj_per_bit(output, energy)
        )
        static_w = (
            energy.static_power_w
            if energy.static_power_w is not None
            else self.device.static_power_w
        )
        static_j = static_w * seconds
        values = {
            "lut": float(lut),
            "ff": float(ff),
            "dsp": float(dsp),
            "bram": float(bram),
            "cycles": float(cycles),
            "latency": seconds,
            "energy": (compute_pj + memory_pj) * 1e-12 + static_j,
            "energy_compute": compute_pj * 1e-12,
            "energy_memory": memory_pj * 1e-12,
            "energy_static": static_j,
            "multipliers": float(lanes),
            "reuse_factor": float(cycles_per_position),
        }
        return values, self._pj_per_bit(output, energy)

    @staticmethod
    def _pj_per_bit(memory: MemoryCost, energy: EnergyConstants) -> float:
        return {
            "bram": energy.bram_pj_per_bit,
            "lutram": energy.lutram_pj_per_bit,
            "registers": energy.register_pj_per_bit,
        }.get(memory.placement, 0.0)

    def _calibrated(self, values: dict[str, float]) -> dict[str, float]:
        if self.calibration is None:
            return values
        corrected = self.calibration.apply({_CALIBRATED[k]: values[k] for k in _CALIBRATED})
        return {**values, **{k: corrected[v] for k, v in _CALIBRATED.items()}}
