"""An hls4ml project of a configuration, made through hls4ml's own Python API.

The model is first made parseable (`for_hls4ml`: identities traced through, adaptive pooling
made plain), converted with every layer's types from `plan_types` (never hls4ml's defaults),
and written with its testbench data. Also here: the model as the hardware stores it
(`stored_model`), and the testbench's layouts.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from evaluators import Configuration, FixedPoint, LayerShape, accumulate
from hardware_models import HardwareSettings
from results._errors import ResultsError
from results._hls4ml_graph import for_hls4ml
from results._hls4ml_plan import HlsPlan, plan_types
from results._hls_types import ApFixed

if TYPE_CHECKING:
    from hls4ml.model import ModelGraph

logger = logging.getLogger(__name__)

__all__ = [
    "PROJECT_NAME",
    "hls4ml_version",
    "make_project",
    "simulation_inputs",
    "stored_model",
    "tb_text",
    "to_channels_first",
]

PROJECT_NAME = "myproject"
"""The top function's name in the generated project (hls4ml's default)."""


def hls4ml_version() -> str | None:
    """The installed hls4ml's version, None when it is not installed."""
    from importlib import metadata

    try:
        return metadata.version("hls4ml")
    except metadata.PackageNotFoundError:
        return None


def stored_model(
    model: nn.Module,
    configuration: Configuration,
    weights: Mapping[str, torch.Tensor],
    shapes: Mapping[str, LayerShape],
) -> nn.Module:
    """A float64 copy of `model` holding what the hardware stores: the approximated weights,
    and for a layer with an accumulator format its biases as that accumulator starts from
    them (each cast to it, as `evaluators.accumulate` does).

    Args:
        model: the float model (not modified).
        configuration: the formats.
        weights: the approximated weight of every layer with a weight format.
        shapes: the layers' shapes (`evaluators.layer_shapes`).
    """
    import copy

    new = copy.deepcopy(model).double().eval()
    modules = dict(new.named_modules())
    originals = dict(model.named_modules())
    with torch.no_grad():
        for name, tensor in weights.items():
            modules[name].weight.copy_(tensor.double())
        for name, layer in configuration.layers:
            module = originals.get(name)
            if layer.accumulator is None or getattr(module, "bias", None) is None:
                continue
            modules[name].bias.copy_(_accumulator_bias(module, layer.accumulator, shapes[name]))
    return new


def _accumulator_bias(module: nn.Module, fmt: FixedPoint, shape: LayerShape) -> torch.Tensor:
    """The value the accumulator of every output channel starts from: its bias cast to `fmt`
    (what dse sums onto; computed by dse's own kernel on a zero input)."""
    zeros = torch.zeros((1, *shape.input_shape))
    start = accumulate(module, zeros, fmt)[0]
    return start.reshape(start.shape[0], -1)[:, 0] if start.dim() > 1 else start


def make_project(
    model: nn.Module,
    configuration: Configuration,
    *,
    input_type: ApFixed,
    input_shape: tuple[int, ...],
    shapes: Mapping[str, LayerShape],
    output_ranges: Mapping[str, float],
    hardware: HardwareSettings,
    folder: Path,
    tb_input: Path | None = None,
    tb_output: Path | None = None,
) -> tuple[ModelGraph, HlsPlan]:
    """Convert `model` with hls4ml, types from `configuration`, and write the project.

    Args:
        model: the network as the hardware stores it (`stored_model`), float64.
        configuration: the formats of its layers (no custom float: `unsupported_formats`).
        input_type: the type the network input is cast to.
        input_shape: one input's shape (channels first), e.g. ``(1, 8, 8)``.
        shapes: the layers' shapes, for the reuse factors.
        output_ranges: max |output| of every Conv/Linear layer without an output format
            (sizes the type standing for its float32 output).
        hardware: part, clock, reuse factors, strategy and IO type.
        folder: the project folder (created).
        tb_input: hls4ml's testbench inputs (``.dat``), copied into ``tb_data/``.
        tb_output: the expected outputs, likewise.

    Returns:
        hls4ml's `ModelGraph` (written, not compiled) and the plan of its types.

    Raises:
        ResultsError: hls4ml is not installed, or cannot convert the model.
    """
    hls4ml = _import_hls4ml()
    from hls4ml.converters.pytorch_to_hls import parse_pytorch_model

    channels = "full" if hardware.io_type == "io_parallel" else "internal"
    model = for_hls4ml(model, input_shape)
    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log):
            layer_list, _, _ = parse_pytorch_model(
                {"PytorchModel": model, "InputShape": tuple(input_shape)}, verbose=False
            )
            config = hls4ml.utils.config_from_pytorch_model(
                model,
                tuple(input_shape),
                granularity="name",
                backend="Vivado",
                default_precision=str(input_type),
                default_reuse_factor=1,
                channels_last_conversion=channels,
                transpose_outputs=False,
            )
    except Exception as exc:  # hls4ml raises bare Exceptions for unsupported layers
        raise ResultsError(f"hls4ml cannot convert the model: {exc}") from None
    plan = plan_types(
        model, configuration, layer_list, input_type, shapes, output_ranges, hardware
    )
    _fill_config(config, layer_list, plan, hardware)
    settings = {
        "Backend": "Vivado",
        "ProjectName": PROJECT_NAME,
        "Part": hardware.part,
        "ClockPeriod": round(1000.0 / hardware.clock_mhz, 6),
        "IOType": hardware.io_type,
        "InputShape": list(input_shape),
    }
    plan = HlsPlan(
        plan.input_type,
        plan.layers,
        plan.notes,
        plan.others,
        {k: v for k, v in config.items() if k in ("Model", "LayerName")},
        settings,
    )
    try:
        with contextlib.redirect_stdout(log):
            graph = hls4ml.converters.convert_from_pytorch_model(
                model,
                output_dir=str(folder),
                project_name=PROJECT_NAME,
                input_data_tb=None if tb_input is None else str(tb_input),
                output_data_tb=None if tb_output is None else str(tb_output),
                backend="Vivado",
                hls_config=config,
                io_type=hardware.io_type,
                part=hardware.part,
                clock_period=settings["ClockPeriod"],
            )
            graph.write()
    except Exception as exc:
        raise ResultsError(f"hls4ml cannot convert the model: {exc}") from None
    finally:
        logger.debug("hls4ml: %s", log.getvalue())
    return graph, plan


def _import_hls4ml() -> Any:
    try:
        import hls4ml
    except ImportError:
        raise ResultsError(
            "an hls4ml project needs hls4ml: pip install 'hls4ml>=1.3' (or dse[dev])"
        ) from None
    return hls4ml


def _fill_config(
    config: dict[str, Any],
    layer_list: list[dict[str, Any]],
    plan: HlsPlan,
    hardware: HardwareSettings,
) -> None:
    """Write the plan's types into hls4ml's per-layer configuration (`LayerName`)."""
    by_node = {layer.node: layer for layer in plan.layers}
    names = config.setdefault("LayerName", {})
    result: dict[str, ApFixed] = {}
    for entry in layer_list:
        name = entry["name"]
        settings = names.setdefault(name, {})
        precision = settings.setdefault("Precision", {})
        layer = by_node.get(name)
        if entry["class_name"] == "InputLayer":
            result[name] = plan.input_type
            precision["result"] = str(plan.input_type)
            continue
        if layer is not None:
            precision.update(
                weight=str(layer.weight),
                bias=str(layer.bias),
                accum=str(layer.accum),
                result=str(layer.result),
            )
            settings["ReuseFactor"] = layer.reuse_factor
            settings["Trace"] = True
            result[name] = layer.result
            continue
        inputs = entry.get("inputs") or []
        kept = result.get(inputs[0], plan.input_type) if inputs else plan.input_type
        own = plan.others.get(name, {"result": kept})
        for key in list(precision):
            if key != "table":
                precision[key] = str(own.get(key, own["result"]))
        precision.update({key: str(value) for key, value in own.items()})
        result[name] = own["result"]
    model = config.setdefault("Model", {})
    model["Strategy"] = "Latency" if hardware.strategy == "latency" else "Resource"
    model["Precision"] = {"default": str(plan.input_type)}


def tb_text(values: np.ndarray, io_type: str) -> str:
    """hls4ml's ``.dat`` testbench text: one sample a line, values exact (``repr``).

    Inputs of an ``io_stream`` project are channels-last (hls4ml converts only the internal
    layers there); ``io_parallel`` projects transpose them themselves.
    """
    rows = np.asarray(values, dtype=np.float64)
    if io_type == "io_stream" and rows.ndim > 2:
        rows = np.moveaxis(rows, 1, -1)
    rows = rows.reshape(len(rows), -1)
    return "".join(" ".join(repr(float(v)) for v in row) + "\n" for row in rows)


def simulation_inputs(values: np.ndarray, io_type: str) -> np.ndarray:
    """The C simulation's inputs (float64, one flat row per sample, the project's layout)."""
    rows = np.asarray(values, dtype=np.float64)
    if io_type == "io_stream" and rows.ndim > 2:
        rows = np.moveaxis(rows, 1, -1)
    return np.ascontiguousarray(rows.reshape(len(rows), -1))


def to_channels_first(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A traced hls4ml output (channels last) in PyTorch's layout ``(n, C, ...)``."""
    values = np.asarray(values)
    if len(shape) < 2:
        return values.reshape(len(values), *shape)
    spatial_last = values.reshape(len(values), *shape[1:], shape[0])
    return np.moveaxis(spatial_last, -1, 1)
