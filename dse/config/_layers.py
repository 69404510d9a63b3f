"""Resolving the per-layer settings of study.yaml once: defaults, then layer type, then name."""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from dse._errors import settings_error
from search_spaces import ActivationChoices, CodebookChoice, LayerChoices, WeightChoices

if TYPE_CHECKING:
    from pydantic import BaseModel
    from torch import nn

    from dse.config._schema import SearchSpaceSection


def _merge(base: BaseModel | None, override: BaseModel | None) -> BaseModel | None:
    """Fields the override sets explicitly replace the base's; the rest are inherited."""
    if override is None:
        return base
    if base is None:
        return override
    return base.model_copy(update={f: getattr(override, f) for f in override.model_fields_set})


def resolve_layers(
    section: SearchSpaceSection, layers: Mapping[str, nn.Module], path: str | None
) -> dict[str, LayerChoices]:
    """The choices of every selected layer, by name, in model order.

    A layer is selected when its name matches an `include` pattern, no `exclude` pattern, and no
    matching rule says `skip`. Settings apply in hls4ml's order: the section's defaults, then
    `layer_types[<class name>]`, then every `layers` rule whose pattern matches, in file order.
    A module without weights (a residual addition, an average pooling) takes activation
    formats only, and no accumulator; one left with neither is not selected.

    Args:
        section: the validated `search_space` section.
        layers: the model's modules whose outputs may take a format, by qualified name
            (`Workload.outputs()`).
        path: the study file, for error messages (None: settings given from Python).

    Raises:
        SettingsError: a pattern selects no layer of the model.
    """
    known = ", ".join(layers)
    for i, pattern in enumerate(section.include):
        if not any(fnmatchcase(n, pattern) for n in layers):
            raise settings_error(
                path, f"search_space.include[{i}]", f"{pattern!r} matches no layer ({known})"
            )
    for i, rule in enumerate(section.layers):
        if not any(fnmatchcase(n, rule.name) for n in layers):
            raise settings_error(
                path,
                f"search_space.layers[{i}].name",
                f"{rule.name!r} matches no layer of the model ({known})",
            )
    resolved: dict[str, LayerChoices] = {}
    for name, module in layers.items():
        if not any(fnmatchcase(name, p) for p in section.include):
            continue
        if any(fnmatchcase(name, p) for p in section.exclude):
            continue
        rules = [section.layer_types.get(type(module).__name__)]
        rules += [r for r in section.layers if fnmatchcase(name, r.name)]
        weights: BaseModel | None = section.weights
        activations: BaseModel | None = section.activations
        skip = False
        for rule in rules:
            if rule is None:
                continue
            if "skip" in rule.model_fields_set:  # a later rule may take a layer back
                skip = rule.skip
            weights = _merge(weights, rule.weights)
            activations = _merge(activations, rule.activations)
        if getattr(module, "weight", None) is None:
            weights = None
            if activations is not None:
                activations = activations.model_copy(update={"accumulator_bits": None})
        if not skip and (weights is not None or activations is not None):
            resolved[name] = LayerChoices(
                weights=None if weights is None else weight_choices(weights),
                activations=None if activations is None else activation_choices(activations),
            )
    if not resolved:
        raise settings_error(path, "search_space", f"selects no layer of the model ({known})")
    return resolved


def weight_choices(section: BaseModel) -> WeightChoices:
    """The search space's value for a validated `weights` section."""
    data = section.model_dump()
    book = data.pop("codebook")
    return WeightChoices(**data, codebook=None if book is None else CodebookChoice(**book))


def activation_choices(section: BaseModel) -> ActivationChoices:
    """The search space's value for a validated `activations` section."""
    return ActivationChoices(**section.model_dump())
