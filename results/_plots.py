"""Pareto plots: an info record computed from the trials, then a matplotlib renderer."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


@dataclass(frozen=True, eq=False)
class ParetoInfo:
    """What a Pareto plot shows, independent of how it is drawn."""

    names: tuple[str, ...]
    directions: tuple[str, ...]
    front: np.ndarray
    dominated: np.ndarray
    infeasible: np.ndarray

    @classmethod
    def from_table(cls, table: pd.DataFrame, names: tuple[str, ...], directions: tuple[str, ...]):
        done = table[table["state"] == "COMPLETE"]
        values = (
            done[list(names)].to_numpy(dtype=float) if len(done) else np.empty((0, len(names)))
        )
        pareto = done["pareto"].to_numpy(dtype=bool) if len(done) else np.empty(0, bool)
        feasible = done["feasible"].to_numpy(dtype=bool) if len(done) else np.empty(0, bool)
        return cls(
            names,
            directions,
            front=values[pareto],
            dominated=values[~pareto & feasible],
            infeasible=values[~feasible],
        )


class ParetoDisplay:
    """Draws a study's front (highlighted) over its dominated (grey) and infeasible (x) trials.

    Two objectives give one scatter; more give one panel per pair of objectives.

    Example:
        >>> ParetoDisplay(info).plot().figure_.savefig("pareto.png")  # doctest: +SKIP
    """

    def __init__(self, info: ParetoInfo) -> None:
        self.info = info

    def plot(self, ax: Axes | None = None) -> ParetoDisplay:
        """Draw; sets `figure_` and `axes_`."""
        from matplotlib.figure import Figure

        pairs = list(combinations(range(len(self.info.names)), 2)) or [(0, 0)]
        if ax is None:
            cols = min(3, len(pairs))
            rows = -(-len(pairs) // cols)
            # A bare Figure, not pyplot: no global backend or figure registry is touched.
            fig = Figure(figsize=(5.2 * cols, 4.2 * rows))
            axes = fig.subplots(rows, cols, squeeze=False)
            axes_list = list(axes.ravel())
            for extra in axes_list[len(pairs) :]:
                extra.set_visible(False)
        else:
            fig, axes_list, pairs = ax.figure, [ax], pairs[:1]
        for (i, j), axis in zip(pairs, axes_list, strict=False):
            # Costs along x, the quality to maximize (accuracy) up the y axis.
            if self.info.directions[i] == "maximize" and self.info.directions[j] == "minimize":
                i, j = j, i
            self._panel(axis, i, j)
        fig.tight_layout()
        self.figure_: Figure = fig
        self.axes_ = axes_list[: len(pairs)]
        return self

    def _panel(self, ax: Axes, i: int, j: int) -> None:
        info = self.info
        if len(info.infeasible):
            ax.scatter(
                info.infeasible[:, i],
                info.infeasible[:, j],
                marker="x",
                c="#d9a0a0",
                s=14,
                label="infeasible",
            )
        if len(info.dominated):
            ax.scatter(
                info.dominated[:, i], info.dominated[:, j], c="#b0b0b0", s=12, label="dominated"
            )
        if len(info.front):
            order = np.argsort(info.front[:, i])
            ax.plot(
                info.front[order, i],
                info.front[order, j],
                "-o",
                c="#c0392b",
                ms=5,
                lw=1.2,
                label="Pareto front",
                drawstyle="steps-post",
            )
        ax.set_xlabel(f"{info.names[i]} ({info.directions[i]})")
        ax.set_ylabel(f"{info.names[j]} ({info.directions[j]})")
        if any(n in ("weight_bits", "energy", "latency", "lut", "ff") for n in (info.names[i],)):
            ax.set_xscale("log")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="best", fontsize=8)
