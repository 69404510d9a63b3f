"""The types of an hls4ml project: what each layer must compute to match dse bit for bit.

Each Conv/Linear layer gets the ``ap_fixed`` types of what dse emulates:

* ``weight_t``: the weight format (shared weights: the codebook's format, the weights expanded
  to their centroids; float32 weights: the narrowest type holding them exactly);
* ``bias_t``, ``accum_t``: with an accumulator format both are it, and the biases are the
  values dse's accumulator starts from (each float32 bias cast to it); without one, ``bias_t``
  holds the float32 biases exactly and ``accum_t`` every product and sum exactly, which is the
  exact sum dse casts (`evaluators.QuantizedOutput`);
* ``result_t``: the activation format (without one: the accumulator format, else a 32-bit
  approximation of the float32 output, which is then not bit-exact).

Layers between them (ReLU, max pooling, flatten) keep their input's type: they select values
and never round. A residual addition (`evaluators.Add`) gets its output format, else a type
holding the exact sum; an average pooling sums in an ``accum_t`` with enough fraction bits that
hls4ml's truncating division never moves the rounding of the mean to its output format. What
hls4ml cannot reproduce is said in the plan's notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from evaluators import (
    APPROXIMABLE,
    Configuration,
    FixedPoint,
    FloatFormat,
    LayerShape,
    WeightSharing,
)
from hardware_models import HardwareSettings, mult_size, reuse_factor
from results._hls4ml_graph import node_modules
from results._hls_types import ApFixed

__all__ = ["HlsLayer", "HlsPlan", "plan_types", "unsupported_formats"]

PASS_THROUGH = frozenset(
    {"InputLayer", "MaxPooling1D", "MaxPooling2D", "Reshape", "Flatten", "Transpose"}
)
"""hls4ml layer classes that only move or select values: they keep their input's type."""

EXACT_ACTIVATIONS = frozenset({"relu", "linear"})
"""Activations computed without a lookup table, exactly in their input's type."""

RESULT_BITS = 32
"""Width of the type standing for a float32 output no format sets."""

FLOAT32_EXACT_BITS = 24
"""Widest sum dse's float32 arithmetic (an addition, a pooling's sum) holds exactly."""

AVERAGE_POOLING = frozenset({"AveragePooling1D", "AveragePooling2D"})


@dataclass(frozen=True)
class HlsLayer:
    """The hls4ml types of one Conv/Linear layer.

    Attributes:
        layer: the layer's name in the PyTorch model.
        node: its name in the hls4ml graph (dots become underscores).
        weight: ``weight_t``.
        bias: ``bias_t``.
        accum: ``accum_t``.
        result: ``result_t``.
        reuse_factor: the reuse factor the project asks for (the one hls4ml uses).
        notes: why hls4ml does not compute exactly what dse emulates (empty: it does).
    """

    layer: str
    node: str
    weight: ApFixed
    bias: ApFixed
    accum: ApFixed
    result: ApFixed
    reuse_factor: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class HlsPlan:
    """What the project computes: the input type, each layer's types, the other layers' notes.

    Attributes:
        input_type: the network input's type.
        layers: the Conv/Linear layers, in graph order.
        notes: why some layer is not exact (every layer's notes and the graph's own).
        others: the types of the other hls4ml layers by layer name (``result``, and
            ``accum`` for an average pooling).
        hls_config: hls4ml's configuration (`HLSConfig`: `Model` and `LayerName`), plain data.
        io_settings: the project settings beside it (part, clock period, IO type...).
    """

    input_type: ApFixed
    layers: tuple[HlsLayer, ...]
    notes: tuple[str, ...] = ()
    others: Mapping[str, Mapping[str, ApFixed]] = field(default_factory=dict)
    hls_config: Mapping[str, Any] = field(default_factory=dict)
    io_settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def exact(self) -> bool:
        """Whether hls4ml computes bit for bit what dse emulates."""
        return not self.notes


def unsupported_formats(configuration: Configuration) -> tuple[str, ...]:
    """Why no hls4ml project can hold a configuration: its custom floats, one line each.

    hls4ml's ``ap_float`` needs 4..16 exponent bits and a Vivado C model (not the g++ headers
    hls4ml ships), so a custom float has no type a C simulation can compute.
    """
    reasons = []
    for name, layer in configuration.layers:
        parts = [("weights", layer.weights), ("activations", layer.activations)]
        if isinstance(layer.weights, WeightSharing):
            parts.append(("codebook", layer.weights.codebook))
        for part, fmt in parts:
            if isinstance(fmt, FloatFormat):
                reasons.append(
                    f"{name} {part}: custom float E{fmt.exponent_bits}M{fmt.mantissa_bits} "
                    "(hls4ml's ap_float needs E in 4..16 and a Vivado C model)"
                )
    return tuple(reasons)


def plan_types(
    model: nn.Module,
    configuration: Configuration,
    layer_list: list[dict[str, Any]],
    input_type: ApFixed,
    shapes: Mapping[str, LayerShape],
    output_ranges: Mapping[str, float],
    hardware: HardwareSettings,
) -> HlsPlan:
    """Every hls4ml layer's type, in graph order (a layer's input type is its producer's)."""
    nodes = node_modules(model)
    modules = dict(model.named_modules())
    types: dict[str, ApFixed] = {}
    kinds: dict[str, str] = {}
    layers: list[HlsLayer] = []
    others: dict[str, dict[str, ApFixed]] = {}
    notes: list[str] = []
    for entry in layer_list:
        name, kind = entry["name"], entry["class_name"]
        kinds[name] = kind
        inputs = entry.get("inputs") or []
        if kind == "InputLayer":
            types[name] = input_type
            others[name] = {"result": input_type}
            continue
        sources = [types.get(i, input_type) for i in inputs] or [input_type]
        module_name = nodes.get(name)
        module = modules.get(module_name) if module_name is not None else None
        if isinstance(module, APPROXIMABLE):
            layer = _layer_types(
                module_name,
                name,
                module,
                configuration,
                sources[0],
                shapes.get(module_name),
                output_ranges,
                hardware,
                flattened=bool(inputs) and kinds.get(inputs[0]) in ("Reshape", "Flatten"),
            )
            layers.append(layer)
            notes.extend(layer.notes)
            types[name] = layer.result
            continue
        fmt = configuration.get(module_name).activations if module_name is not None else None
        if kind == "Merge":
            own = _merge_types(name, entry, sources, fmt, notes)
        elif kind in AVERAGE_POOLING:
            own = _pooling_types(name, entry, sources[0], fmt, notes)
        else:
            own = {"result": sources[0]}
            if fmt is not None:
                notes.append(f"{name}: its output format is not exported (hls4ml {kind})")
            if kind == "Activation":
                if str(entry.get("activation", "")).lower() not in EXACT_ACTIVATIONS:
                    notes.append(
                        f"{name}: activation {entry.get('activation')} uses a lookup table"
                    )
            elif kind not in PASS_THROUGH:
                notes.append(f"{name}: hls4ml layer {kind} is not emulated by dse bit for bit")
        others[name] = own
        types[name] = own["result"]
    return HlsPlan(input_type, tuple(layers), tuple(notes), others)


def _merge_types(
    name: str,
    entry: Mapping[str, Any],
    sources: list[ApFixed],
    fmt: Any,
    notes: list[str],
) -> dict[str, ApFixed]:
    """A residual addition: hls4ml adds exactly and casts to ``result_t``; dse adds in
    float32 and casts to its output format (exact while the sum fits 24 bits)."""
    op = str(entry.get("op", "")).lower()
    if op not in ("add", "subtract") or len(sources) != 2:
        notes.append(f"{name}: hls4ml merge {op or '?'} is not emulated by dse bit for bit")
        return {"result": sources[0]}
    fraction = max(s.fraction_bits for s in sources)
    integer = max(s.integer + (not s.signed) for s in sources) + 1
    exact = ApFixed(integer + fraction, integer)
    if exact.width > FLOAT32_EXACT_BITS:
        notes.append(f"{name}: dse adds in float32, exact up to 24 bits ({exact} needed)")
    if isinstance(fmt, FixedPoint):
        return {"result": ApFixed.of(fmt)}
    return {"result": exact}


def _pooling_types(
    name: str,
    entry: Mapping[str, Any],
    source: ApFixed,
    fmt: Any,
    notes: list[str],
) -> dict[str, ApFixed]:
    """An average pooling: hls4ml sums the window in ``accum_t``, divides by its size in
    ``accum_t`` (truncating toward zero) and casts to ``result_t``. With ``F + ceil(log2 N)
    + 1`` fraction bits (``F`` the input's, ``N`` the window) no mean of inputs on a
    ``2**-F`` grid lies within one ``accum_t`` step of a rounding boundary of a coarser
    output format, so the two roundings give what rounding the exact mean once gives, which
    is what dse computes (the float32 mean, then its output format)."""
    window = int(entry.get("pool_height", 1)) * int(entry.get("pool_width", 1))
    grow = max(window - 1, 0).bit_length()
    accum = ApFixed(source.width + 2 * grow + 1, source.integer + grow)
    if entry.get("padding", "valid") != "valid":
        notes.append(f"{name}: padded average pooling (hls4ml divides by the unpadded area)")
    if source.width + grow > FLOAT32_EXACT_BITS:
        notes.append(f"{name}: dse sums the window in float32, exact up to 24 bits")
    if isinstance(fmt, FixedPoint):
        if ApFixed.of(fmt).fraction_bits > accum.fraction_bits:
            notes.append(f"{name}: output format finer than the mean's accumulator")
        return {"result": ApFixed.of(fmt), "accum": accum}
    notes.append(f"{name}: no output format (dse keeps the float32 mean; exported as {accum})")
    return {"result": accum, "accum": accum}


def _layer_types(
    name: str,
    node: str,
    module: nn.Module,
    configuration: Configuration,
    source: ApFixed,
    shape: LayerShape | None,
    output_ranges: Mapping[str, float],
    hardware: HardwareSettings,
    *,
    flattened: bool = False,
) -> HlsLayer:
    """The types of one Conv/Linear layer (`flattened`: its input is a flattened feature
    map, which hls4ml reads channels last: its weights are reordered to match)."""
    layer = configuration.get(name)
    weight = module.weight.detach().double()
    fmt = layer.weights
    if isinstance(fmt, FixedPoint):
        weight_t = ApFixed.of(fmt)
    elif isinstance(fmt, WeightSharing) and isinstance(fmt.codebook, FixedPoint):
        weight_t = ApFixed.of(fmt.codebook)
    else:  # float32 weights or centroids: held exactly
        weight_t = ApFixed.holding(weight.reshape(-1).tolist())
    bias = module.bias.detach().double() if module.bias is not None else None
    notes: list[str] = []
    if layer.accumulator is not None:
        accum_t = bias_t = ApFixed.of(layer.accumulator)
    else:
        bias_t = ApFixed.holding([] if bias is None else bias.tolist())
        l1 = float(weight.abs().reshape(weight.shape[0], -1).sum(dim=1).max())
        accum_t = ApFixed.for_sum(source, weight_t, bias_t, l1)
    if isinstance(layer.activations, FixedPoint):
        result_t = ApFixed.of(layer.activations)
    elif layer.accumulator is not None:
        result_t = accum_t
        if accum_t.width > 24:
            notes.append(f"{name}: dse reads its {accum_t.width}-bit accumulator as float32")
    else:
        largest = float(output_ranges.get(name, 0.0)) or 1.0
        result_t = ApFixed.of(
            FixedPoint.for_range(2.0 * largest, RESULT_BITS, rounding="nearest_even")
        )
        notes.append(f"{name}: no output format (dse keeps float32; exported as {result_t})")
    requested = hardware.reuse_factor.get(name, 1)
    reuse = requested
    if shape is not None:
        reuse = reuse_factor(*mult_size(shape), requested, strategy=hardware.strategy)
    acc = layer.accumulator
    if acc is not None and acc.overflow == "saturate":
        # a saturating sum depends on the order: dse adds in the Latency kernels' order
        if flattened and isinstance(module, nn.Linear):
            notes.append(f"{name}: saturating accumulator fed channels last (another order)")
        elif hardware.strategy != "latency" and reuse > 1:
            notes.append(f"{name}: saturating accumulator, Resource order at reuse {reuse}")
    return HlsLayer(name, node, weight_t, bias_t, accum_t, result_t, reuse, tuple(notes))
