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


UNIFORM_BITS = (8, 16)
"""Word lengths of the uniform fixed-point baselines: 8 bits, the post-training quantization
toolchains default to (TensorRT, TFLite), and 16 bits, the width of hls4ml's default precision
`ap_fixed<16,6>`."""

UNIFORM_CLUSTERS = (16, 32, 64, 256)
"""Codebook sizes of the uniform weight-sharing baselines: indices of 4, 5, 6 and 8 bits.
Deep Compression (Han et al., ICLR 2016) shares AlexNet's convolutions at 8 bits and its fully
connected layers at 5 without loss, and its convolutions lose accuracy below 4 bits: every
index width from 4 to 6 bits, where that loss fades, then 8. On the shipped ResNet-20
(Fashion-MNIST) every layer at 16, 32 and 64 clusters loses 0.35, 0.05 and 0.05 points of
test top-1, at 7.9x, 6.3x and 5.2x (docs/benchmarks.md)."""


def warm_start_points(
    space: SearchSpace, profile: SensitivityCandidates | None = None
) -> list[dict[str, Any]]:
    """The points a new study scores before its sampler proposes any.

    Uniform baselines first: every layer in fixed point at each of `UNIFORM_BITS`, then every
    layer's weights shared at each of `UNIFORM_CLUSTERS` clusters per codebook (at layer
    granularity when the space offers it), with the tensors that cannot be shared (weights of
    fixed-point-only layers, activations) at the widest fixed-point baseline. Each value is
    clamped into the layer's range: the largest value the variable takes that does not exceed
    it, else its smallest (in a pruned space, whose kept codebook sizes are not a range, the
    index never grows past the baseline's). A tensor that can take neither kind is left to the
    sampler, as are variables the baseline does not name. They anchor the accurate end of the
    front, which samplers starting from uniform random points reach last: on ResNet-20 (22
    layers, each with 2 to 64 clusters), 500 bayesian trials (seed 0) found nothing as good as
    every layer at 32 clusters (docs/benchmarks.md). Then, with a sensitivity `profile`, its
    per-layer pruned candidates. Duplicates are dropped. The float32 model is
    not a point of the space; it sets the hypervolume reference (`reference_point`).
    """
    by_name = {v.name: v for v in space.variables}
    constants = dict(space.constants)
    prefixes = list(dict.fromkeys(name.rpartition(".")[0] for name in by_name))  # space order

    def kinds(prefix: str) -> tuple[Any, ...]:
        kind = by_name.get(f"{prefix}.kind")
        return kind.choices if kind is not None else (constants.get(f"{prefix}.kind"),)

    def baseline(prefix: str, kind: str, field: str, value: int) -> dict[str, Any]:
        """`prefix` at `kind` with `field` clamped to `value` (the variables the space has)."""
        point: dict[str, Any] = {}
        if f"{prefix}.kind" in by_name:
            point[f"{prefix}.kind"] = kind
        if (var := by_name.get(f"{prefix}.{field}")) is not None:
            values = var.values()
            point[var.name] = max((v for v in values if v <= value), default=min(values))
        granularity = by_name.get(f"{prefix}.granularity")
        if kind == "shared" and granularity is not None and "layer" in granularity.choices:
            point[granularity.name] = "layer"
        return point

    def fixed(prefix: str, bits: int) -> dict[str, Any]:
        return baseline(prefix, "fixed", "bits", bits) if "fixed" in kinds(prefix) else {}

    points: list[dict[str, Any]] = []
    for bits in UNIFORM_BITS:
        points.append({k: v for prefix in prefixes for k, v in fixed(prefix, bits).items()})
    sharing = {p for p in prefixes if p.endswith(".weights") and "shared" in kinds(p)}
    for clusters in UNIFORM_CLUSTERS if sharing else ():
        point: dict[str, Any] = {}
        for prefix in prefixes:
            if prefix in sharing:
                point |= baseline(prefix, "shared", "clusters", clusters)
            else:
                point |= fixed(prefix, max(UNIFORM_BITS))
        points.append(point)
    if profile is not None:
        points.extend(dict(p) for p in profile.candidates(space))
    unique: list[dict[str, Any]] = []
    for point in points:
        if point and point not in unique:
            unique.append(point)
    return unique
