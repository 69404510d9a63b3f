"""The search space of a study: its variables, and decoding a point into a Configuration."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from evaluators import (
    Configuration,
    FixedPoint,
    FloatFormat,
    LayerConfig,
    WeightSharing,
)
from search_spaces._choices import LayerChoices
from search_spaces._variable import Variable

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution
    from torch import nn


KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "fixed": ("bits",),
    "float": ("exponent_bits", "mantissa_bits"),
    "shared": ("clusters", "granularity"),
}
"""The fields each representation kind reads; a tensor's other kinds' fields are inactive."""


class SpaceError(ValueError):
    """A search space cannot be built, or a point does not belong to it."""


@dataclass(frozen=True)
class LayerDomain:
    """One layer of the space with the ranges its formats are sized from.

    Attributes:
        name: the layer's qualified name in the model.
        choices: what its weights and activations may become.
        weight_max_abs: largest |w|, from which fixed-point integer bits are derived (0 for a
            module without weights: a residual addition, a pooling).
        activation_max_abs: calibrated output range, for activation integer bits.
        accumulator_max_abs: the largest sum the accumulator must hold without wrapping.
    """

    name: str
    choices: LayerChoices
    weight_max_abs: float
    activation_max_abs: float | None = None
    accumulator_max_abs: float | None = None


@dataclass(frozen=True)
class SearchSpace:
    """The variables of a study, independent of any optimizer.

    One description, encoded per sampler (`to_optuna`, `to_pymoo`) and decoded back into the
    `Configuration` the evaluators and cost models read. Variables are named
    `<layer>.<tensor>.<field>`; a field with a single possible value is a constant, not a
    variable. Instances are immutable: `restrict` returns a new space.
    """

    layers: tuple[LayerDomain, ...]
    variables: tuple[Variable, ...]
    constants: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def from_model(
        cls,
        model: nn.Module,
        layers: Mapping[str, LayerChoices],
        *,
        activation_ranges: Mapping[str, float] | None = None,
        accumulator_ranges: Mapping[str, float] | None = None,
    ) -> SearchSpace:
        """Build the space over `layers` of `model`.

        Args:
            model: the float model; weight ranges are read from it.
            layers: the resolved choices per layer name (see `dse.config.resolve_layers`).
            activation_ranges: calibrated max |output| per layer, needed for activation formats
                whose integer bits are `auto`.
            accumulator_ranges: max |sum| per layer for accumulator formats (default: twice
                the activation range, which may be clipped by its calibration).

        Raises:
            SpaceError: a layer is missing from the model or a choice is inconsistent.
        """
        modules = dict(model.named_modules())
        domains: list[LayerDomain] = []
        for name, choices in layers.items():
            if name not in modules:
                raise SpaceError(f"layer {name!r}: not a module of the model")
            weight = getattr(modules[name], "weight", None)
            if weight is None and choices.weights is not None:
                raise SpaceError(f"layer {name!r}: not a layer with weights in the model")
            act_range = acc_range = None
            if choices.activations is not None:
                if activation_ranges is None or name not in activation_ranges:
                    raise SpaceError(f"layer {name!r}: activation range not calibrated")
                act_range = float(activation_ranges[name])
                acc_range = float((accumulator_ranges or {}).get(name, 2.0 * act_range))
            weight_range = 0.0 if weight is None else float(weight.detach().abs().max())
            domains.append(LayerDomain(name, choices, weight_range, act_range, acc_range))
        variables: list[Variable] = []
        constants: list[tuple[str, Any]] = []
        for domain in domains:
            for var in _layer_variables(domain):
                if var.size == 1:
                    constants.append((var.name, var.values()[0]))
                else:
                    variables.append(var)
        if not domains:
            raise SpaceError("the search space selects no layer")
        return cls(tuple(domains), tuple(variables), tuple(constants))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables)

    def __len__(self) -> int:
        return len(self.variables)

    def size(self) -> int:
        """Number of distinct points (the product of the variables' sizes)."""
        return math.prod(v.size for v in self.variables)

    def n_configurations(self) -> int:
        """Number of distinct configurations: points differing only in variables their
        tensor's kind ignores (`inactive`) count once.

        Each tensor contributes the sum, over the kinds it may take, of the product of the
        sizes of the fields that kind reads (plus those every kind reads: the accumulator).
        """
        by_name = {v.name: v for v in self.variables}
        tensors: dict[str, list[Variable]] = {}
        for var in self.variables:
            prefix, _, _ = var.name.rpartition(".")
            tensors.setdefault(prefix, []).append(var)
        constants = dict(self.constants)
        total = 1
        for prefix, variables in tensors.items():
            kind_var = by_name.get(f"{prefix}.kind")
            kinds = (
                kind_var.values() if kind_var is not None else [constants.get(f"{prefix}.kind")]
            )
            count = 0
            for kind in kinds:
                active = [
                    v
                    for v in variables
                    if v.name != f"{prefix}.kind"
                    and (
                        v.name.rpartition(".")[2] not in _INACTIVE_UNLESS
                        or v.name.rpartition(".")[2] in KIND_FIELDS.get(kind, ())
                    )
                ]
                count += math.prod(v.size for v in active)
            total *= count
        return total

    def sample(self, n: int, seed: int) -> list[dict[str, Any]]:
        """`n` points drawn uniformly at random, each variable independently (plain values).

        Example:
            >>> space.sample(2, seed=0)  # doctest: +SKIP
            [{'fc1.weights.bits': 5}, {'fc1.weights.bits': 2}]
        """
        rng = np.random.default_rng(seed)
        return [{v.name: v.sample(rng) for v in self.variables} for _ in range(n)]

    def to_optuna(self) -> dict[str, BaseDistribution]:
        return {v.name: v.to_optuna() for v in self.variables}

    def to_pymoo(self) -> dict[str, Any]:
        return {v.name: v.to_pymoo() for v in self.variables}

    def restrict(self, **fixed: Any) -> SearchSpace:
        """A new space with some variables made constants.

        Example: `space.restrict(**{"fc1.weights.bits": 8})`.
        """
        by_name = {v.name: v for v in self.variables}
        for name, value in fixed.items():
            var = by_name.get(name)
            if var is None:
                raise SpaceError(f"{name!r} is not a variable of the space")
            if not var.contains(value):
                raise SpaceError(f"{name}: {value!r} is outside its domain")
        kept = tuple(v for v in self.variables if v.name not in fixed)
        return replace(self, variables=kept, constants=self.constants + tuple(fixed.items()))

    @cached_property
    def _kind_read(self) -> tuple[tuple[str, str, str], ...]:
        """(variable, its tensor's `kind` name, field) of each variable only some kinds read."""
        out = []
        for var in self.variables:
            prefix, _, field = var.name.rpartition(".")
            if field in _INACTIVE_UNLESS:
                out.append((var.name, f"{prefix}.kind", field))
        return tuple(out)

    @cached_property
    def _first_values(self) -> dict[str, Any]:
        return {v.name: v.values()[0] for v in self.variables}

    @cached_property
    def _constant_values(self) -> dict[str, Any]:
        return dict(self.constants)

    def inactive(self, params: Mapping[str, Any]) -> frozenset[str]:
        """The variables of `params` its tensors' kinds do not read (a fixed-point layer's
        `clusters`): changing them does not change the configuration."""
        constants = self._constant_values
        out = set()
        for name, kind_name, field in self._kind_read:
            kind = params[kind_name] if kind_name in params else constants.get(kind_name)
            if kind is not None and field not in KIND_FIELDS[kind]:
                out.add(name)
        return frozenset(out)

    def complete(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """A partial point (a warm-start baseline names only what it sets) with every missing
        variable at its first value: a point `decode` accepts."""
        return {**self._first_values, **params}

    def canonical(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The same point with every inactive variable at its first value.

        Points differing only in inactive variables decode to one configuration, and their
        canonical forms are equal: models that learn from points see them as one.
        """
        first = self._first_values
        return {**params, **{n: first[n] for n in self.inactive(params)}}

    def decode(self, params: Mapping[str, Any]) -> Configuration:
        """The configuration a point of the space stands for.

        Raises:
            SpaceError: a variable is missing or out of its domain.
        """
        values = dict(self.constants)
        for var in self.variables:
            if var.name not in params:
                raise SpaceError(f"{var.name}: missing from the point")
            value = params[var.name]
            if not var.contains(value):
                raise SpaceError(f"{var.name}: {value!r} is outside its domain")
            values[var.name] = int(value) if var.kind == "int" else value
        # One codebook format for every layer sharing at network granularity: layers that
        # pick the same k then hold the same WeightSharing value and share one codebook.
        decoded = self._decoded_layers
        layers = {}
        for domain, names in self._layer_fields:
            key = (domain.name, *(values.get(n) for n in names))
            layer = decoded.get(key)
            if layer is None:
                if len(decoded) >= _DECODED_LAYERS:
                    decoded.clear()
                layer = decoded[key] = _decode_layer(domain, values, self._network_max_abs)
            layers[domain.name] = layer
        return Configuration.of(layers)

    @cached_property
    def _network_max_abs(self) -> float:
        return max(d.weight_max_abs for d in self.layers)

    @cached_property
    def _layer_fields(self) -> tuple[tuple[LayerDomain, tuple[str, ...]], ...]:
        """Each layer's domain and the names of the fields its decoding reads (variables and
        constants alike)."""
        return tuple((d, tuple(v.name for v in _layer_variables(d))) for d in self.layers)

    @cached_property
    def _decoded_layers(self) -> dict[tuple[Any, ...], LayerConfig]:
        """Layer formats already decoded, by layer and field values: a layer's formats depend
        on nothing else (the network's largest weight is the space's own constant)."""
        return {}

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the remembered decodings (rebuilt on use)."""
        return {k: v for k, v in self.__dict__.items() if k != "_decoded_layers"}


_DECODED_LAYERS = 100_000
"""Decoded layer formats a space remembers (then forgets at once): bounded memory."""

_INACTIVE_UNLESS = frozenset(f for fields in KIND_FIELDS.values() for f in fields)


def _layer_variables(domain: LayerDomain) -> list[Variable]:
    """Every field of a layer's choices as a variable (constants included, size 1)."""
    out: list[Variable] = []
    for tensor in ("weights", "activations"):
        spec = getattr(domain.choices, tensor)
        if spec is None:
            continue
        prefix = f"{domain.name}.{tensor}"
        out.append(Variable.categorical(f"{prefix}.kind", spec.kinds))
        if "fixed" in spec.kinds:
            if spec.bits is None:
                raise SpaceError(f"{prefix}: kind 'fixed' needs a 'bits' range")
            if spec.bits[0] < 2 and spec.integer_bits == "auto":
                raise SpaceError(
                    f"{prefix}.bits: signed fixed point with integer bits 'auto' needs at "
                    f"least 2 bits, got {list(spec.bits)}"
                )
            out.append(Variable.integer(f"{prefix}.bits", *spec.bits))
        if "float" in spec.kinds:
            if spec.exponent_bits is None or spec.mantissa_bits is None:
                raise SpaceError(f"{prefix}: kind 'float' needs exponent_bits and mantissa_bits")
            if spec.rounding == "nearest_up":
                raise SpaceError(f"{prefix}: float formats round 'nearest_even' or 'truncate'")
            out.append(Variable.integer(f"{prefix}.exponent_bits", *spec.exponent_bits))
            out.append(Variable.integer(f"{prefix}.mantissa_bits", *spec.mantissa_bits))
        if "shared" in spec.kinds:
            if spec.clusters is None:
                raise SpaceError(f"{prefix}: kind 'shared' needs a 'clusters' range")
            out.append(Variable.integer(f"{prefix}.clusters", *spec.clusters, log=True))
            out.append(Variable.categorical(f"{prefix}.granularity", spec.granularity))
        if tensor == "activations" and spec.accumulator_bits is not None:
            out.append(Variable.integer(f"{prefix}.accumulator_bits", *spec.accumulator_bits))
    return out


def _decode_layer(
    domain: LayerDomain, values: Mapping[str, Any], network_max_abs: float
) -> LayerConfig:
    choices = domain.choices
    weights = activations = accumulator = None
    if choices.weights is not None:
        weights = _decode_format(
            choices.weights,
            f"{domain.name}.weights",
            values,
            domain.weight_max_abs,
            network_max_abs,
        )
    if choices.activations is not None:
        assert domain.activation_max_abs is not None  # checked in from_model
        prefix = f"{domain.name}.activations"
        activations = _decode_format(
            choices.activations, prefix, values, domain.activation_max_abs
        )
        acc_bits = values.get(f"{prefix}.accumulator_bits")
        if acc_bits is not None:
            # Sized from the unclipped range with headroom: a real sum never wraps, and with
            # wrap the result does not depend on the summation order.
            assert domain.accumulator_max_abs is not None
            accumulator = FixedPoint.for_range(
                domain.accumulator_max_abs, acc_bits, rounding="truncate", overflow="wrap"
            )
    return LayerConfig(weights=weights, activations=activations, accumulator=accumulator)


def _decode_format(
    spec: Any,
    prefix: str,
    values: Mapping[str, Any],
    max_abs: float,
    network_max_abs: float | None = None,
) -> FixedPoint | FloatFormat | WeightSharing:
    kind = values[f"{prefix}.kind"]
    if kind == "fixed":
        bits = values[f"{prefix}.bits"]
        if spec.integer_bits == "auto":
            return FixedPoint.for_range(
                max_abs, bits, rounding=spec.rounding, overflow=spec.overflow
            )
        return FixedPoint(bits, spec.integer_bits, rounding=spec.rounding, overflow=spec.overflow)
    if kind == "float":
        return FloatFormat(
            values[f"{prefix}.exponent_bits"],
            values[f"{prefix}.mantissa_bits"],
            subnormals=spec.subnormals,
            rounding=spec.rounding,
            overflow=spec.float_overflow,
        )
    codebook = None
    granularity = values[f"{prefix}.granularity"]
    if spec.codebook is not None:
        book = spec.codebook
        if book.kind == "fixed":
            shared_range = network_max_abs if granularity == "network" else None
            codebook = FixedPoint.for_range(shared_range or max_abs, book.bits)
        else:
            codebook = FloatFormat(book.exponent_bits, book.mantissa_bits)
    return WeightSharing(values[f"{prefix}.clusters"], granularity, codebook=codebook)
