"""Writers: functions of (study result, folder) producing the files of results/<study>/."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dse.results._plots import ParetoDisplay, ParetoInfo
from dse.results._tables import front_rows

if TYPE_CHECKING:
    import pandas as pd


def _atomic_write(path: Path, text: str) -> None:
    """Write through a temporary file: a reader never sees half a file, a crash keeps the old."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_results(
    folder: Path,
    table: pd.DataFrame,
    objective_names: tuple[str, ...],
    directions: tuple[str, ...],
    study_record: dict[str, Any],
) -> dict[str, Path]:
    """Write trials.csv, pareto.csv, pareto.png and study.json into `folder`.

    Returns:
        The written files by kind.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "trials": folder / "trials.csv",
        "pareto": folder / "pareto.csv",
        "plot": folder / "pareto.png",
        "study": folder / "study.json",
    }
    _atomic_write(paths["trials"], table.to_csv(index=False))
    front = front_rows(table)
    _atomic_write(paths["pareto"], front.to_csv(index=False))
    _atomic_write(paths["study"], json.dumps(study_record, indent=2, sort_keys=True) + "\n")
    display = ParetoDisplay(ParetoInfo.from_table(table, objective_names, directions)).plot()
    tmp = paths["plot"].with_name(f".pareto.{os.getpid()}.png")
    display.figure_.savefig(tmp, dpi=120)
    tmp.replace(paths["plot"])
    return paths
