"""Per-layer options of a space, and pruning it from a sensitivity profile.

A sensitivity profile measures each layer choice alone. Two of its uses need the choices of
one layer as formats: enumerating them (`layer_options`), and keeping only the good ones
(`prune_space`). Pruning follows the weight-sharing work this project builds on: shared
weights cost their index bits, ``ceil(log2 k)``, so among the k of one index width only the
most accurate one is worth searching, and only when it stays above the quality gate; fixed
point keeps the bit widths above the gate. The result is a new, smaller space.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from evaluators import FixedPoint, LayerConfig, WeightSharing
from search_spaces._space import KIND_FIELDS, SearchSpace, SpaceError
from search_spaces._variable import Variable

__all__ = ["gated_points", "layer_options", "prune_space"]


def _domain(space: SearchSpace, name: str) -> tuple[Any, ...]:
    """The values a variable or constant of `space` takes (empty when absent)."""
    for var in space.variables:
        if var.name == name:
            return var.values()
    for const, value in space.constants:
        if const == name:
            return (value,)
    return ()


def _combinations(space: SearchSpace, prefix: str) -> list[dict[str, Any]]:
    """Every assignment of one tensor's fields, each kind with only its own fields."""
    out: list[dict[str, Any]] = []
    for kind in _domain(space, f"{prefix}.kind"):
        partial: list[dict[str, Any]] = [{f"{prefix}.kind": kind}]
        for field in KIND_FIELDS[kind]:
            values = _domain(space, f"{prefix}.{field}")
            partial = [{**p, f"{prefix}.{field}": v} for p in partial for v in values]
        accumulator = _domain(space, f"{prefix}.accumulator_bits")
        if accumulator:
            key = f"{prefix}.accumulator_bits"
            partial = [{**p, key: v} for p in partial for v in accumulator]
        out += partial
    return out


def layer_options(space: SearchSpace, layer: str) -> tuple[LayerConfig, ...]:
    """The choices of one layer, each tensor alone: its weight formats, then its output formats.

    Weights and activations are varied one at a time (the other stays float32), which is what
    a sensitivity profile measures; their combinations are measured lazily when used.

    Raises:
        SpaceError: `layer` is not a layer of the space.
    """
    if layer not in {d.name for d in space.layers}:
        known = ", ".join(d.name for d in space.layers)
        raise SpaceError(f"layer {layer!r}: not in the search space ({known})")
    base = {v.name: v.values()[0] for v in space.variables}
    options: list[LayerConfig] = []
    for tensor in ("weights", "activations"):
        for assignment in _combinations(space, f"{layer}.{tensor}"):
            decoded = space.decode({**base, **assignment}).get(layer)
            option = (
                LayerConfig(weights=decoded.weights)
                if tensor == "weights"
                else LayerConfig(activations=decoded.activations, accumulator=decoded.accumulator)
            )
            if option not in options:
                options.append(option)
    return tuple(options)


def prune_space(
    space: SearchSpace, drops: Mapping[tuple[str, LayerConfig], float], gate: float
) -> SearchSpace:
    """A new space keeping, per layer, the weight choices whose accuracy drop is <= `gate`.

    Shared weights keep, per index bit width, the k with the smallest drop (the smaller k on
    a tie) when it passes the gate; fixed point keeps the widths from the smallest passing one
    up. A kind with no passing choice is dropped; a layer with none keeps its best choice.
    Layers or choices missing from `drops` are kept unchanged.

    Args:
        space: the space to prune (not modified).
        drops: accuracy drop of each (layer, weights-only `LayerConfig`) measured alone.
        gate: the largest accuracy drop kept (accuracy units, e.g. 0.01).

    Returns:
        The pruned space.
    """
    variables = {v.name: v for v in space.variables}
    constants = dict(space.constants)
    for domain in space.layers:
        prefix = f"{domain.name}.weights"
        measured = {
            c.weights: d
            for (layer, c), d in drops.items()
            if layer == domain.name and c.weights is not None and c.activations is None
        }
        if f"{prefix}.kind" not in variables and f"{prefix}.kind" not in constants:
            continue
        kinds = list(_domain(space, f"{prefix}.kind"))
        keep_kinds: list[str] = []
        fixed = {f.bits: d for f, d in measured.items() if isinstance(f, FixedPoint)}
        if "fixed" in kinds and fixed:
            passing = [b for b, d in fixed.items() if d <= gate]
            if passing:
                keep_kinds.append("fixed")
                _set(variables, constants, f"{prefix}.bits", _bits_from(space, prefix, passing))
        elif "fixed" in kinds:
            keep_kinds.append("fixed")
        shared = {f: d for f, d in measured.items() if isinstance(f, WeightSharing)}
        if "shared" in kinds and shared:
            best: dict[int, tuple[float, int]] = {}
            for f, d in shared.items():
                cand = (d, f.clusters)
                if f.index_bits not in best or cand < best[f.index_bits]:
                    best[f.index_bits] = cand
            kept = sorted({k for d, k in best.values() if d <= gate})
            if kept:
                keep_kinds.append("shared")
                _set(variables, constants, f"{prefix}.clusters", tuple(kept))
        elif "shared" in kinds:
            keep_kinds.append("shared")
        if "float" in kinds:
            keep_kinds.append("float")
        if not keep_kinds:
            keep_kinds = [_best_kind(measured)]
            fmt = min(measured, key=lambda f: measured[f])
            if isinstance(fmt, FixedPoint):
                _set(variables, constants, f"{prefix}.bits", (fmt.bits,))
            else:
                _set(variables, constants, f"{prefix}.clusters", (fmt.clusters,))
        _set(variables, constants, f"{prefix}.kind", tuple(k for k in kinds if k in keep_kinds))
    kept_vars = tuple(variables[v.name] for v in space.variables if v.name in variables)
    return replace(space, variables=kept_vars, constants=tuple(constants.items()))


def gated_points(
    space: SearchSpace,
    drops: Mapping[tuple[str, LayerConfig], float],
    gates: Sequence[float],
) -> list[dict[str, Any]]:
    """Per gate, the point where every layer's weights take their cheapest format within it.

    The mixed-precision starting points a sensitivity profile suggests: for each gate (an
    accuracy drop, e.g. 0.01), every layer takes, among its weight choices measured alone, the
    one with the fewest bits per weight whose drop is <= the gate (the smaller drop on a tie);
    a layer with no passing choice takes its smallest-drop one, a layer with no measured choice
    is left out. Only weight variables are named (the sampler fills the rest); equal points
    are given once, in gate order.

    Args:
        space: the space the points belong to.
        drops: accuracy drop of each (layer, weights-only `LayerConfig`) measured alone.
        gates: the accuracy drops to build points for.
    """
    names = {v.name for v in space.variables}
    base = {v.name: v.values()[0] for v in space.variables}
    options: dict[str, list[tuple[int, float, dict[str, Any]]]] = {}
    for domain in space.layers:
        layer = domain.name
        for assignment in _combinations(space, f"{layer}.weights"):
            fmt = space.decode({**base, **assignment}).get(layer).weights
            drop = drops.get((layer, LayerConfig(weights=fmt)))
            if drop is not None:
                named = {k: v for k, v in assignment.items() if k in names}
                options.setdefault(layer, []).append((fmt.bits, drop, named))
    points: list[dict[str, Any]] = []
    for gate in gates:
        point: dict[str, Any] = {}
        for choices in options.values():
            passing = [c for c in choices if c[1] <= gate] or [min(choices, key=lambda c: c[1])]
            point.update(min(passing, key=lambda c: (c[0], c[1]))[2])
        if point and point not in points:
            points.append(point)
    return points


def _bits_from(space: SearchSpace, prefix: str, passing: list[int]) -> tuple[int, ...]:
    """Every searched width from the smallest passing one up (wider is never worse)."""
    return tuple(b for b in _domain(space, f"{prefix}.bits") if b >= min(passing))


def _best_kind(measured: Mapping[Any, float]) -> str:
    fmt = min(measured, key=lambda f: measured[f])
    return "fixed" if isinstance(fmt, FixedPoint) else "shared"


def _set(
    variables: dict[str, Variable], constants: dict[str, Any], name: str, values: tuple[Any, ...]
) -> None:
    """Make `name` a variable over `values` (ordered ints stay ordinal), or a constant."""
    old = variables.pop(name, None)
    constants.pop(name, None)
    if len(values) == 1:
        constants[name] = values[0]
    elif (
        old is not None
        and old.kind == "int"
        and list(values) == list(range(values[0], values[-1] + 1))
    ):
        variables[name] = Variable.integer(name, values[0], values[-1], log=old.log)
    else:
        variables[name] = Variable.categorical(name, values)
