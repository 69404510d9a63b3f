"""The study's cost model, built from the `hardware` section of study.yaml.

Studies that only ask for `weight_bits` get `WeightMemoryModel` (no part, clock or operator
library involved); any other hardware metric gets `AcceleratorModel`, which also provides
`weight_bits` with the same numbers.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from dse._errors import SettingsError, settings_error
from hardware_models import (
    RESOURCE_KEYS,
    AcceleratorModel,
    CostModel,
    DatapathConstants,
    EnergyConstants,
    HardwareModelError,
    HardwareSettings,
    HlsCalibration,
    OperatorLibrary,
    WeightMemoryModel,
    get_device,
    read_report,
)

if TYPE_CHECKING:
    from dse.config import StudyConfig
    from evaluators import LayerShape

__all__ = ["build_cost_model", "hardware_settings", "resolve_reuse_factor"]

_NOT_HARDWARE = {"accuracy", "accuracy_drop"}


def _needs_accelerator(config: StudyConfig) -> bool:
    needed = {o.name for o in config.objectives} | {c.name for c in config.constraints}
    return not (needed - _NOT_HARDWARE) <= set(WeightMemoryModel.metrics)


def hardware_settings(
    config: StudyConfig, layers: list[str], path: str | Path | None
) -> HardwareSettings | None:
    """The accelerator settings a study prices with, reuse factors resolved per layer (None
    for a study that prices weight memory only)."""
    if not _needs_accelerator(config):
        return None
    source = None if path is None else str(path)
    hardware = config.hardware
    return HardwareSettings(
        part=hardware.part,
        clock_mhz=hardware.clock_mhz,
        reuse_factor=resolve_reuse_factor(hardware.reuse_factor, layers, source),
        strategy=hardware.strategy,
        io_type=hardware.io_type,
        input_bits=hardware.input_bits,
        activation_bits=hardware.activation_bits,
        basis="post_synthesis" if hardware.calibration else "hls_estimate",
    )


def build_cost_model(
    config: StudyConfig, shapes: Mapping[str, LayerShape], path: str | Path | None
) -> CostModel:
    """The cost model that provides every hardware metric the study's objectives and
    constraints name.

    Args:
        config: The study.
        shapes: The model's layer shapes, in execution order.
        path: The study file (relative `calibration` and `library` paths start at its
            folder), or None for settings given from Python (paths start at the current
            directory; errors name the field alone).

    Raises:
        SettingsError: A metric no model provides, a reuse-factor pattern matching no layer,
            or an unreadable calibration or library file; the message names the field.
    """
    source = None if path is None else str(path)
    path = Path(path) if path is not None else Path("study.yaml")
    needed = {o.name for o in config.objectives} | {c.name for c in config.constraints}
    needed -= _NOT_HARDWARE
    if not _needs_accelerator(config):
        return WeightMemoryModel(shapes)
    missing = sorted(needed - set(AcceleratorModel.metrics))
    if missing:
        raise settings_error(source, "objectives", f"no hardware model provides {missing}")
    hardware = config.hardware
    device = get_device(hardware.part)
    try:
        energy = EnergyConstants.for_family(device.family).replace(**hardware.energy.model_dump())
        datapath = DatapathConstants(
            **{k: v for k, v in hardware.datapath.model_dump().items() if v is not None}
        )
    except HardwareModelError as exc:
        raise settings_error(source, "hardware", str(exc)) from None
    return AcceleratorModel(
        shapes,
        device=device,
        clock_mhz=hardware.clock_mhz,
        reuse_factor=resolve_reuse_factor(hardware.reuse_factor, list(shapes), source),
        strategy=hardware.strategy,
        io_type=hardware.io_type,
        library=_library(hardware.library, device.family, path, source),
        energy=energy,
        datapath=datapath,
        calibration=_calibration(hardware.calibration, path, source),
        input_bits=hardware.input_bits,
        activation_bits=hardware.activation_bits,
    )


def resolve_reuse_factor(
    value: int | Mapping[str, int], layers: list[str], source: str | None
) -> dict[str, int]:
    """Per-layer reuse factors from one value or glob patterns (the last match wins).

    Raises:
        SettingsError: A pattern that matches no layer.
    """
    if isinstance(value, int):
        return dict.fromkeys(layers, value)
    resolved = dict.fromkeys(layers, 1)
    for pattern, factor in value.items():
        matched = fnmatch.filter(layers, pattern)
        if not matched:
            raise settings_error(
                source,
                f"hardware.reuse_factor.{pattern}",
                f"matches no layer; layers: {', '.join(layers)}",
            )
        resolved.update(dict.fromkeys(matched, factor))
    return resolved


def _library(
    name: str | None, family: str, path: Path, source: str | None
) -> OperatorLibrary | None:
    """The user's operator library, completed by the shipped one for kinds it lacks."""
    if name is None:
        return None
    file = path.parent / name
    try:
        user = OperatorLibrary.from_json(file)
        covered = {(row.kind, row.family) for row in user.rows_}
        shipped = [
            row
            for row in OperatorLibrary.default(family).rows_
            if (row.kind, row.family) not in covered
        ]
        library = OperatorLibrary([*user.rows_, *shipped], provenance=user.provenance)
        return library.fit()
    except HardwareModelError as exc:
        raise settings_error(source, "hardware.library", str(exc)) from None


def _calibration(name: str | None, path: Path, source: str | None) -> HlsCalibration | None:
    """Read `hardware.calibration`: fitted factors, or (estimate, post-synthesis) pairs to fit.

    The file (YAML or JSON) holds either `HlsCalibration.to_dict()` output, or
    `pairs: [{hls: ..., synth: ...}, ...]` (and optionally `min_pairs`) where each side is a
    mapping of resource counts (`LUT`, `FF`, `DSP`, `BRAM_18K`) or the path of a report file,
    relative to the calibration file; `resources` names the resources to
    calibrate (default: all; leave out one that synthesis removes entirely, whose factor
    would be 0).
    """
    if name is None:
        return None
    field = "hardware.calibration"
    file = path.parent / name
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise settings_error(source, field, f"{file}: cannot read: {exc}") from None
    if not isinstance(data, dict):
        raise settings_error(source, field, f"{file}: expected a mapping with 'pairs'")
    try:
        if "factors_" in data:
            return HlsCalibration.from_dict(data)
        pairs = data.get("pairs")
        if not isinstance(pairs, list) or not pairs:
            raise settings_error(source, field, f"{file}: 'pairs' must be a non-empty list")
        loaded = [
            (_side(pair, "hls", file, source), _side(pair, "synth", file, source))
            for pair in pairs
        ]
        resources = data.get("resources", list(RESOURCE_KEYS))
        if not isinstance(resources, list) or not all(r in RESOURCE_KEYS for r in resources):
            raise settings_error(
                source, f"{field}.resources", f"{file}: expected a list of {list(RESOURCE_KEYS)}"
            )
        calibration = HlsCalibration(resources, min_pairs=int(data.get("min_pairs", 3)))
        return calibration.fit(loaded)
    except (HardwareModelError, TypeError, ValueError) as exc:
        if isinstance(exc, SettingsError):
            raise
        raise settings_error(source, field, f"{file}: {exc}") from None


def _side(pair: Any, key: str, file: Path, source: str | None) -> Any:
    if not isinstance(pair, dict) or key not in pair:
        raise settings_error(
            source, "hardware.calibration", f"{file}: each pair needs 'hls' and 'synth'"
        )
    value = pair[key]
    if isinstance(value, str):
        return read_report(file.parent / value)
    return value
