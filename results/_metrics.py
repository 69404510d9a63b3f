"""What each metric is: its label, its unit, which way is better, how a figure scales it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class MetricInfo:
    """How to show one metric.

    Attributes:
        name: the metric's name in tables (`lut`).
        label: words for an axis (`LUTs`).
        unit: the unit of the stored value (`bits`, `s`, `J`; empty for a count or fraction).
        direction: which way is better, when the study does not say (`maximize`/`minimize`).
        figure_scale: factor from the stored value to the value a published figure shows.
        figure_unit: the unit of the scaled value (`%`, `µs`, `kbit`).
        log: whether a plot reads best on a log scale (costs spanning decades).
    """

    name: str
    label: str
    unit: str = ""
    direction: str = "minimize"
    figure_scale: float = 1.0
    figure_unit: str = ""
    log: bool = False

    def axis_label(self, *, figure: bool = False) -> str:
        """`label (unit)`, in the figure's unit when `figure`."""
        unit = self.figure_unit if figure else self.unit
        return f"{self.label} ({unit})" if unit else self.label


_KNOWN = {
    m.name: m
    for m in (
        MetricInfo("accuracy", "accuracy", "fraction", "maximize", 100.0, "%"),
        MetricInfo("accuracy_exact", "exact accuracy", "fraction", "maximize", 100.0, "%"),
        MetricInfo(
            "accuracy_drop", "accuracy drop vs float32", "fraction", "minimize", 100.0, "pp"
        ),
        MetricInfo(
            "compression_ratio", "weight compression vs float32", "x", "maximize", 1.0, "x"
        ),
        MetricInfo("weight_bits", "weight memory", "bits", "minimize", 1e-3, "kbit", True),
        MetricInfo("lut", "LUTs", "", "minimize", 1.0, "", True),
        MetricInfo("ff", "flip-flops", "", "minimize", 1.0, "", True),
        MetricInfo("dsp", "DSP slices", "", "minimize"),
        MetricInfo("bram", "block RAM", "18 Kb blocks", "minimize", 1.0, "18 Kb blocks"),
        MetricInfo("latency", "latency", "s", "minimize", 1e6, "µs", True),
        MetricInfo("energy", "energy per inference", "J", "minimize", 1e6, "µJ", True),
        MetricInfo("utilization", "utilization of the part", "fraction", "minimize", 100.0, "%"),
        MetricInfo("proxy_value", "proxy value", "degradation", "minimize", 1.0, "degradation"),
    )
}


def metric_info(name: str) -> MetricInfo:
    """What is known of a metric; an unknown one is a plain number, smaller is better."""
    known = _KNOWN.get(name)
    if known is not None:
        return known
    if name.startswith("accuracy"):
        return MetricInfo(name, name.replace("_", " "), "fraction", "maximize", 100.0, "%")
    return MetricInfo(name, name.replace("_", " "))


def metric_direction(name: str, objectives: Sequence[str], directions: Sequence[str]) -> str:
    """Which way `name` is better: the study's direction for an objective, else its default."""
    if name in objectives:
        return directions[list(objectives).index(name)]
    return metric_info(name).direction
