"""Building a study's parts from its configuration: workload, space, evaluator, cost model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from dse._errors import StudyFileError
from dse.config import StudyConfig, resolve_layers
from dse.study._evaluator import make_evaluator
from dse.study._hardware import build_cost_model
from dse.study._problem import Problem
from evaluators import (
    LayerShape,
    TrainingRecipe,
    Workload,
    WorkloadError,
    build_workload,
    calibrate_activations,
    layer_shapes,
)
from hardware_models import CostModel
from search_spaces import LayerChoices, SearchSpace, SpaceError


@dataclass(frozen=True, eq=False)
class StudySetup:
    """Everything a study needs besides its storage, built once per process."""

    config: StudyConfig
    path: Path
    workload: Workload
    shapes: dict[str, LayerShape]
    problem: Problem

    @property
    def output_dir(self) -> Path:
        return Path(self.config.study.output) / self.config.study.name


def build_setup(config: StudyConfig, path: str | Path) -> StudySetup:
    """Build the workload, the search space, the evaluator and the cost model.

    Relative data and model paths are taken from the study file's folder; the output folder
    from the current directory.

    Raises:
        StudyFileError: a file the study names is missing or does not fit, with its field.
    """
    path = Path(path)
    base_dir = path.parent
    # Small layers gain nothing from intra-op threads and lose much to their spinning on a
    # loaded machine (LeNet trains 30x slower with 2 threads beside other work); scale out
    # with workers instead, or raise `evaluator.threads` for large models.
    torch.set_num_threads(config.evaluator.threads)
    w = config.workload
    try:
        workload = build_workload(
            w.model,
            w.dataset,
            seed=config.study.seed,
            fractions=(w.splits.train, w.splits.validation, w.splits.test),
            checkpoint=w.checkpoint,
            training=TrainingRecipe(**w.training.model_dump()),
            cache_dir=Path(config.study.output) / ".cache",
            base_dir=base_dir,
        )
    except WorkloadError as exc:
        raise StudyFileError(str(path), "workload", str(exc)) from None
    layers = resolve_layers(config.search_space, workload.layers(), str(path))
    try:
        activation_ranges, accumulator_ranges = _output_ranges(workload, layers)
        space = SearchSpace.from_model(
            workload.model,
            layers,
            activation_ranges=activation_ranges,
            accumulator_ranges=accumulator_ranges,
        )
    except SpaceError as exc:
        raise StudyFileError(str(path), "search_space", str(exc)) from None
    shapes = layer_shapes(workload.model, workload.data.train.x)
    evaluator = make_evaluator(config, workload)
    cost_model = _cost_model(config, shapes, path)
    problem = Problem(
        space,
        evaluator,
        cost_model,
        config.objectives,
        config.constraints,
        reference_accuracy=evaluator.reference().accuracy,
    )
    return StudySetup(config, path, workload, shapes, problem)


def _output_ranges(
    workload: Workload, layers: dict[str, LayerChoices]
) -> tuple[dict[str, float], dict[str, float]]:
    """Calibrate, on the training split, the layers whose activations are searched.

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
            workload.model,
            workload.data.train.x,
            layers=names,
            method=method,
            percentile=percentile,
        )
    needs_accumulator = [
        n for n, c in layers.items() if c.activations and c.activations.accumulator_bits
    ]
    peaks = (
        calibrate_activations(workload.model, workload.data.train.x, layers=needs_accumulator)
        if needs_accumulator
        else {}
    )
    return ranges, {n: 2.0 * peak for n, peak in peaks.items()}


def _cost_model(config: StudyConfig, shapes: dict[str, LayerShape], path: Path) -> CostModel:
    """`WeightMemoryModel` for weight-bits-only studies, else the accelerator model."""
    return build_cost_model(config, shapes, path)
