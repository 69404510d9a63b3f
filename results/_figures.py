"""Figures to publish: one trade-off (any two metrics) of one or several studies, as a file.

`TradeoffInfo.from_results` computes what the figure shows (each study's points and its front
on the two axes, in the units a reader expects, the baselines, hypervolumes from one shared
reference point); `TradeoffDisplay` draws it on a bare matplotlib `Figure` (never pyplot) with
the Okabe-Ito palette, which readers with any common colour-vision deficiency tell apart,
and a distinct marker per study so that it survives greyscale printing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from results._baselines import baselines
from results._errors import ResultsError
from results._filters import PointQuery, filter_names, points_table
from results._hypervolume import data_reference
from results._metrics import metric_direction, metric_info
from results._pareto import ParetoFront

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from results._result import StudyResult

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
"""Okabe & Ito's colour-blind-safe palette (black kept for the float32 baseline)."""

MARKERS = ("o", "s", "^", "D", "v", "P", "X")
FIGURE_FORMATS = ("png", "svg", "pdf")


@dataclass(frozen=True, eq=False)
class StudySeries:
    """One study in a trade-off figure (values in figure units).

    Attributes:
        label: the legend's name for it.
        x, y: its evaluated, feasible points.
        front_x, front_y: the points of those no other beats on both axes, best x first.
        hypervolume: its front's hypervolume from the figure's shared reference point
            (objective units), `None` when it cannot be computed.
    """

    label: str
    x: np.ndarray
    y: np.ndarray
    front_x: np.ndarray
    front_y: np.ndarray
    hypervolume: float | None


@dataclass(frozen=True, eq=False)
class TradeoffInfo:
    """What a trade-off figure shows, independent of how it is drawn.

    Attributes:
        x, y: the metrics on the axes.
        x_label, y_label: axis labels with units.
        log_x, log_y: whether an axis reads best on a log scale.
        series: one per study.
        baselines: (label, x, y) of the float32 model and uniform baselines, figure units.
        reference: the shared hypervolume reference point (objective units).
        hypervolume_names: the objectives the hypervolumes are measured over.
    """

    x: str
    y: str
    x_label: str
    y_label: str
    log_x: bool
    log_y: bool
    series: tuple[StudySeries, ...]
    baselines: tuple[tuple[str, float, float], ...]
    reference: tuple[float, ...] | None
    hypervolume_names: tuple[str, ...]

    @classmethod
    def from_results(
        cls,
        results: Sequence[StudyResult],
        x: str,
        y: str,
        *,
        labels: Sequence[str] | None = None,
        where: str | None = None,
    ) -> TradeoffInfo:
        """The figure of `y` against `x` for one study or several overlaid.

        Hypervolumes are measured over the studies' objectives when they share them (else
        over `x` and `y`), all from one reference point: the worst of the studies' stored
        reference points, or just beyond the worst value any of them reached.

        Args:
            results: the studies (the first one's baselines are drawn).
            x, y: metric names (objectives, metrics, `accuracy_drop`, `compression_ratio`).
            labels: legend names (default: study name, optimizer and evaluator).
            where: a filter on the points drawn (`"accuracy>=0.9"`).

        Raises:
            ResultsError: an unknown metric or a malformed filter, listing the valid names.
        """
        if not results:
            raise ResultsError("a figure needs at least one study")
        labels = list(labels) if labels is not None else [_label(r) for r in results]
        first = results[0]
        tables = []
        for result in results:
            table = points_table(result, front=False)
            table = table[table["state"] == "COMPLETE"] if len(table) else table
            names = filter_names(result, table)
            for option, name in (("--x", x), ("--y", y)):
                if name not in names:
                    raise ResultsError(
                        f"{option}: unknown name {name!r} for study {result.name!r}; "
                        f"valid names: {', '.join(sorted(names))}"
                    )
            query = PointQuery.parse(names, where=where)
            tables.append(query.apply(table))
        dx = metric_direction(x, first.objective_names, first.directions)
        dy = metric_direction(y, first.objective_names, first.directions)
        hv_names, reference, volumes = _hypervolumes(results, x, y, (dx, dy))
        info_x, info_y = metric_info(x), metric_info(y)
        series = []
        for label, table, volume in zip(labels, tables, volumes, strict=True):
            feasible = table[table["feasible"].astype(bool)] if len(table) else table
            xs = _values(feasible, x) * info_x.figure_scale
            ys = _values(feasible, y) * info_y.figure_scale
            keep = np.isfinite(xs) & np.isfinite(ys)
            xs, ys = xs[keep], ys[keep]
            order = _pair_front(xs, ys, (dx, dy))
            series.append(StudySeries(label, xs, ys, xs[order], ys[order], volume))
        marks = tuple(
            (b.label, b.values[x] * info_x.figure_scale, b.values[y] * info_y.figure_scale)
            for b in baselines(first)
            if x in b.values and y in b.values
        )
        return cls(
            x,
            y,
            info_x.axis_label(figure=True),
            info_y.axis_label(figure=True),
            _wants_log(info_x.log, series, marks, 1),
            _wants_log(info_y.log, series, marks, 2),
            tuple(series),
            marks,
            reference,
            hv_names,
        )


def _label(result: StudyResult) -> str:
    config = result.settings.get("config") or {}
    optimizer = (config.get("optimizer") or {}).get("kind")
    evaluator = result.evaluator.get("kind") or (config.get("evaluator") or {}).get("kind")
    extra = ", ".join(str(p) for p in (optimizer, evaluator) if p)
    return f"{result.name} ({extra})" if extra else result.name


def _values(table: pd.DataFrame, name: str) -> np.ndarray:
    if name not in table:
        return np.full(len(table), math.nan)
    return table[name].to_numpy(dtype=float, na_value=np.nan)


def _pair_front(xs: np.ndarray, ys: np.ndarray, directions: tuple[str, str]) -> np.ndarray:
    """Indices of the 2-D front of (xs, ys), sorted from the best x."""
    if not len(xs):
        return np.zeros(0, int)
    front = ParetoFront.from_points(np.column_stack([xs, ys]), directions)
    numbers = np.asarray(front.numbers, int)
    sign = -1.0 if directions[0] == "maximize" else 1.0
    return numbers[np.argsort(sign * xs[numbers], kind="stable")]


def _hypervolumes(
    results: Sequence[StudyResult], x: str, y: str, pair: tuple[str, str]
) -> tuple[tuple[str, ...], tuple[float, ...] | None, list[float | None]]:
    """Each study's hypervolume from one shared reference point."""
    first = results[0]
    same = all(
        r.objective_names == first.objective_names and r.directions == first.directions
        for r in results
    )
    if same:
        names, directions = first.objective_names, first.directions
        points = [r.reference_point for r in results]
        if all(p is not None for p in points):
            stacked = np.array(points, float)
            worst = [
                stacked[:, i].min() if d == "maximize" else stacked[:, i].max()
                for i, d in enumerate(directions)
            ]
            reference = tuple(float(w) for w in worst)
        else:
            values = np.vstack([r.front.values for r in results if len(r.front)] or [[]])
            reference = data_reference(values.reshape(-1, len(names)), directions)
        return names, reference, [r.front.hypervolume(reference) for r in results]
    fronts = []
    for r in results:
        table = points_table(r, front=False)
        done = table[(table["state"] == "COMPLETE") & table["feasible"].astype(bool)]
        data = np.column_stack([_values(done, x), _values(done, y)])
        data = data[np.isfinite(data).all(axis=1)]
        fronts.append(ParetoFront.from_points(data, pair))
    union = np.vstack([f.values for f in fronts if len(f)] or [np.empty((0, 2))])
    if not len(union):
        return (x, y), None, [None for _ in results]
    reference = data_reference(union, pair)
    return (x, y), reference, [f.hypervolume(reference) for f in fronts]


def _wants_log(
    hint: bool,
    series: Sequence[StudySeries],
    marks: Sequence[tuple[str, float, float]],
    column: int,
) -> bool:
    """A log axis for costs that span more than a decade (and are positive)."""
    if not hint:
        return False
    values = [s.x if column == 1 else s.y for s in series]
    values.append(np.array([m[column] for m in marks], float))
    data = np.concatenate(values) if values else np.zeros(0)
    data = data[np.isfinite(data)]
    return bool(len(data)) and data.min() > 0 and data.max() / data.min() > 10


def _log_axis(ax: Axes, axis: object) -> None:
    """A log scale labelled in plain numbers (`20`, `50`, `100`), not powers of ten."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    (ax.set_xscale if axis is ax.xaxis else ax.set_yscale)("log")
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    axis.set_major_formatter(plain)  # type: ignore[attr-defined]
    axis.set_minor_locator(LogLocator(subs=(2.0, 5.0)))  # type: ignore[attr-defined]
    axis.set_minor_formatter(plain)  # type: ignore[attr-defined]


class TradeoffDisplay:
    """Draws a trade-off figure: each study's points faint, its front as a step line, the
    baselines marked and labelled, the hypervolumes in the legend.

    Example:
        >>> info = TradeoffInfo.from_results([result], "lut", "accuracy")  # doctest: +SKIP
        >>> TradeoffDisplay(info).plot().save("front.pdf")  # doctest: +SKIP
    """

    def __init__(self, info: TradeoffInfo) -> None:
        self.info = info

    @classmethod
    def from_results(
        cls,
        results: Sequence[StudyResult],
        x: str,
        y: str,
        *,
        labels: Sequence[str] | None = None,
        where: str | None = None,
    ) -> TradeoffDisplay:
        """Compute the info (see `TradeoffInfo.from_results`) and draw it."""
        info = TradeoffInfo.from_results(results, x, y, labels=labels, where=where)
        return cls(info).plot()

    def plot(self, ax: Axes | None = None) -> TradeoffDisplay:
        """Draw; sets `figure_` and `ax_`."""
        from matplotlib.figure import Figure  # not pyplot: no global backend or registry

        info = self.info
        if ax is None:
            figure = Figure(figsize=(5.2, 3.7), layout="constrained")
            ax = figure.add_subplot()
        else:
            figure = ax.figure  # type: ignore[assignment]
        several = len(info.series) > 1
        for k, s in enumerate(info.series):
            color, marker = PALETTE[k % len(PALETTE)], MARKERS[k % len(MARKERS)]
            ax.scatter(s.x, s.y, s=9, color=color, alpha=0.18 if several else 0.3, lw=0)
            label = s.label
            if s.hypervolume is not None and info.reference is not None:
                label += f", HV {s.hypervolume:.4g}"
            ax.plot(
                s.front_x,
                s.front_y,
                marker=marker,
                ms=4.5,
                lw=1.3,
                color=color,
                drawstyle="steps-post",
                label=label,
            )
        for j, (label, bx, by) in enumerate(info.baselines):
            is_float = j == 0
            ax.scatter(
                [bx],
                [by],
                marker="*" if is_float else ("P" if j == 1 else "X"),
                s=90 if is_float else 45,
                color="black" if is_float else "#555555",
                zorder=5,
            )
            ax.annotate(
                label,
                (bx, by),
                textcoords="offset points",
                xytext=(5, -10),
                fontsize=7,
                color="#333333",
            )
        for axis, log in ((ax.xaxis, info.log_x), (ax.yaxis, info.log_y)):
            if log:
                _log_axis(ax, axis)
        ax.set_xlabel(info.x_label, fontsize=9)
        ax.set_ylabel(info.y_label, fontsize=9)
        ax.tick_params(which="both", labelsize=8)
        ax.grid(alpha=0.25, lw=0.6)
        legend = ax.legend(loc="best", fontsize=7, frameon=False)
        if info.reference is not None and any(s.hypervolume is not None for s in info.series):
            names = ", ".join(info.hypervolume_names)
            legend.set_title(f"hypervolume over {names}", prop={"size": 7})
        self.figure_: Figure = figure  # type: ignore[assignment]
        self.ax_ = ax
        return self

    def save(self, path: str | Path, *, format: str | None = None) -> Path:
        """Write the figure (`png` at 300 dpi, `svg` or `pdf`), without a creation date, so
        the same study gives the same file.

        Raises:
            ResultsError: an unknown format.
        """
        path = Path(path)
        fmt = (format or path.suffix.lstrip(".") or "png").lower()
        if fmt not in FIGURE_FORMATS:
            allowed = ", ".join(FIGURE_FORMATS)
            raise ResultsError(f"--format: expected one of {allowed}, got {fmt!r}")
        metadata = {
            "png": {"Software": None},
            "svg": {"Date": None},
            "pdf": {"CreationDate": None},
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        self.figure_.savefig(path, format=fmt, dpi=300, metadata=metadata[fmt])
        return path
