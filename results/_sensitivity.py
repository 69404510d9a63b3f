"""Writing a sensitivity profile: one CSV row per (layer, choice), one plot per layer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from evaluators import FixedPoint, FloatFormat, WeightSharing
from results._files import atomic_write, save_figure

if TYPE_CHECKING:
    from evaluators import LayerSensitivity


def sensitivity_rows(entries: list[LayerSensitivity]) -> pd.DataFrame:
    """The profile as a table: layer, tensor, kind, widths, accuracy, drop and KL."""
    rows: list[dict[str, Any]] = []
    for e in entries:
        tensor = "weights" if e.config.weights is not None else "activations"
        fmt = e.config.weights if tensor == "weights" else e.config.activations
        row: dict[str, Any] = {
            "layer": e.layer,
            "tensor": tensor,
            "kind": getattr(fmt, "kind", ""),
        }
        if isinstance(fmt, FixedPoint):
            row["bits"] = fmt.word_length
        elif isinstance(fmt, FloatFormat):
            row |= {
                "bits": fmt.bits,
                "exponent_bits": fmt.exponent_bits,
                "mantissa_bits": fmt.mantissa_bits,
            }
        elif isinstance(fmt, WeightSharing):
            row |= {
                "clusters": fmt.clusters,
                "index_bits": fmt.index_bits,
                "granularity": fmt.granularity.name,
            }
        if e.config.accumulator is not None:
            row["accumulator_bits"] = e.config.accumulator.word_length
        row |= {"accuracy": e.accuracy, "accuracy_drop": e.accuracy_drop, "kl": e.kl}
        rows.append(row)
    return pd.DataFrame(rows)


def write_sensitivity(
    folder: Path,
    entries: list[LayerSensitivity],
    *,
    pruned: dict[str, Any] | None = None,
    gate: float | None = None,
) -> dict[str, Path]:
    """Write `sensitivity.csv`, `sensitivity_<layer>.png` and, if pruned, `pruned.json`.

    Each plot shows the layer's accuracy alone against the number of shared values k (log
    scale, one line per granularity) and against the bit width (fixed point, float).

    Returns:
        The written files by kind (`csv`, `plot:<layer>`, `pruned`).
    """
    from matplotlib.figure import Figure  # not pyplot: no global backend or registry

    folder.mkdir(parents=True, exist_ok=True)
    table = sensitivity_rows(entries)
    files = {"csv": folder / "sensitivity.csv"}
    atomic_write(files["csv"], table.to_csv(index=False))
    for layer, rows in table.groupby("layer", sort=False):
        figure = Figure(figsize=(10, 3.8))
        by_k, by_bits = figure.subplots(1, 2, sharey=True)
        shared = rows[rows["kind"] == "shared"]
        for granularity, part in shared.groupby("granularity"):
            part = part.sort_values("clusters")
            by_k.plot(part["clusters"], part["accuracy"], marker=".", label=str(granularity))
        if len(shared):
            by_k.set_xscale("log", base=2)
            by_k.legend(title="granularity")
        by_k.set_xlabel("shared values k")
        by_k.set_ylabel("accuracy, layer alone")
        for (tensor, kind), part in rows[rows["kind"] != "shared"].groupby(["tensor", "kind"]):
            part = part.sort_values("bits")
            by_bits.plot(
                part["bits"], part["accuracy"], marker=".", ls="", label=f"{tensor} {kind}"
            )
        if (rows["kind"] != "shared").any():
            by_bits.legend()
        by_bits.set_xlabel("bits")
        if gate is not None:
            reference = float((rows["accuracy"] + rows["accuracy_drop"]).iloc[0])
            for ax in (by_k, by_bits):
                ax.axhline(reference - gate, color="grey", lw=0.8, ls="--")
        figure.suptitle(f"{layer}: sensitivity")
        figure.tight_layout()
        path = folder / f"sensitivity_{layer}.png"
        save_figure(figure, path, dpi=100)
        files[f"plot:{layer}"] = path
    if pruned is not None:
        files["pruned"] = folder / "pruned.json"
        atomic_write(files["pruned"], json.dumps({"gate": gate, **pruned}, indent=2) + "\n")
    return files
