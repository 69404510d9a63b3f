"""Settings of optimizers: the base every `optimizer` section of study.yaml validates into.

Each optimizer registers its own settings model with its factory (`register_optimizer`), a
subclass of `OptimizerSettings` whose `kind` is a literal of its name; study.yaml's
`optimizer` section is validated by the model registered for its `kind`, a plugin's too.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


class OptimizerSettings(BaseModel):
    """Settings every optimizer shares.

    `warm_start` enqueues the uniform baselines (`dse.study.warm_start_points`: every layer at
    8 bits, then at 16 bits, then every layer's weights shared at 16, 32, 64 and 256 clusters,
    clamped into each layer's range) before the sampler's own proposals, once, when the study
    is new: they anchor the high-accuracy end of the front that samplers reach last. With a
    stored sensitivity profile (`dse sensitivity`), one point per accuracy-drop gate follows.

    Attributes:
        kind: the registered name of the optimizer.
        budget: evaluations to reach (repeats of a scored configuration not counted).
        warm_start: score the uniform baselines first.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    budget: Annotated[int, Field(ge=1, le=1_000_000)] = 100
    warm_start: bool = True


def _population_size(value: Any) -> Any:
    """`auto` or an integer >= 2, with one message for both (not one per union member)."""
    if value == "auto":
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer >= 2 or 'auto', got {value!r}")
    if value < 2:
        raise ValueError(f"expected an integer >= 2 or 'auto', got {value}")
    return value


PopulationSize = Annotated[int | Literal["auto"], BeforeValidator(_population_size)]
"""Individuals per generation, or `auto`: budget // 10 clamped into [8, 50].

A budget of 200 evaluations is 10 generations of 20; smaller populations give more
generations to small budgets, where 20 left NSGA-II below random search at 50 evaluations.
"""


class GeneticSettings(OptimizerSettings):
    """Population and variation rates of Optuna's genetic samplers (NSGA-II, NSGA-III)."""

    population_size: PopulationSize = "auto"
    mutation_prob: Annotated[float, Field(ge=0, le=1)] | None = None
    crossover_prob: Annotated[float, Field(ge=0, le=1)] = 0.9


GpBackend = Literal["cost_aware", "optuna", "botorch"]
"""Which Gaussian-process optimizer proposes.

`cost_aware` (dse's own) models only the objectives that must be scored (accuracy) and
computes the hardware ones exactly for every candidate configuration; `optuna` is Optuna's
GPSampler, a GP per objective over the parameter vector; `botorch` is BoTorch's qLogNEHVI
through optuna-integration, when both are installed.
"""


def population_size(settings: Any) -> int:
    """The genetic samplers' population: `settings.population_size`, or from the budget if `auto`.

    `auto` is `budget // 10` clamped into [8, 50]: about ten generations whatever the budget,
    which a fixed 20 gives only from 200 evaluations on. A resumed study with a larger budget
    continues with the larger population.
    """
    if settings.population_size != "auto":
        return int(settings.population_size)
    return min(max(settings.budget // 10, 8), 50)
