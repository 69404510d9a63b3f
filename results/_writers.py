"""Writers: functions of (study result, folder) producing the files of `runs/<study>/`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from results._fidelity import fidelity_info, json_safe, write_fidelity
from results._files import atomic_write, save_figure
from results._plots import ParetoDisplay, ParetoInfo
from results._rescore import rescored_table
from results._tables import front_rows

if TYPE_CHECKING:
    from results._result import StudyResult


def write_results(result: StudyResult, folder: Path) -> dict[str, Path]:
    """Write trials.csv, pareto.csv, pareto.png, study.json, and the fidelity report
    (rescored.csv, fidelity.json, fidelity.png) into `folder`.

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
    table = result.table
    atomic_write(paths["trials"], table.to_csv(index=False))
    atomic_write(paths["pareto"], front_rows(table).to_csv(index=False))
    fidelity, fidelity_files = write_fidelity_report(result, folder)
    record = study_record(result) | {"fidelity": fidelity}
    atomic_write(paths["study"], json.dumps(json_safe(record), indent=2, sort_keys=True) + "\n")
    info = ParetoInfo.from_table(table, result.objective_names, result.directions)
    display = ParetoDisplay(info).plot()
    save_figure(display.figure_, paths["plot"], dpi=120)
    return paths | fidelity_files


def study_record(result: StudyResult) -> dict[str, Any]:
    """The content of study.json, less the fidelity report."""
    reference = result.reference_point
    return {
        "study": result.name,
        "config": result.settings.get("config"),
        "provenance": dict(result.provenance),
        "workload": result.settings.get("workload"),
        "hardware": None if result.hardware is None else result.hardware.to_dict(),
        "reference_accuracy": result.reference_accuracy,
        "search_space": {
            "variables": [v.name for v in result.space.variables],
            "size": result.space.size(),
        },
        "summary": {
            "complete": result.count("COMPLETE"),
            "failed": result.count("FAIL"),
            "front_size": len(result.front),
            "hypervolume_reference": None if reference is None else list(reference),
            "hypervolume": result.hypervolume(),
            "budget": result.budget,
        },
        "timings": dict(result.timings),
    }


def write_fidelity_report(
    result: StudyResult, folder: Path
) -> tuple[dict[str, Any], dict[str, Path]]:
    """Write `rescored.csv`, `fidelity.json` and `fidelity.png`.

    Returns:
        (record, files): the fidelity measures, the exact scorings spent and both exact
        fronts (validation and test) for study.json, and the written files by kind.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rescored = rescored_table(
        result.records,
        result.rescored,
        result.objective_names,
        result.directions,
        reference_accuracy=result.reference_accuracy,
        constraints=result.constraints,
    )
    info = fidelity_info(result.table, rescored, dict(result.evaluator))
    files = write_fidelity(folder, info)
    files["rescored"] = folder / "rescored.csv"
    atomic_write(files["rescored"], rescored.to_csv(index=False))
    record = {k: v for k, v in info.items() if k != "points"}
    record["fronts"] = {
        split: []
        if not len(rescored)
        else rescored[rescored[f"pareto_{split}"]].to_dict(orient="records")
        for split in ("validation", "test")
    }
    return record, files
