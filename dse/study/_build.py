"""Building a study's parts from its settings: workload, space, evaluator, cost model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch

from dse._errors import StudyFileError, settings_error
from dse.config import resolve_layers
from dse.storage import study_folder
from dse.study._evaluator import make_evaluator
from dse.study._hardware import build_cost_model, hardware_settings
from dse.study._problem import Problem
from dse.study._torch import scoped_torch
from evaluators import (
    DatasetSpec,
    TrainingRecipe,
    Workload,
    WorkloadError,
    build_workload,
    calibrate_activations,
    layer_shapes,
    resolve_device,
)
from results import StudyResult, write_report, write_results
from search_spaces import LayerChoices, SearchSpace, SpaceError

if TYPE_CHECKING:
    from dse.config import StudyConfig


def output_dir(config: StudyConfig) -> Path:
    """Where a study's files go: `<study.output>/<study.name>` (see `study_folder`)."""
    return study_folder(config)


def write_outputs(
    result: StudyResult, folder: Path, study_file: str | Path | None = None
) -> dict[str, Path]:
    """A study's output folder: `write_results`' tables, plot and record first, then
    `report.html` and `front_layers.csv` (`write_report`). Returns the files by kind."""
    files = write_results(result, folder)
    report = write_report(result, folder, study_file=study_file)
    return files | {"report": report, "front_layers": report.with_name("front_layers.csv")}


def load_workload(config: StudyConfig, path: str | Path) -> Workload:
    """The model and data a study file names, trained once and cached under its output folder.

    Relative data and model paths are taken from the study file's folder.

    Raises:
        StudyFileError: a file the study names is missing or does not fit, with its field.
    """
    path = Path(path)
    w = config.workload
    try:
        with scoped_torch(config.evaluator.threads):  # initialisation seeds torch
            return build_workload(
                w.model,
                w.dataset if isinstance(w.dataset, str) else DatasetSpec(**w.dataset.model_dump()),
                seed=config.study.seed,
                fractions=(w.splits.train, w.splits.validation, w.splits.test),
                validation=w.validation,
                fold=w.fold_batchnorm,
                device=str(resolve_device(config.evaluator.device)),
                checkpoint=w.checkpoint,
                training=TrainingRecipe(**w.training.model_dump()),
                cache_dir=Path(config.study.output) / ".cache",
                base_dir=path.parent,
            )
    except WorkloadError as exc:
        raise StudyFileError(str(path), "workload", str(exc)) from None


def build_problem(config: StudyConfig, workload: Workload, path: str | Path | None) -> Problem:
    """The search space, evaluator and cost model of a study over `workload`.

    Args:
        config: the validated settings.
        workload: the float model and its data.
        path: the study file (relative hardware paths start at its folder), or None for
            settings given from Python (paths then start at the current directory).

    Raises:
        SettingsError: a pattern, range or file of the settings does not fit the model
            (`StudyFileError` when they come from a file), with its field.
    """
    source = None if path is None else str(path)
    layers = resolve_layers(config.search_space, workload.outputs(), source)
    try:
        samples = workload.data.train.x[: config.search_space.calibration_samples]
        activation_ranges, accumulator_ranges = _output_ranges(workload.model, samples, layers)
        space = SearchSpace.from_model(
            workload.model,
            layers,
            activation_ranges=activation_ranges,
            accumulator_ranges=accumulator_ranges,
        )
    except SpaceError as exc:
        raise settings_error(source, "search_space", str(exc)) from None
    shapes = layer_shapes(workload.model, workload.data.train.x)
    evaluator = make_evaluator(config, workload)
    with scoped_torch(config.evaluator.threads):
        reference_accuracy = evaluator.reference().accuracy
    cost_model = build_cost_model(config, shapes, path)
    return Problem(
        space,
        evaluator,
        cost_model,
        config.objectives,
        config.constraints,
        reference_accuracy=reference_accuracy,
        config=config,
        workload=workload,
        hardware=hardware_settings(config, list(shapes), path),
        source=source,
    )


def _output_ranges(
    model: torch.nn.Module, samples: torch.Tensor, layers: dict[str, LayerChoices]
) -> tuple[dict[str, float], dict[str, float]]:
    """Calibrate, on training samples, the layers whose activations are searched.

    Returns:
        The range each activation format is sized from (by the layer's calibration method,
        possibly clipped), and the range for accumulators: twice the largest output seen,
        since an accumulator must never wrap on a real sum.
    """
    groups: dict[tuple[str, float], list[str]] = {}
    for name, choices in layers.items():
        if choices.activations is not None:
            key = (choices.activations.calibration, choices.activations.percentile)
            groups.setdefault(key, []).append(name)
    ranges: dict[str, float] = {}
    for (method, percentile), names in groups.items():
        ranges |= calibrate_activations(
            model,
            samples,
            layers=names,
            method=method,
            percentile=percentile,
        )
    needs_accumulator = [  # resolve_layers gives modules without weights no accumulator
        n for n, c in layers.items() if c.activations and c.activations.accumulator_bits
    ]
    peaks = (
        calibrate_activations(model, samples, layers=needs_accumulator)
        if needs_accumulator
        else {}
    )
    return ranges, {n: 2.0 * peak for n, peak in peaks.items()}
