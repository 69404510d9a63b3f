"""Per-layer rows of a configuration: each layer's formats and, priced, what it costs.

What the report shows when a front point is opened, and `front_layers.csv`: one row per
(front point, layer) with the weight, activation and accumulator formats (kind, storage bits,
integer / exponent / mantissa bits, k and granularity) and, when the study's cost model
splits its metrics per layer, the layer's LUT, FF, DSP, BRAM, latency, energy and weight bits
with each one's share of the design's total.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from evaluators import FixedPoint, FloatFormat, WeightSharing

if TYPE_CHECKING:
    from evaluators import Configuration, LayerConfig
    from hardware_models import Cost, CostModel
    from results._pareto import FrontPoint
    from results._result import StudyResult

FLOAT32_BITS = 32
"""Storage bits of a weight left in float32."""

COST_COLUMNS = ("lut", "ff", "dsp", "bram", "latency", "energy", "weight_bits")
"""Per-layer costs that add up to the design's total, each written with its `_share`."""

EXTRA_COST_COLUMNS = (
    "cycles",
    "multipliers",
    "reuse_factor",
    "energy_compute",
    "energy_memory",
    "energy_static",
)
"""Per-layer figures a cost model may give beside the costs (no share: not part of a total)."""

FORMAT_COLUMNS = (
    "weights_kind",
    "weights_bits",
    "weights_integer_bits",
    "weights_exponent_bits",
    "weights_mantissa_bits",
    "weights_clusters",
    "weights_granularity",
    "weights_codebook",
    "activations_kind",
    "activations_bits",
    "activations_integer_bits",
    "activations_exponent_bits",
    "activations_mantissa_bits",
    "accumulator_bits",
    "accumulator_integer_bits",
)
"""The format columns of a layer row, in order (empty where a format does not use them)."""


def storage_bits(fmt: FixedPoint | FloatFormat | WeightSharing | None) -> int:
    """Bits stored per value: W for fixed point, 1+E+M for a float, the index bits of shared
    weights (codebooks aside), 32 for float32 (`None`).

    Example:
        >>> storage_bits(FloatFormat(4, 3)), storage_bits(WeightSharing(16)), storage_bits(None)
        (8, 4, 32)
    """
    return FLOAT32_BITS if fmt is None else int(fmt.bits)


def format_fields(prefix: str, fmt: FixedPoint | FloatFormat | WeightSharing | None) -> dict:
    """The columns of one format, named `<prefix>_<field>`; only the fields its kind uses.

    Example:
        >>> format_fields("weights", FixedPoint(6, 2))
        {'weights_kind': 'fixed', 'weights_bits': 6, 'weights_integer_bits': 2}
    """
    if fmt is None:
        return {f"{prefix}_kind": "float32", f"{prefix}_bits": FLOAT32_BITS}
    row: dict[str, Any] = {f"{prefix}_kind": fmt.kind, f"{prefix}_bits": storage_bits(fmt)}
    if isinstance(fmt, FixedPoint):
        row[f"{prefix}_integer_bits"] = fmt.integer_bits
    elif isinstance(fmt, FloatFormat):
        row[f"{prefix}_exponent_bits"] = fmt.exponent_bits
        row[f"{prefix}_mantissa_bits"] = fmt.mantissa_bits
    else:
        row[f"{prefix}_clusters"] = fmt.clusters
        row[f"{prefix}_granularity"] = fmt.granularity.name
        book = fmt.codebook
        row[f"{prefix}_codebook"] = "float32" if book is None else f"{book.kind}{book.bits}"
    return row


def layer_formats(layer: LayerConfig, *, has_weights: bool = True) -> dict[str, Any]:
    """The format columns of one layer (see `FORMAT_COLUMNS`); a layer without weights (a
    pooling layer) has none for its weights."""
    row: dict[str, Any] = {}
    if has_weights:
        row |= format_fields("weights", layer.weights)
    if layer.activations is not None:
        row |= format_fields("activations", layer.activations)
    if layer.accumulator is not None:
        row["accumulator_bits"] = layer.accumulator.word_length
        row["accumulator_integer_bits"] = layer.accumulator.integer_bits
    return row


def layer_rows(
    configuration: Configuration,
    layers: Sequence[str],
    cost: Cost | None = None,
) -> list[dict[str, Any]]:
    """One row per layer: its formats and, from `cost.per_layer`, its costs and their shares.

    Args:
        configuration: the point's formats.
        layers: the layers of the study's space, in order; the cost's layers (execution
            order, pooling layers included) come first when it has any.
        cost: the point's cost, `None` when the study has no per-layer cost model.

    Returns:
        Dicts with `layer`, the format columns its formats use and, priced, each metric of
        `COST_COLUMNS` with `<metric>_share` (the layer's fraction of the sum over layers).
    """
    per_layer: Mapping[str, Mapping[str, float]] = {} if cost is None else cost.per_layer
    names = list(per_layer) + [n for n in layers if n not in per_layer]
    totals = {
        key: sum(float(values.get(key, 0.0)) for values in per_layer.values())
        for key in COST_COLUMNS
    }
    rows = []
    for name in names:
        costs = per_layer.get(name, {})
        searched = name in layers or name in configuration
        if not searched and not any(costs.get(key, 0.0) for key in COST_COLUMNS):
            continue  # a layer that neither is searched nor costs anything (pooling, priced
            # by weight memory alone)
        has_weights = searched or costs.get("weight_bits", 1) > 0
        row: dict[str, Any] = {"layer": name}
        row |= layer_formats(configuration.get(name), has_weights=has_weights)
        for key in COST_COLUMNS:
            if key in costs:
                value = float(costs[key])
                row[key] = value
                row[f"{key}_share"] = value / totals[key] if totals[key] else math.nan
        row |= {key: float(costs[key]) for key in EXTRA_COST_COLUMNS if key in costs}
        rows.append(row)
    return rows


def point_layers(
    point: FrontPoint, layers: Sequence[str], cost_model: CostModel | None
) -> list[dict[str, Any]]:
    """The rows of one front point (empty when its configuration is unknown)."""
    if point.configuration is None:
        return []
    cost = None if cost_model is None else cost_model.cost(point.configuration)
    head = {"number": point.number, "config_hash": point.config_hash}
    return [head | row for row in layer_rows(point.configuration, layers, cost)]


def front_layers(result: StudyResult) -> pd.DataFrame:
    """Every front point's layers (`front_layers.csv`): one row per (point, layer).

    Columns: `number`, `config_hash`, `layer`, the format columns, then the per-layer costs
    and their shares when the study's cost model gives them. Points follow the front's
    order (trial order).
    """
    layers = [d.name for d in result.space.layers]
    rows = [
        row
        for point in result.front.points
        for row in point_layers(point, layers, result.cost_model)
    ]
    return layer_table(rows)


def layer_table(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Layer rows as a table with the columns in a stable order (formats, then costs)."""
    present = {key for row in rows for key in row}
    head = ["number", "config_hash", "layer", *FORMAT_COLUMNS]
    costs = [c for key in COST_COLUMNS for c in (key, f"{key}_share")]
    order = [c for c in [*head, *costs, *EXTRA_COST_COLUMNS] if c in present]
    order += sorted(present - set(order))
    table = pd.DataFrame(list(rows), columns=order)
    for column in table.columns:
        if column.endswith(("_bits", "_clusters")) and column != "weight_bits":
            table[column] = table[column].astype("Int64")
    return table
