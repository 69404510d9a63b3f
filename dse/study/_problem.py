"""The problem bundle: a point of the space in, objectives, constraints and metrics out."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from evaluators import Dataset, EvaluationError, Workload, check_fits

if TYPE_CHECKING:
    from pathlib import Path

    from torch import nn

    from dse.config import Constraint, Objective, StudyConfig
    from evaluators import Configuration, DataSplit, Evaluator
    from hardware_models import CostModel, HardwareSettings
    from search_spaces import SearchSpace


@dataclass(frozen=True, eq=False)
class Evaluation:
    """What one trial measured.

    Attributes:
        configuration: the decoded point.
        objectives: one value per objective, in the study's order.
        constraints: name -> violation (<= 0 is feasible, Optuna's convention).
        metrics: every metric measured (objectives and more), by name.
        fidelity: how accuracy was obtained (`exact:validation`...).
    """

    configuration: Configuration
    objectives: tuple[float, ...]
    constraints: Mapping[str, float]
    metrics: Mapping[str, float]
    fidelity: str

    @property
    def feasible(self) -> bool:
        return all(v <= 0 for v in self.constraints.values())


class Problem:
    """Space, evaluator and cost model composed into one function of a point.

    Build one with `Problem.from_model` (a torch model and data in memory) or
    `Problem.from_file` (a study file); `dse.minimize` runs a study on it.

    Args:
        space: decodes points into configurations.
        evaluator: scores accuracy.
        cost_model: prices hardware metrics.
        objectives: the study's objectives.
        constraints: bounds on metrics.
        reference_accuracy: the float model's accuracy, for `accuracy_drop`.
        config: the validated settings it was built from (name, seed, optimizer, evaluator
            and storage settings the study runner reads).
        workload: the float model and its data (re-scoring reads its splits).
        hardware: the accelerator settings of the hardware objectives, if any.
        source: the study file the settings came from (None: given from Python), for error
            messages.
    """

    def __init__(
        self,
        space: SearchSpace,
        evaluator: Evaluator,
        cost_model: CostModel,
        objectives: Sequence[Objective],
        constraints: Sequence[Constraint],
        reference_accuracy: float,
        *,
        config: StudyConfig | None = None,
        workload: Workload | None = None,
        hardware: HardwareSettings | None = None,
        source: str | None = None,
    ) -> None:
        self.space = space
        self.evaluator = evaluator
        self.cost_model = cost_model
        self.objectives = tuple(objectives)
        self.constraints = tuple(constraints)
        self.reference_accuracy = reference_accuracy
        self.config = config
        self.workload = workload
        self.hardware = hardware
        self.source = source

    @classmethod
    def from_model(
        cls,
        model: nn.Module,
        *,
        validation: DataSplit,
        train: DataSplit | None = None,
        test: DataSplit | None = None,
        objectives: Sequence[str | Mapping[str, Any]] = ("accuracy", "weight_bits"),
        constraints: Sequence[Mapping[str, Any]] = (),
        search_space: Mapping[str, Any] | None = None,
        evaluator: Mapping[str, Any] | None = None,
        hardware: Mapping[str, Any] | None = None,
        name: str = "study",
        seed: int = 0,
    ) -> Problem:
        """A problem over a trained torch model and data held in memory.

        The settings are plain data with the meaning and defaults of study.yaml's sections
        (`docs/study-yaml.md`) and are validated the same way. The model is copied, so the
        caller's stays as it was.

        Args:
            model: the trained float model (`nn.Module`), outputs one logit per class.
            validation: the split configurations are scored on during the search.
            train: inputs for calibrating activation ranges and reading layer shapes
                (default: `validation`).
            test: the split the final front is re-scored on (default: none).
            objectives: metric names or `{name, direction}` mappings.
            constraints: `{name, min, max}` mappings.
            search_space: study.yaml's `search_space` section.
            evaluator: study.yaml's `evaluator` section.
            hardware: study.yaml's `hardware` section.
            name: the study's name (names its storage).
            seed: fixes every random choice of the study.

        Raises:
            SettingsError: invalid settings, one line naming the field.
            WorkloadError: the model does not accept the data.
        """
        import copy

        import torch

        from dse.config import validate_settings
        from dse.study._build import build_problem

        data: dict[str, Any] = {
            "study": {"name": name, "seed": seed},
            "objectives": list(objectives),
            "constraints": list(constraints),
        }
        for key, value in (
            ("search_space", search_space),
            ("evaluator", evaluator),
            ("hardware", hardware),
        ):
            if value is not None:
                data[key] = dict(value)
        config = validate_settings(data)
        net = copy.deepcopy(model).eval()
        for p in net.parameters():
            p.requires_grad_(False)
        dataset = Dataset.of(train if train is not None else validation, validation, test)
        workload = Workload(net, dataset, f"{type(model).__name__} (in memory)")
        check_fits(net, type(model).__name__, dataset)
        with torch.no_grad():
            return build_problem(config, workload, None)

    @classmethod
    def from_file(cls, path: str | Path) -> Problem:
        """The problem a study file describes (its model trained or loaded, cached).

        Raises:
            StudyFileError: the file, or a file it names, is invalid; one line naming it.
        """
        from dse.config import load_study
        from dse.study._build import build_problem, load_workload

        config = load_study(path)
        return build_problem(config, load_workload(config, path), path)

    @classmethod
    def from_config(cls, config: StudyConfig, path: str | Path) -> Problem:
        """The problem of an already validated study file."""
        from dse.study._build import build_problem, load_workload

        return build_problem(config, load_workload(config, path), path)

    def evaluate(self, params: Mapping[str, Any]) -> Evaluation:
        """Decode, score and price one point.

        Raises:
            EvaluationError: a metric came out NaN or infinite.
        """
        configuration = self.space.decode(params)
        return self.evaluate_configuration(configuration)

    def exact_values(self, configuration: Configuration) -> tuple[tuple[float | None, ...], bool]:
        """The objectives the cost model computes without scoring (`None` for the others), and
        whether the constraints on its metrics hold: what a cost-aware sampler reads."""
        metrics = self.cost_model.cost(configuration).values
        values = tuple(
            float(metrics[o.name]) if o.name in metrics else None for o in self.objectives
        )
        feasible = all(
            (c.max is None or metrics[c.name] <= c.max)
            and (c.min is None or metrics[c.name] >= c.min)
            for c in self.constraints
            if c.name in metrics
        )
        return values, feasible

    def evaluate_configuration(self, configuration: Configuration) -> Evaluation:
        score = self.evaluator.score(configuration)
        metrics: dict[str, float] = {
            "accuracy": float(score.accuracy),
            "accuracy_drop": self.reference_accuracy - float(score.accuracy),
        }
        # A proxy's raw value and any exact score beside it: a resumed study refits from them.
        if score.proxy_value is not None:
            metrics["proxy_value"] = float(score.proxy_value)
        if score.exact_accuracy is not None:
            metrics["accuracy_exact"] = float(score.exact_accuracy)
        metrics.update(self.cost_model.cost(configuration).values)
        for name, value in metrics.items():
            if not math.isfinite(value):
                raise EvaluationError(
                    f"{name} is {value} for configuration {configuration.digest()}"
                )
        missing = [o.name for o in self.objectives if o.name not in metrics]
        if missing:
            raise EvaluationError(f"the cost model does not provide {missing}")
        constraints: dict[str, float] = {}
        for c in self.constraints:
            if c.max is not None:
                constraints[f"{c.name}<={c.max:g}"] = metrics[c.name] - c.max
            if c.min is not None:
                constraints[f"{c.name}>={c.min:g}"] = c.min - metrics[c.name]
        return Evaluation(
            configuration=configuration,
            objectives=tuple(metrics[o.name] for o in self.objectives),
            constraints=constraints,
            metrics=metrics,
            fidelity=score.fidelity,
        )
