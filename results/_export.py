"""Exporting one point of a study: its formats, weights, an hls4ml project and test vectors.

`export_point` writes, into one folder, everything needed to build the point outside dse and
to check that the build computes what dse emulated (`verify_export`):

* ``configuration.json``: the per-layer formats (`Configuration.to_dict`, versioned);
* ``state_dict.pt``: the approximated model's weights (the float biases kept, as dse's
  emulation reads them), loadable into the study's model;
* ``weights.h``: every layer's weights and biases as integers of their formats (`_c_header`);
* ``test_vectors.npz``: inputs of the study's test split cast to the input type, labels and
  dse's logits on them;
* ``hls4ml/`` (with ``hls4ml_model.fml``, hls4ml's own serialization, and a plain
  ``hls4ml_config.yml``): the hls4ml project, unless a custom float has no hls4ml type;
* ``export.json``: what was exported from where (study file, data fingerprint, versions);
* ``README.md``: the same for a person.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import yaml

from evaluators import (
    APPROXIMABLE,
    Configuration,
    Dataset,
    FixedPoint,
    FloatFormat,
    WeightSharing,
    apply,
    approximate_weights,
    layer_shapes,
)
from hardware_models import HardwareSettings
from results._c_header import HeaderTensor, render_c_header
from results._errors import ResultsError
from results._export_readme import render_readme
from results._hls4ml_plan import HlsPlan, unsupported_formats
from results._hls4ml_project import (
    PROJECT_NAME,
    hls4ml_version,
    make_project,
    stored_model,
    tb_text,
)
from results._hls_types import ApFixed
from results._provenance import package_versions

if TYPE_CHECKING:
    from torch import nn

    from results._record import TrialRecord
    from results._result import StudyResult

__all__ = ["EXPORT_VERSION", "Export", "export_point", "exportable_record", "read_manifest"]

EXPORT_VERSION = 1
"""Layout version of an export folder (`export.json`'s `version`)."""

MANIFEST = "export.json"
DEFAULT_HARDWARE = HardwareSettings(part="xc7z020", clock_mhz=200.0)
"""Settings of a study that priced weight memory only (study.yaml's defaults)."""

_EXPORT_FILES = (
    "configuration.json",
    "state_dict.pt",
    "weights.h",
    "test_vectors.npz",
    "hls4ml_config.yml",
    "hls4ml_model.fml",
    "README.md",
    MANIFEST,
)
_BATCH = 512


@dataclass(frozen=True)
class Export:
    """What `export_point` wrote.

    Attributes:
        folder: the export folder.
        number: the exported trial.
        configuration: its formats.
        files: the written files by kind (`configuration`, `state_dict`, `header`,
            `test_vectors`, `manifest`, `readme`, and with a project `hls4ml`,
            `hls4ml_model`, `hls4ml_config`).
        unsupported: why no hls4ml project was made (custom floats); empty when one was.
        notes: why the project is not bit-exact with dse (empty: hls4ml expresses every
            format exactly).
        samples: test vectors written.
        accuracy: dse's accuracy on them (inputs cast to the input type).
    """

    folder: Path
    number: int
    configuration: Configuration
    files: Mapping[str, Path] = field(default_factory=dict)
    unsupported: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    samples: int = 0
    accuracy: float | None = None

    @property
    def has_project(self) -> bool:
        """Whether an hls4ml project was written."""
        return not self.unsupported

    @property
    def exact(self) -> bool:
        """Whether hls4ml expresses every format exactly: its C simulation must match dse."""
        return not self.unsupported and not self.notes


def exportable_record(result: StudyResult, number: int) -> TrialRecord:
    """The record of trial `number`, if it can be exported (a duplicate: the trial it repeats).

    Raises:
        ResultsError: no such trial, or it failed, is not complete or is infeasible.
    """
    records = {r.number: r for r in result.records}
    record = records.get(number)
    if record is None:
        span = f"trials 0..{max(records)}" if records else "no trials yet"
        raise ResultsError(f"--trial {number}: study {result.name!r} has no such trial ({span})")
    if record.state == "DUPLICATE" and record.duplicate_of in records:
        record = records[record.duplicate_of]
    if record.state != "COMPLETE" or record.configuration is None:
        why = f": {record.fail_reason}" if record.fail_reason else ""
        raise ResultsError(
            f"--trial {number}: trial is {record.state}{why}; only complete, feasible trials "
            "can be exported"
        )
    if not record.feasible:
        broken = ", ".join(k for k, v in record.constraints.items() if v > 0)
        raise ResultsError(f"--trial {number}: trial is infeasible ({broken} violated)")
    return record


def export_point(
    result: StudyResult,
    number: int,
    model: nn.Module,
    data: Dataset,
    folder: Path,
    *,
    study_file: str | Path | None = None,
    samples: int | None = 1000,
) -> Export:
    """Write trial `number` of `result` to `folder` (see the module docstring).

    Args:
        result: the study.
        number: the trial to export (complete and feasible).
        model: the study's float model (BatchNorm folded), not modified.
        data: the study's data; the test split (validation without one) gives the vectors.
        folder: where to write; created; an earlier export there is replaced.
        study_file: the study file, recorded so `dse verify` can rebuild the model.
        samples: test vectors to write (None: the whole split).

    Returns:
        What was written.

    Raises:
        ResultsError: the trial cannot be exported, the folder cannot be written, or hls4ml
            cannot convert the model; one line.
    """
    record = exportable_record(result, number)
    folder = Path(folder)
    _prepare(folder)
    try:
        export, manifest = _export(result, record, model, data, folder, study_file, samples)
    except BaseException:
        _clear(folder)  # no half export: the next one may write here again
        raise
    _write_text(export.files["manifest"], json.dumps(manifest, indent=2) + "\n")
    _write_text(export.files["readme"], render_readme(manifest))
    return export


def _export(
    result: StudyResult,
    record: TrialRecord,
    model: nn.Module,
    data: Dataset,
    folder: Path,
    study_file: str | Path | None,
    samples: int | None,
) -> tuple[Export, dict[str, Any]]:
    """Every file but the manifest and the README; the export and its manifest."""
    configuration = record.configuration
    assert configuration is not None  # checked by exportable_record
    hardware = result.hardware or DEFAULT_HARDWARE
    split_name = "test" if data.test is not None else "validation"
    split = data.test if data.test is not None else data.validation
    split = split.head(samples)
    input_fmt = FixedPoint.for_range(
        _largest(data.train.x), hardware.input_bits or 16, rounding="nearest_even"
    )
    x = input_fmt.quantize(split.x)
    weights = approximate_weights(model, configuration)
    shapes = layer_shapes(model, data.train.x[:2])
    logits, ranges = _emulate(model, configuration, x)
    accuracy = float((logits.argmax(1) == split.y).double().mean()) if len(split) else None
    files: dict[str, Path] = {}
    files["configuration"] = _write_text(
        folder / "configuration.json", json.dumps(configuration.to_dict(), indent=2) + "\n"
    )
    files["state_dict"] = folder / "state_dict.pt"
    torch.save(_approximated_state(model, weights), files["state_dict"])
    files["test_vectors"] = folder / "test_vectors.npz"
    np.savez_compressed(
        files["test_vectors"],
        x=x.numpy(),
        y=split.y.numpy(),
        logits=logits.double().numpy(),
    )
    stored = stored_model(model, configuration, weights, shapes)
    unsupported = unsupported_formats(configuration)
    plan = None
    if not unsupported:
        plan = _write_project(
            folder, stored, configuration, shapes, ranges, input_fmt, x, logits, hardware
        )
        files |= {
            "hls4ml": folder / "hls4ml",
            "hls4ml_model": folder / "hls4ml_model.fml",
            "hls4ml_config": folder / "hls4ml_config.yml",
        }
    files["header"] = _write_text(
        folder / "weights.h", _header(result, record, stored, configuration, plan)
    )
    files |= {"manifest": folder / MANIFEST, "readme": folder / "README.md"}
    export = Export(
        folder,
        record.number,
        configuration,
        files,
        unsupported,
        () if plan is None else plan.notes,
        len(split),
        accuracy,
    )
    manifest = _manifest(
        result, record, export, data, study_file, split_name, input_fmt, hardware, plan
    )
    return export, manifest


def read_manifest(folder: Path) -> dict[str, Any]:
    """The `export.json` of an export folder.

    Raises:
        ResultsError: the folder holds no export, or one of another layout version.
    """
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{folder}: not a dse export (no {MANIFEST})") from None
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: cannot read: {exc}") from None
    if manifest.get("version") != EXPORT_VERSION:
        raise ResultsError(
            f"{path}: export layout version {manifest.get('version')!r}, this dse reads "
            f"{EXPORT_VERSION}"
        )
    return manifest


def _prepare(folder: Path) -> None:
    """Create `folder`, or clear an earlier export in it; refuse a folder holding other files.

    Raises:
        ResultsError: it cannot be created or written, or holds something else.
    """
    try:
        if folder.exists() and any(folder.iterdir()):
            if not (folder / MANIFEST).exists():
                raise ResultsError(
                    f"--to {folder}: the folder is not empty and holds no dse export; give an "
                    "empty or new folder"
                )
            _clear(folder)
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".dse-write-test-{id(folder)}"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        raise ResultsError(f"--to {folder}: cannot write there ({exc.strerror})") from None


def _clear(folder: Path) -> None:
    """Remove what an export writes (and verification.json) from `folder`."""
    shutil.rmtree(folder / "hls4ml", ignore_errors=True)
    for name in (*_EXPORT_FILES, "verification.json"):
        (folder / name).unlink(missing_ok=True)


def _largest(x: torch.Tensor) -> float:
    """The largest |input| (1 for an all-zero split)."""
    peak = float(x.detach().abs().max()) if x.numel() else 0.0
    return peak if peak > 0 else 1.0


def _emulate(
    model: nn.Module, configuration: Configuration, x: torch.Tensor
) -> tuple[torch.Tensor, dict[str, float]]:
    """dse's logits on `x`, and max |output| of every Conv/Linear layer."""
    approx = apply(model, configuration).eval()
    names = [n for n, m in model.named_modules() if isinstance(m, APPROXIMABLE)]
    modules = dict(approx.named_modules())
    ranges: dict[str, float] = dict.fromkeys(names, 0.0)

    def hook(name: str) -> Any:
        def record(_module: nn.Module, _inputs: Any, output: torch.Tensor) -> None:
            if output.numel():
                ranges[name] = max(ranges[name], float(output.detach().abs().max()))

        return record

    handles = [modules[n].register_forward_hook(hook(n)) for n in names]
    try:
        with torch.no_grad():
            parts = [approx(x[i : i + _BATCH]) for i in range(0, len(x), _BATCH)]
    finally:
        for handle in handles:
            handle.remove()
    logits = torch.cat(parts) if parts else torch.empty(0)
    return logits, ranges


def _approximated_state(
    model: nn.Module, weights: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """The model's state dict with the approximated weights (float32, as dse applies them)."""
    new = copy.deepcopy(model)
    modules = dict(new.named_modules())
    with torch.no_grad():
        for name, tensor in weights.items():
            modules[name].weight.copy_(tensor)
    return {k: v.detach().clone() for k, v in new.state_dict().items()}


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _write_project(
    folder: Path,
    stored: nn.Module,
    configuration: Configuration,
    shapes: Mapping[str, Any],
    ranges: Mapping[str, float],
    input_fmt: FixedPoint,
    x: torch.Tensor,
    logits: torch.Tensor,
    hardware: HardwareSettings,
) -> HlsPlan:
    """The hls4ml project, its serialization and a plain hls4ml_config.yml."""
    from hls4ml.utils.serialization import serialize_model

    with tempfile.TemporaryDirectory(prefix="dse-tb-") as tmp:
        tb_input = Path(tmp) / "tb_input_features.dat"
        tb_output = Path(tmp) / "tb_output_predictions.dat"
        tb_input.write_text(tb_text(x.numpy(), hardware.io_type), encoding="utf-8")
        tb_output.write_text(tb_text(logits.numpy(), "io_parallel"), encoding="utf-8")
        graph, plan = make_project(
            stored,
            configuration,
            input_type=ApFixed.of(input_fmt),
            input_shape=tuple(x.shape[1:]),
            shapes=shapes,
            output_ranges=ranges,
            hardware=hardware,
            folder=folder / "hls4ml",
            tb_input=tb_input,
            tb_output=tb_output,
        )
        # hls4ml 1.3's serialize_model looks for the testbench files one level too high in
        # its config and does not pack them, then deserialize_model fails looking for them:
        # the .fml names none (they are in the project's tb_data/, verify passes copies).
        graph.config.config["InputData"] = graph.config.config["OutputPredictions"] = None
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                serialize_model(graph, str(folder / "hls4ml_model.fml"))
        except Exception as exc:  # hls4ml raises what its writers raise
            raise ResultsError(f"hls4ml cannot serialize the project: {exc}") from None
    config = dict(plan.io_settings) | {
        "OutputDir": "hls4ml",
        "InputData": "hls4ml/tb_data/tb_input_features.dat",
        "OutputPredictions": "hls4ml/tb_data/tb_output_predictions.dat",
        "HLSConfig": _plain(plan.hls_config),
    }
    text = (
        "# hls4ml's configuration of this export (rebuild it as README.md shows). The model\n"
        "# is the study's, with state_dict.pt loaded and the biases of layers with an\n"
        "# accumulator format cast to it (hls4ml reads them at bias_t).\n"
    ) + yaml.safe_dump(config, sort_keys=False)
    _write_text(folder / "hls4ml_config.yml", text)
    return plan


def _plain(data: Any) -> Any:
    """Mappings and sequences as plain dicts and lists (for yaml.safe_dump)."""
    if isinstance(data, Mapping):
        return {str(k): _plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_plain(v) for v in data]
    if isinstance(data, np.generic):
        return data.item()
    return data


def _header(
    result: StudyResult,
    record: TrialRecord,
    stored: nn.Module,
    configuration: Configuration,
    plan: HlsPlan | None,
) -> str:
    """weights.h: each layer's weights in their format; biases as the hardware holds them (a
    layer with an accumulator format: cast to it; else at the project's exact bias type, or
    as float32 without a project or when that type is wider than 64 bits)."""
    bias_types = {} if plan is None else {layer.layer: layer.bias for layer in plan.layers}
    network: dict[WeightSharing, list[str]] = {}
    modules = {n: m for n, m in stored.named_modules() if isinstance(m, APPROXIMABLE)}
    for name, layer in configuration.layers:
        fmt = layer.weights
        if isinstance(fmt, WeightSharing) and fmt.granularity.name == "network":
            network.setdefault(fmt, []).append(name)
    tables = {
        fmt: np.unique(np.concatenate([_numpy(modules[n].weight).reshape(-1) for n in names]))
        for fmt, names in network.items()
    }
    tensors = []
    for name, module in modules.items():
        layer = configuration.get(name)
        fmt = layer.weights
        kind: ApFixed | FloatFormat | WeightSharing | None = None
        if isinstance(fmt, FixedPoint):
            kind = ApFixed.of(fmt)
        elif isinstance(fmt, FloatFormat | WeightSharing):
            kind = fmt
        table = tables.get(fmt) if isinstance(fmt, WeightSharing) else None
        tensors.append(HeaderTensor(f"{name}.weight", _numpy(module.weight), kind, table))
        if module.bias is None:
            continue
        bias_type = bias_types.get(name)
        if layer.accumulator is not None:
            bias_type = ApFixed.of(layer.accumulator)
        if bias_type is not None and bias_type.width > 64:
            bias_type = None
        tensors.append(HeaderTensor(f"{name}.bias", _numpy(module.bias), bias_type))
    study = "".join(c if c.isalnum() else "_" for c in result.name).upper()
    guard = f"DSE_{study}_TRIAL_{record.number}_H_"
    title = (
        f"dse export: trial {record.number} of study {result.name!r}, configuration "
        f"{configuration.digest()}; weights as integers of their formats."
    )
    return render_c_header(tensors, guard, title)


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().double().numpy()


def _manifest(
    result: StudyResult,
    record: TrialRecord,
    export: Export,
    data: Dataset,
    study_file: str | Path | None,
    split_name: str,
    input_fmt: FixedPoint,
    hardware: HardwareSettings,
    plan: HlsPlan | None,
) -> dict[str, Any]:
    versions = package_versions()
    hls4ml = None
    if plan is not None:
        hls4ml = {
            "project": "hls4ml",
            "model": "hls4ml_model.fml",
            "config": "hls4ml_config.yml",
            "project_name": PROJECT_NAME,
            "exact": plan.exact,
            "notes": list(plan.notes),
            "input_type": str(plan.input_type),
            "layers": {
                layer.layer: {
                    "node": layer.node,
                    "weight": str(layer.weight),
                    "bias": str(layer.bias),
                    "accum": str(layer.accum),
                    "result": str(layer.result),
                    "reuse_factor": layer.reuse_factor,
                    "result_lsb": layer.result.step,
                }
                for layer in plan.layers
            },
            "settings": dict(plan.io_settings),
        }
    return {
        "version": EXPORT_VERSION,
        "study": result.name,
        "study_file": None if study_file is None else str(Path(study_file).resolve()),
        "data_fingerprint": data.fingerprint,
        "normalization": data.normalization.to_dict(),
        "trial": record.number,
        "config_hash": record.config_hash or export.configuration.digest(),
        "objectives": dict(zip(result.objective_names, record.values or (), strict=False)),
        "metrics": dict(record.metrics),
        "hardware": hardware.to_dict(),
        "input_format": input_fmt.to_dict(),
        "input_bits_from": "hardware.input_bits" if hardware.input_bits else "default (16)",
        "test_vectors": {
            "split": split_name,
            "samples": export.samples,
            "file": "test_vectors.npz",
            "dse_accuracy": export.accuracy,
        },
        "unsupported": list(export.unsupported),
        "hls4ml": hls4ml,
        "files": {k: str(v.relative_to(export.folder)) for k, v in export.files.items()},
        "versions": {
            "dse": versions.get("dse"),
            "torch": versions.get("torch"),
            "hls4ml": hls4ml_version(),
            "python": versions.get("python"),
        },
    }
