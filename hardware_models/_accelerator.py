"""The accelerator cost model: resources, latency and energy of a configuration on an FPGA.

The accelerator is the design hls4ml generates, one engine per layer, run one layer after the
other (no dataflow overlap between layers), with hls4ml's ``Strategy`` (``latency``, its
default, or ``resource``) and ``IOType`` (``io_parallel``, its default, or ``io_stream``):

* **What hls4ml generates** (:func:`~hardware_models._hls4ml.plan_layer`, each rule with its
  source in :mod:`hardware_models._hls4ml`): the reuse factor hls4ml really uses
  (:func:`~hardware_models.reuse_factor`: the ``resource`` strategy moves a requested value
  to the closest valid one), the multipliers (``ceil(n_in n_out / R)``), where the weights
  live (constants, LUT RAM, a ROM in LUTs or block RAM), the multiplexers that feed each
  multiplier from the partitioned arrays, accumulators, registers, line buffers.
* **What it costs** (:class:`~hardware_models.Hls4mlCoefficients`): LUT and FF are
  ``sum(coefficient x structural count)`` with non-negative coefficients fitted on real hls4ml
  HLS reports (the shipped ones: 2,034 wa-hls4ml designs, Vitis HLS 2023.2, UltraScale+,
  ``resource`` strategy); plus ``DatapathConstants.control_lut`` / ``control_ff`` per layer
  (FSM, loop counters), which the fit treats as known. The design-level intercept is booked
  on the first layer. BRAM_18K: counted, not fitted: weight ROMs in block RAM and ``outidx``
  tables (:func:`~hardware_models._hls4ml.weight_rom_bram`,
  :func:`~hardware_models._hls4ml.index_table_bram`), in the half blocks the HLS report
  counts; ``io_stream`` FIFOs between convolution layers, one feature map deep, placed by
  :func:`~hardware_models._memory.memory_cost`. DSP: one multiplier per DSP-bound product
  (``W + A > mul_lut_max_bits``; float and wide products by the operator library's tiling).
* **Floats and shared weights**: lanes whose operands are float add the operator library's
  float adder (``fadd``) and multiplier costs per multiplier; shared weights add the codebook
  ``lookup`` per multiplier. These come from the operator library (Yosys characterization or a
  user's reports), not from the hls4ml fit.
* **Latency.** ``cycles = positions x ceil(MACs per position / multipliers) + depth`` per layer
  (a convolution's pixels one after the other; the initiation interval of a layer is its
  reuse factor), ``depth`` fitted per layer (``cycles`` coefficients); layers add up; seconds
  at ``clock_mhz``.
* **Energy per inference** (J): ``sum(ops x E_op) + sum(bits accessed x E_bit) + P_static x
  latency``, ``E_op`` from the operator library's resources
  (:class:`~hardware_models._energy.EnergyConstants`); one multiply and one accumulate (and one
  lookup) per MAC, one ReLU per output; one weight word per MAC, the input window once per
  position and each output once, at the per-bit energy of where each memory lives (constants
  cost nothing).

:attr:`AcceleratorModel.basis` says what the resource objectives are: ``hls_estimate`` (the
HLS report's numbers, what the coefficients were fitted on) or ``post_synthesis`` when an
:class:`~hardware_models.HlsCalibration` corrects them towards Vivado's counts (factors on
``LUT``, ``FF``, ``DSP``, ``BRAM_18K``, per layer; energy uses the raw counts).
:meth:`AcceleratorModel.validity` lists where the model is used outside what it was fitted on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from hardware_models._cost_model import Cost, CostModel, weight_memory_bits
from hardware_models._datapath import (
    FLOAT32,
    Datapath,
    DatapathConstants,
    Operand,
    choose_datapath,
    operand,
    operand_bits,
)
from hardware_models._energy import EnergyConstants
from hardware_models._errors import HardwareModelError
from hardware_models._fit import Hls4mlCoefficients
from hardware_models._hls4ml import (
    MAC_KINDS,
    LayerPlan,
    LayerWidths,
    _check_choice,
    plan_layer,
)
from hardware_models._memory import memory_cost
from hardware_models._operators import OperatorLibrary
from hardware_models._settings import IO_TYPES, STRATEGIES

if TYPE_CHECKING:
    from evaluators import Configuration, FixedPoint, FloatFormat, LayerConfig, LayerShape
    from hardware_models._calibration import HlsCalibration
    from hardware_models._devices import Device
    from hardware_models._operator_kinds import OperatorCost

__all__ = ["AcceleratorModel"]

_LAYER_MEMO_ENTRIES = 50_000
"""Layer prices an `AcceleratorModel` remembers (then forgets at once): about 1.2 KB each, so
at most about 60 MB."""

_CALIBRATED = {"lut": "LUT", "ff": "FF", "dsp": "DSP", "bram": "BRAM_18K"}
_PJ_PLACEMENT = {"bram": "bram", "lutram": "lutram", "lut_rom": "lutram", "registers": "registers"}


class AcceleratorModel(CostModel):
    """Resources, latency and energy of a configuration on one FPGA (see the module docstring).

    Args:
        shapes: The model's layer shapes in execution order (``evaluators.layer_shapes``);
            each layer's input is the previous layer's output.
        device: The target part (``get_device("xc7z020")``).
        clock_mhz: Clock frequency in MHz.
        reuse_factor: Requested hls4ml reuse factor, one for every layer or per layer name
            (layers not named take 1); hls4ml's rule moves it to the one it uses
            (:func:`~hardware_models.reuse_factor`).
        strategy: hls4ml ``Strategy``: ``latency`` (hls4ml's default) or ``resource``.
        io_type: hls4ml ``IOType``: ``io_parallel`` (hls4ml's default) or ``io_stream``.
        library: Operator costs (energy, floats, shared-weight lookups); ``None`` loads the
            shipped Yosys library of the device family.
        energy: Energy constants; ``None`` takes :meth:`EnergyConstants.for_family`.
        datapath: Architecture constants; ``None`` takes the defaults.
        calibration: Correction of LUT/FF/DSP/BRAM_18K estimates to post-synthesis counts, or
            ``None`` (objectives stay HLS estimates; see :attr:`basis`).
        coefficients: Fitted cost per structural count; ``None`` loads the shipped ones
            (:meth:`Hls4mlCoefficients.default`).
        input_bits: Fixed-point width of the network input (8: image pixels); ``None`` float32.
        activation_bits: Fixed-point width assumed for activations the configuration leaves
            unformatted; ``None`` costs them as float32.

    ``library``, ``energy``, ``datapath``, ``coefficients`` and ``reuse_factor`` are read and
    checked at the first call that needs them; set them before, or build a new model. The
    other settings may be replaced at any time (each layer's remembered price is dropped).

    Example:
        >>> from evaluators import LayerShape, Configuration, LayerConfig, FixedPoint
        >>> from hardware_models import get_device
        >>> shape = LayerShape("fc", "linear", (8, 4), (4,), (8,), 32)
        >>> model = AcceleratorModel({"fc": shape}, device=get_device("xc7z020"))
        >>> fixed = LayerConfig(weights=FixedPoint(8, 2), activations=FixedPoint(8, 4))
        >>> model.cost(Configuration.of({"fc": fixed}))["dsp"]
        0.0
        >>> model.basis
        'hls_estimate'
    """

    metrics = ("lut", "ff", "dsp", "bram", "latency", "energy", "weight_bits", "utilization")

    def __init__(
        self,
        shapes: Mapping[str, LayerShape],
        *,
        device: Device,
        clock_mhz: float = 200.0,
        reuse_factor: int | Mapping[str, int] = 1,
        strategy: str = "latency",
        io_type: str = "io_parallel",
        library: OperatorLibrary | None = None,
        energy: EnergyConstants | None = None,
        datapath: DatapathConstants | None = None,
        calibration: HlsCalibration | None = None,
        coefficients: Hls4mlCoefficients | None = None,
        input_bits: int | None = 8,
        activation_bits: int | None = None,
    ) -> None:
        self.shapes = shapes
        self.device = device
        self.clock_mhz = clock_mhz
        self.reuse_factor = reuse_factor
        self.strategy = strategy
        self.io_type = io_type
        self.library = library
        self.energy = energy
        self.datapath = datapath
        self.calibration = calibration
        self.coefficients = coefficients
        self.input_bits = input_bits
        self.activation_bits = activation_bits

    @property
    def basis(self) -> str:
        """What the resource objectives are: ``hls_estimate`` or ``post_synthesis``.

        ``post_synthesis`` when a calibration maps the HLS estimates to Vivado's counts.
        """
        return "hls_estimate" if self.calibration is None else "post_synthesis"

    # -- parameters ---------------------------------------------------------------------------

    def _resolved(
        self,
    ) -> tuple[OperatorLibrary, EnergyConstants, DatapathConstants, Hls4mlCoefficients]:
        """Library, energy, datapath constants, coefficients and reuse factors, defaults filled
        in and checked once, at first use: parameters set after that are not read."""
        cached = getattr(self, "_resolved_parts", None)
        if cached is not None:
            return cached
        if not self.clock_mhz > 0:
            raise HardwareModelError(f"clock_mhz: expected > 0 MHz, got {self.clock_mhz!r}")
        _check_choice("strategy", self.strategy, STRATEGIES)
        _check_choice("io_type", self.io_type, IO_TYPES)
        family = self.device.family
        library = self.library if self.library is not None else _default_library(family)
        energy = self.energy if self.energy is not None else EnergyConstants.for_family(family)
        datapath = self.datapath if self.datapath is not None else DatapathConstants()
        coefficients = (
            self.coefficients if self.coefficients is not None else Hls4mlCoefficients.default()
        )
        self._reuse_factors = self._checked_reuse_factors()
        self._resolved_parts = (library, energy, datapath, coefficients)
        return self._resolved_parts

    def _reuse_of(self, name: str) -> int:
        """The requested reuse factor of layer `name` (1 where none is given)."""
        self._resolved()
        return self._reuse_factors.get(name, 1)

    def _checked_reuse_factors(self) -> dict[str, int]:
        """`reuse_factor` per layer, validated."""
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
        return values

    def _activation(self, fmt: FixedPoint | FloatFormat | None) -> Operand:
        if fmt is None and self.activation_bits is not None:
            return self.activation_bits
        return operand(fmt)

    # -- what hls4ml generates ----------------------------------------------------------------

    def plans(self, configuration: Configuration) -> dict[str, LayerPlan]:
        """What hls4ml generates for each layer under ``configuration``.

        Returns:
            Layer name -> :class:`~hardware_models._hls4ml.LayerPlan` (reuse factor used,
            multipliers, weight placement, structural counts).
        """
        return {name: plan for name, (plan, _) in self._plans(configuration).items()}

    def _plans(self, configuration: Configuration) -> dict[str, tuple[LayerPlan, Datapath]]:
        input_operand = self._network_input()
        last_mac = self._last_mac()
        out: dict[str, tuple[LayerPlan, Datapath]] = {}
        for index, (name, shape) in enumerate(self.shapes.items()):
            plan, path, input_operand = self._plan(
                name, shape, configuration.get(name), input_operand, index < last_mac
            )
            out[name] = (plan, path)
        return out

    def _network_input(self) -> Operand:
        return self.input_bits if self.input_bits is not None else FLOAT32

    def _plan(
        self,
        name: str,
        shape: LayerShape,
        layer: LayerConfig,
        input_operand: Operand,
        before_last_mac: bool,
    ) -> tuple[LayerPlan, Datapath, Operand]:
        """One layer's hls4ml plan and datapath, and the operand of its output
        (`before_last_mac`: a MAC layer followed by another applies its activation)."""
        library, _, constants, _ = self._resolved()
        family = self.device.family
        output_operand = self._activation(layer.activations)
        if shape.kind not in MAC_KINDS and layer.activations is None:
            output_operand = input_operand  # an add or a pool keeps its input's format
        if shape.kind in MAC_KINDS:
            path = choose_datapath(
                shape,
                layer,
                input_operand=input_operand,
                output_operand=output_operand,
                reuse=self._reuse_of(name),
                constants=constants,
            )
        else:
            path = _elementwise_path(input_operand, output_operand)
        kind, widths_key = path.multiplier
        on_dsp = kind in ("mul_dsp", "fmul_dsp")
        per_multiplier = 1
        if on_dsp:
            per_multiplier = max(1, round(library.predict(kind, widths_key, family).dsp))
        product_bits = widths_key[0] if kind.startswith("mul_") else 1 + widths_key[-1]
        acc_bits = path.accumulator[1][1] if path.accumulator[0] == "accumulate" else 0
        widths = LayerWidths(
            input_bits=path.input_bits,
            weight_bits=path.weight_word_bits,
            product_bits=product_bits,
            accumulator_bits=acc_bits,
            output_bits=path.output_bits,
            dsp=on_dsp,
            dsp_per_multiplier=per_multiplier,
        )
        plan = plan_layer(
            shape,
            widths,
            requested_reuse=self._reuse_of(name),
            strategy=self.strategy,
            io_type=self.io_type,
            activation=shape.kind in MAC_KINDS and before_last_mac,
            lutram_max_depth=constants.lutram_max_depth,
            bram_min_multipliers=constants.bram_min_multipliers,
        )
        return plan, path, output_operand

    def _last_mac(self) -> int:
        """Index of the last layer with multiply-accumulates (-1 if none)."""
        return max(
            (i for i, s in enumerate(self.shapes.values()) if s.kind in MAC_KINDS), default=-1
        )

    # -- the model ----------------------------------------------------------------------------

    def cost(self, configuration: Configuration) -> Cost:
        """Resources, latency and energy of ``configuration`` (see the module docstring).

        A layer's metrics depend on its own formats and on its input's format and energy per
        bit only, so each such combination is priced once and remembered (an optimizer's
        candidates differ from their parents in a layer or two): at most 50,000 layer prices
        (about 60 MB), forgotten when a setting is replaced or the operator library or
        calibration refitted. Library, energy, datapath, coefficients and reuse factors are
        read at the first call (see the class docstring).

        Returns:
            ``values``: ``lut``, ``ff``, ``dsp``, ``bram`` (18 Kb blocks), ``latency`` (s),
            ``energy`` (J per inference), ``weight_bits``, ``utilization`` (largest used
            fraction of the device's LUT, FF, DSP or BRAM_18K); ``per_layer``: the same per
            layer (``utilization`` aside) with ``cycles``, ``multipliers``, ``reuse_factor``
            (the one hls4ml uses) and the energy split ``energy_compute``, ``energy_memory``,
            ``energy_static``.

        Raises:
            HardwareModelError: On an invalid reuse factor, strategy, I/O type, clock or
                operator width.
        """
        weight_bits = weight_memory_bits(self.shapes, configuration)
        memo = self._layer_memo()
        per_layer: dict[str, dict[str, float]] = {}
        input_operand, input_pj = self._network_input(), None
        last_mac = self._last_mac()
        for index, (name, shape) in enumerate(self.shapes.items()):
            layer = configuration.get(name)
            key = (name, layer, input_operand, input_pj)
            hit = memo.get(key)
            if hit is None:
                if len(memo) >= _LAYER_MEMO_ENTRIES:
                    memo.clear()
                hit = self._layer_metrics(
                    index, name, shape, layer, input_operand, input_pj, index < last_mac
                )
                memo[key] = hit
            values, input_operand, input_pj = hit
            per_layer[name] = {**values, "weight_bits": float(weight_bits[name])}
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

    def _layer_memo(self) -> dict[tuple[Any, ...], tuple[dict[str, float], Operand, float]]:
        """The remembered layer prices, valid for the settings in use: a new memo whenever a
        setting a layer's price reads is replaced (the operator library or calibration refitted
        included: a fit makes new fitted attributes)."""
        library, _, _, _ = self._resolved()
        calibration = self.calibration
        basis = (
            getattr(library, "models_", None),
            calibration,
            getattr(calibration, "factors_", None),
            self.shapes,
            self.device,
            self.clock_mhz,
            self.strategy,
            self.io_type,
            self.input_bits,
            self.activation_bits,
        )
        state = getattr(self, "_memo_state", None)
        if state is None or any(a is not b for a, b in zip(state[0], basis, strict=True)):
            state = (basis, {})
            self._memo_state = state  # one assignment: a concurrent caller sees old or new
        return state[1]

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the remembered prices (rebuilt on use)."""
        return {k: v for k, v in self.__dict__.items() if k != "_memo_state"}

    def _layer_metrics(
        self,
        index: int,
        name: str,
        shape: LayerShape,
        layer: LayerConfig,
        input_operand: Operand,
        input_pj: float | None,
        before_last_mac: bool,
    ) -> tuple[dict[str, float], Operand, float]:
        """One layer's calibrated metrics (without ``weight_bits``), its output's operand and
        its output's energy per bit."""
        _, _, constants, coefficients = self._resolved()
        plan, path, output_operand = self._plan(name, shape, layer, input_operand, before_last_mac)
        values, output_pj = self._layer(shape, plan, path, first=index == 0, input_pj=input_pj)
        if index == 0:
            values["lut"] += coefficients.intercepts.get("lut", 0.0)
            values["ff"] += coefficients.intercepts.get("ff", 0.0)
            cycles = coefficients.intercepts.get("cycles", 0.0)
            values["cycles"] += cycles
            values["latency"] += cycles / (self.clock_mhz * 1e6)
        # A layer has at least its control logic (the fitted per-layer constant is negative
        # and can push a tiny layer below it).
        values["lut"] = max(constants.control_lut, values["lut"])
        values["ff"] = max(constants.control_ff, values["ff"])
        return self._calibrated(values), output_operand, output_pj

    def _layer(
        self,
        shape: LayerShape,
        plan: LayerPlan,
        path: Datapath,
        *,
        first: bool,
        input_pj: float | None,
    ) -> tuple[dict[str, float], float]:
        """One layer's metrics, and the per-bit energy of its output (the next layer's input)."""
        library, energy, constants, coefficients = self._resolved()
        family = self.device.family
        features = plan.features

        def op(key: tuple[str, tuple[int, ...]]) -> OperatorCost:
            return library.predict(key[0], key[1], family)

        multiplier, accumulator, relu = (
            op(path.multiplier),
            op(path.accumulator),
            op(path.activation),
        )
        lane_ops = [multiplier, accumulator]
        lut = coefficients.predict("lut", features) + constants.control_lut
        ff = coefficients.predict("ff", features) + constants.control_ff
        dsp = float(plan.dsp)
        extra = []  # per-multiplier operators the hls4ml fit does not cover
        if path.accumulator[0] == "fadd":
            extra.append(accumulator)
            if path.multiplier[0] == "fmul_lut":
                extra.append(multiplier)
        if path.lookup is not None:
            lookup = op(path.lookup)
            lane_ops.append(lookup)
            extra.append(lookup)
        for cost in extra:
            lut += plan.multipliers * cost.lut
            ff += plan.multipliers * cost.ff
            dsp += plan.multipliers * cost.dsp
        bram = coefficients.predict("bram", features)
        bram = max(0.0, math.floor(2 * bram + 0.5) / 2) if shape.kind in MAC_KINDS else 0.0
        positions = plan.positions
        fifo = None
        if self.io_type == "io_stream" and positions > 1:
            c_out = shape.output_shape[0]
            fifo = memory_cost(
                positions,
                c_out * path.output_bits,
                writable=True,
                lutram_max_depth=constants.lutram_max_depth,
            )
            lut += fifo.lut
            ff += fifo.ff
            bram += fifo.bram_18k

        cycles = positions * plan.cycles_per_position + coefficients.predict(
            "cycles", {"layers": 1.0}
        )
        seconds = cycles / (self.clock_mhz * 1e6)

        def pj(cost: OperatorCost) -> float:
            return energy.operation_pj(cost.lut, cost.ff, cost.dsp)

        weight_pj = self._pj_per_bit(plan.weight_placement, energy)
        output_pj = self._pj_per_bit(fifo.placement if fifo else "registers", energy)
        in_pj = input_pj if input_pj is not None else energy.register_pj_per_bit
        if shape.kind in MAC_KINDS:
            compute_pj = shape.macs * sum(pj(c) for c in lane_ops) + shape.outputs * pj(relu)
            reads = positions * shape.fan_in * path.input_bits * in_pj
            memory_pj = shape.macs * path.weight_word_bits * weight_pj + reads
        else:
            compute_pj = shape.outputs * (shape.fan_in - 1) * pj(accumulator)
            memory_pj = shape.inputs * path.input_bits * in_pj
        memory_pj += shape.outputs * path.output_bits * output_pj
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
            "multipliers": float(plan.multipliers),
            "reuse_factor": float(plan.reuse),
        }
        return values, output_pj

    @staticmethod
    def _pj_per_bit(placement: str, energy: EnergyConstants) -> float:
        kind = _PJ_PLACEMENT.get(placement)
        return {
            "bram": energy.bram_pj_per_bit,
            "lutram": energy.lutram_pj_per_bit,
            "registers": energy.register_pj_per_bit,
        }.get(kind or "", 0.0)

    def _calibrated(self, values: dict[str, float]) -> dict[str, float]:
        if self.calibration is None:
            return values
        corrected = self.calibration.apply({_CALIBRATED[k]: values[k] for k in _CALIBRATED})
        return {**values, **{k: corrected[v] for k, v in _CALIBRATED.items()}}

    def describe(self) -> dict[str, Any]:
        """What priced a study, for its provenance: the part, clock, strategy, I/O type and
        basis, the reuse factor hls4ml uses per layer, where the model runs outside its fit
        (`validity`), and the coefficients' own provenance."""
        _, _, _, coefficients = self._resolved()
        return {
            "model": type(self).__name__,
            "part": self.device.part,
            "family": self.device.family,
            "clock_mhz": self.clock_mhz,
            "strategy": self.strategy,
            "io_type": self.io_type,
            "basis": self.basis,
            "reuse_factor": {n: p.reuse for n, p in self.plans(_float32()).items()},
            "validity": list(self.validity()),
            "coefficients": dict(coefficients.provenance),
        }

    # -- where the model was fitted -----------------------------------------------------------

    def validity(self, configuration: Configuration | None = None) -> tuple[str, ...]:
        """Where this model is used outside what its coefficients were fitted on.

        One warning per departure from :attr:`Hls4mlCoefficients.domain`: device family,
        strategy, I/O type, clock, layer kinds and sizes, number of layers, the reuse factors
        hls4ml will use and, given a configuration, the weight and activation widths. An
        empty tuple means every input lies inside the fitted ranges. Studies record it in
        their provenance.

        Args:
            configuration: Also check its formats' widths, when given.

        Returns:
            Human-readable warnings, empty when inside the domain.
        """
        _, _, _, coefficients = self._resolved()
        domain = dict(coefficients.domain)
        warnings: list[str] = []

        def outside(what: str, value: float, key: str) -> None:
            bounds = domain.get(key)
            if bounds and not bounds[0] <= value <= bounds[1]:
                warnings.append(f"{what} {value:g} outside the fitted range {bounds}")

        for key, value in (
            ("family", self.device.family),
            ("strategy", self.strategy),
            ("io_type", self.io_type),
        ):
            fitted = domain.get(key)
            if fitted is not None and value not in fitted:
                warnings.append(f"{key} {value!r} not fitted (fitted: {fitted})")
        if self.strategy == "latency":
            warnings.append(
                "strategy 'latency': its rules are hand-checked only; no report of it was "
                "fitted or checked (the coefficients come from resource-strategy designs)"
            )
        outside("clock_mhz", self.clock_mhz, "clock_mhz")
        kinds = set(domain.get("kinds", ()))
        macs = [s for s in self.shapes.values() if s.kind in MAC_KINDS]
        outside("layers", len(macs), "layers")
        for name, shape in self.shapes.items():
            if kinds and shape.kind not in kinds:
                warnings.append(
                    f"layer {name!r}: kind {shape.kind!r} not fitted ({sorted(kinds)})"
                )
        config = configuration if configuration is not None else _float32()
        for name, (plan, path) in self._plans(config).items():
            shape = self.shapes[name]
            if shape.kind not in MAC_KINDS:
                continue
            outside(f"layer {name!r}: width", max(shape.output_shape[0], shape.fan_in), "width")
            outside(f"layer {name!r}: reuse factor", plan.reuse, "reuse")
            if configuration is not None:
                outside(f"layer {name!r}: weight bits", path.weight_word_bits, "weight_bits")
                outside(f"layer {name!r}: input bits", path.input_bits, "input_bits")
        return tuple(dict.fromkeys(warnings))


@cache
def _default_library(family: str) -> OperatorLibrary:
    """The shipped operator library of a family, loaded and fitted once per process."""
    return OperatorLibrary.default(family)


def _elementwise_path(input_operand: Operand, output_operand: Operand) -> Datapath:
    """Operators of an ``add`` or a pooling layer: one adder (or comparator) per input."""
    if isinstance(input_operand, int):
        adder: tuple[str, tuple[int, ...]] = ("add", (input_operand,))
        activation: tuple[str, tuple[int, ...]] = ("relu", (input_operand,))
    else:
        adder = ("fadd", input_operand)
        activation = ("relu", (operand_bits(input_operand),))
    return Datapath(
        multiplier=adder,
        accumulator=adder,
        lookup=None,
        activation=activation,
        weight_word_bits=0,
        input_bits=operand_bits(input_operand),
        output_bits=operand_bits(output_operand),
    )


def _float32() -> Configuration:
    """The configuration with every layer left float32."""
    from evaluators import Configuration as _Configuration

    return _Configuration()
