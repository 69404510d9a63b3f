"""Candidate configurations around a Pareto front, for samplers that choose among them.

Moves that keep most of a good configuration: one variable a step away, a layer tensor's
format swapped for another kind, the layers of two front points recombined, plus points drawn
at random to keep looking elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from search_spaces import KIND_FIELDS

if TYPE_CHECKING:
    import numpy as np

    from search_spaces import SearchSpace, Variable


def neighbours(
    space: SearchSpace, point: Mapping[str, Any], rng: np.random.Generator
) -> list[dict[str, Any]]:
    """Points one active variable away: an ordinal one step up or down (and a factor 2 on
    a log scale), a categorical any other value; a new kind draws the fields it reads."""
    by_name = {v.name: v for v in space.variables}
    inactive = space.inactive(point)
    out = []
    for var in space.variables:
        if var.name in inactive:
            continue
        value = point[var.name]
        if var.kind == "int":
            steps = {value - 1, value + 1}
            if var.log:
                steps |= {value * 2, value // 2}
            out += [{**point, var.name: s} for s in steps if var.low <= s <= var.high]
        elif var.name.endswith(".kind"):
            prefix = var.name.rpartition(".")[0]
            for kind in var.choices:
                if kind != value:
                    fields = [f"{prefix}.{f}" for f in KIND_FIELDS[kind]]
                    drawn = {n: draw(by_name[n], rng) for n in fields if n in by_name}
                    out.append({**point, var.name: kind, **drawn})
        else:
            out += [{**point, var.name: c} for c in var.choices if c != value]
    return out


def crossover(
    groups: Sequence[tuple[str, ...]],
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    rng: np.random.Generator,
) -> dict[str, Any]:
    """Each layer tensor's variables taken together from one parent or the other."""
    child: dict[str, Any] = {}
    for names in groups:
        parent = a if rng.random() < 0.5 else b
        child.update({n: parent[n] for n in names})
    return child


def random_point(space: SearchSpace, rng: np.random.Generator) -> dict[str, Any]:
    """Every variable drawn uniformly from its values."""
    return {v.name: draw(v, rng) for v in space.variables}


def draw(var: Variable, rng: np.random.Generator) -> Any:
    values = var.values()
    return values[int(rng.integers(len(values)))]


def layer_groups(space: SearchSpace) -> list[tuple[str, ...]]:
    """The variables of each layer tensor (`<layer>.<tensor>`), in space order."""
    groups: dict[str, list[str]] = {}
    for var in space.variables:
        groups.setdefault(var.name.rpartition(".")[0], []).append(var.name)
    return [tuple(names) for names in groups.values()]
