"""The problem bundle: a point of the space in, objectives, constraints and metrics out."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from evaluators import EvaluationError

if TYPE_CHECKING:
    from dse.config import Constraint, Objective
    from evaluators import Configuration, Evaluator
    from hardware_models import CostModel
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

    Args:
        space: decodes points into configurations.
        evaluator: scores accuracy.
        cost_model: prices hardware metrics.
        objectives: the study's objectives.
        constraints: bounds on metrics.
        reference_accuracy: the float model's accuracy, for `accuracy_drop`.
    """

    def __init__(
        self,
        space: SearchSpace,
        evaluator: Evaluator,
        cost_model: CostModel,
        objectives: Sequence[Objective],
        constraints: Sequence[Constraint],
        reference_accuracy: float,
    ) -> None:
        self.space = space
        self.evaluator = evaluator
        self.cost_model = cost_model
        self.objectives = tuple(objectives)
        self.constraints = tuple(constraints)
        self.reference_accuracy = reference_accuracy

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
