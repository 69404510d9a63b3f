"""What a front is measured against: the float model and the uniform baselines.

The float32 model is not a point of any space; its accuracy is the study's reference and its
costs are the cost model's price of the empty configuration. The uniform baselines are the
trials a study scores first (every layer in fixed point at 8 bits, then at 16, then every
layer's weights shared at one codebook size, clamped into each layer's range). From the float
model come two relative measures every table and plot may use: the accuracy drop and the
compression ratio of the weight memory.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from evaluators import Configuration, FixedPoint, WeightSharing

if TYPE_CHECKING:
    import pandas as pd

    from results._record import TrialRecord
    from results._result import StudyResult

UNIFORM_WIDTHS = (8, 16)
"""The word lengths of the uniform fixed-point baselines, in the order a study scores them."""


@dataclass(frozen=True)
class Baseline:
    """A design a front is compared with.

    Attributes:
        label: what it is (`float32`, `uniform 8-bit`...).
        values: its metrics by name (objectives and more); absent where unknown.
        number: the trial that scored it, `None` for the float model.
    """

    label: str
    values: Mapping[str, float] = field(default_factory=dict)
    number: int | None = None


def float_metrics(result: StudyResult) -> dict[str, float]:
    """The float32 model's metrics: its accuracy, a drop of 0, a compression ratio of 1 and
    what the study's cost model charges for a configuration that approximates nothing."""
    values = {"accuracy": float(result.reference_accuracy), "accuracy_drop": 0.0}
    if result.cost_model is not None:
        values |= {k: float(v) for k, v in result.cost_model.cost(Configuration()).values.items()}
    if "weight_bits" in values:
        values["compression_ratio"] = 1.0
    return values


def uniform_width(configuration: Configuration | None) -> int | None:
    """The one word length of a configuration whose every format is fixed point, else None.

    Example:
        >>> from evaluators import LayerConfig
        >>> uniform_width(Configuration.of({"fc": LayerConfig(weights=FixedPoint(8, 2))}))
        8
    """
    if configuration is None or not len(configuration):
        return None
    widths = set()
    for name in configuration:
        layer = configuration[name]
        for fmt in (layer.weights, layer.activations):
            if fmt is not None:
                if not isinstance(fmt, FixedPoint):
                    return None
                widths.add(fmt.word_length)
    return widths.pop() if len(widths) == 1 else None


def uniform_clusters(configuration: Configuration | None) -> int | None:
    """The one codebook size of a configuration whose layers share their weights at one k
    (layers whose weights cannot be shared in fixed point; layers without weights, such as
    additions and pooling, ignored), else None.

    Example:
        >>> from evaluators import LayerConfig
        >>> uniform_clusters(Configuration.of({"fc": LayerConfig(weights=WeightSharing(32))}))
        32
    """
    if configuration is None:
        return None
    sizes = set()
    for name in configuration:
        weights = configuration[name].weights
        if isinstance(weights, WeightSharing):
            sizes.add(weights.clusters)
        elif weights is not None and not isinstance(weights, FixedPoint):
            return None
    return sizes.pop() if len(sizes) == 1 else None


def _fixed_weights(configuration: Configuration) -> int:
    return sum(isinstance(configuration[n].weights, FixedPoint) for n in configuration)


def _all_fixed(configuration: Configuration | None) -> bool:
    if configuration is None or not len(configuration):
        return False
    return all(
        isinstance(fmt, FixedPoint)
        for name in configuration
        for fmt in (configuration[name].weights, configuration[name].activations)
        if fmt is not None
    )


def uniform_baselines(records: tuple[TrialRecord, ...]) -> list[Baseline]:
    """The uniform baselines a study scored: fixed point at 8 and 16 bits, then weights shared
    at one codebook size.

    The study's warm start scores them first, in that order (a 16-bit baseline clamped into a
    narrower space says so in its label); failing that, any evaluated trial whose formats are
    all fixed point at exactly 8 or 16 bits is taken. Shared baselines are only the warm
    start's, in the order scored: `uniform 32 clusters`, with `(1 fixed-point layer)` where
    a layer's weights could not be shared; one per label.
    """
    done = [r for r in records if r.evaluated and r.values is not None]
    warm = [r for r in done if r.warm_start and _all_fixed(r.configuration)]
    found: list[Baseline] = []
    for width, record in zip(UNIFORM_WIDTHS, warm, strict=False):
        actual = uniform_width(record.configuration)
        label = f"uniform {width}-bit"
        if actual != width:
            label += f" (clamped: {_widths(record.configuration)} bits)"
        found.append(Baseline(label, dict(record.metrics), record.number))
    if not found:
        for width in UNIFORM_WIDTHS:
            record = next((r for r in done if uniform_width(r.configuration) == width), None)
            if record is not None:
                label = f"uniform {width}-bit"
                found.append(Baseline(label, dict(record.metrics), record.number))
    for record in done:
        clusters = uniform_clusters(record.configuration) if record.warm_start else None
        if clusters is None:
            continue
        assert record.configuration is not None
        label = f"uniform {clusters} clusters"
        fixed = _fixed_weights(record.configuration)
        if fixed:
            label += f" ({fixed} fixed-point layer{'s' if fixed > 1 else ''})"
        if label not in {b.label for b in found}:  # a design point alike: the first one
            found.append(Baseline(label, dict(record.metrics), record.number))
    return found


def _widths(configuration: Configuration | None) -> str:
    assert configuration is not None
    widths = sorted(
        {
            fmt.word_length
            for name in configuration
            for fmt in (configuration[name].weights, configuration[name].activations)
            if isinstance(fmt, FixedPoint)
        }
    )
    return f"{widths[0]}" if len(widths) == 1 else f"{widths[0]}-{widths[-1]}"


def baselines(result: StudyResult) -> tuple[Baseline, ...]:
    """The float32 model, then the uniform baselines the study scored."""
    base = Baseline("float32", float_metrics(result))
    uniform = uniform_baselines(result.records)
    ratio = _float_weight_bits(result)
    if ratio is not None:
        uniform = [Baseline(b.label, _with_ratio(b.values, ratio), b.number) for b in uniform]
    return (base, *uniform)


def _float_weight_bits(result: StudyResult) -> float | None:
    if result.cost_model is None:
        return None
    bits = result.cost_model.cost(Configuration()).values.get("weight_bits")
    return None if bits is None else float(bits)


def _with_ratio(values: Mapping[str, float], float_bits: float) -> dict[str, float]:
    out = dict(values)
    bits = out.get("weight_bits")
    if bits is not None and bits > 0:
        out["compression_ratio"] = float_bits / bits
    return out


def with_relative_columns(table: pd.DataFrame, result: StudyResult) -> pd.DataFrame:
    """The table with `accuracy_drop` (float accuracy minus accuracy, a fraction) and
    `compression_ratio` (float32 weight bits over weight bits) added where missing.

    A study that prices no weight memory gets no compression ratio.
    """
    table = table.copy()
    if "accuracy_drop" not in table and "accuracy" in table:
        table["accuracy_drop"] = result.reference_accuracy - table["accuracy"].astype(float)
    float_bits = _float_weight_bits(result)
    if float_bits is not None and "weight_bits" in table and "compression_ratio" not in table:
        bits = table["weight_bits"].to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(bits > 0, float_bits / bits, math.nan)
        table["compression_ratio"] = ratio
    return table
