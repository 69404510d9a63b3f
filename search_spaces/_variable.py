"""One variable of a search space, and its encoding for Optuna and pymoo."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution, IntDistribution


@dataclass(frozen=True)
class Variable:
    """A named variable `<layer>.<tensor>.<field>` with its domain.

    Integer variables are ordinal (bit widths, cluster counts): samplers may interpolate them.
    `log` marks a variable explored on a log2 scale (cluster counts). Categorical variables are
    for truly unordered choices (representation kind, granularity).

    Attributes:
        name: e.g. `conv1.weights.bits`.
        kind: `int` or `categorical`.
        low: smallest value of an `int` variable.
        high: largest value of an `int` variable (inclusive).
        log: sample an `int` variable uniformly in log scale.
        choices: the values of a `categorical` variable.
    """

    name: str
    kind: Literal["int", "categorical"]
    low: int = 0
    high: int = 0
    log: bool = False
    choices: tuple[Any, ...] = ()

    @classmethod
    def integer(cls, name: str, low: int, high: int, *, log: bool = False) -> Variable:
        return cls(name=name, kind="int", low=low, high=high, log=log)

    @classmethod
    def categorical(cls, name: str, choices: tuple[Any, ...]) -> Variable:
        return cls(name=name, kind="categorical", choices=tuple(choices))

    @property
    def size(self) -> int:
        """Number of values the variable takes."""
        return self.high - self.low + 1 if self.kind == "int" else len(self.choices)

    def values(self) -> tuple[Any, ...]:
        """Every value, in order (for exhaustive enumeration)."""
        if self.kind == "int":
            return tuple(range(self.low, self.high + 1))
        return self.choices

    def sample(self, rng: np.random.Generator) -> Any:
        """One value drawn at random: uniform over the choices, or over the integers (in log
        scale when `log`), as Optuna's random sampler draws them. A plain Python value."""
        if self.kind == "categorical":
            return self.choices[int(rng.integers(len(self.choices)))]
        if not self.log:
            return int(rng.integers(self.low, self.high + 1))
        u = rng.uniform(math.log(self.low - 0.5), math.log(self.high + 0.5))
        return min(max(round(math.exp(u)), self.low), self.high)

    def contains(self, value: Any) -> bool:
        if self.kind == "int":  # numpy integers too: pymoo proposes them
            integral = isinstance(value, numbers.Integral) and not isinstance(value, bool)
            return integral and self.low <= value <= self.high
        return value in self.choices

    def to_optuna(self) -> BaseDistribution:
        if self.kind == "int":
            return IntDistribution(self.low, self.high, log=self.log and self.low >= 1)
        return CategoricalDistribution(self.choices)

    def to_pymoo(self) -> Any:
        """A pymoo `Integer` or `Choice` variable (mixed-variable problems)."""
        from pymoo.core.variable import Choice, Integer

        if self.kind == "int":
            return Integer(bounds=(self.low, self.high))
        return Choice(options=list(self.choices))

    def to_unit(self, value: Any) -> float:
        """Position of a value in [0, 1] (log scale where `log`), for distances and plots."""
        if self.kind == "categorical":
            return self.choices.index(value) / max(1, len(self.choices) - 1)
        if self.high == self.low:
            return 0.0
        if self.log and self.low >= 1:
            return math.log(value / self.low) / math.log(self.high / self.low)
        return (value - self.low) / (self.high - self.low)
