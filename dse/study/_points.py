"""The points a study starts from: its hypervolume reference point and warm-start points."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from evaluators import Configuration

if TYPE_CHECKING:
    from dse.study._problem import Problem
    from search_spaces import SearchSpace


def reference_point(problem: Problem) -> tuple[float, ...]:
    """The hypervolume reference point of a study: the worst value worth keeping, per objective.

    Accuracy's is 0 (1 when minimized); a hardware metric's is its value for the float32
    model (every layer unquantized), the design every approximation has to beat; a maximized
    hardware metric's is 0. Fixed once, at study creation, so hypervolumes compare across
    runs, resumes and optimizers of one study.
    """
    float32 = problem.cost_model.cost(Configuration.of({})).values
    point = []
    for objective in problem.objectives:
        maximize = objective.direction == "maximize"
        if objective.name == "accuracy":
            point.append(0.0 if maximize else 1.0)
        elif maximize:
            point.append(0.0)
        else:
            point.append(float(float32[objective.name]))
    return tuple(point)


class SensitivityCandidates(Protocol):
    """A sensitivity profile that can name promising points of a space (issue 4's profile)."""

    def candidates(self, space: SearchSpace) -> Iterable[Mapping[str, Any]]:
        """Points of `space` (parameter name -> value) worth scoring first."""
        ...


def warm_start_points(
    space: SearchSpace, profile: SensitivityCandidates | None = None
) -> list[dict[str, Any]]:
    """The points a new study scores before its sampler proposes any.

    Uniform baselines first: every layer in fixed point at 8 bits, then at 16 bits (clamped
    into each layer's range; a layer that cannot be fixed point is left to the sampler, as are
    variables the baseline does not name). They anchor the accurate end of the front, which
    samplers starting from uniform random points reach last. Then, with a sensitivity
    `profile`, its per-layer pruned candidates. Duplicates are dropped. The float32 model is
    not a point of the space; it sets the hypervolume reference (`reference_point`).
    """
    by_name = {v.name: v for v in space.variables}
    constants = dict(space.constants)
    points: list[dict[str, Any]] = []
    for bits in (8, 16):
        point: dict[str, Any] = {}
        for name, var in by_name.items():
            prefix, _, field = name.rpartition(".")
            kind = by_name.get(f"{prefix}.kind")
            if kind is not None:
                can_be_fixed = "fixed" in kind.choices
            else:
                can_be_fixed = constants.get(f"{prefix}.kind") == "fixed"
            if not can_be_fixed:
                continue
            if field == "kind":
                point[name] = "fixed"
            elif field == "bits":
                point[name] = min(max(bits, var.low), var.high)
        if point:
            points.append(point)
    if profile is not None:
        points.extend(dict(p) for p in profile.candidates(space))
    unique: list[dict[str, Any]] = []
    for point in points:
        if point not in unique:
            unique.append(point)
    return unique
