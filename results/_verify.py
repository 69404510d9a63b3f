"""Holding dse's emulation against hls4ml's C simulation of an exported point.

`verify_export` compiles the export's hls4ml project (hls4ml's ``compile()``: g++, no Vivado),
runs it on the export's test vectors with hls4ml's tracing, runs dse's emulation of the same
configuration on the same inputs, and compares every traced layer output and the logits value
by value: exact matches, the largest difference in LSBs of the layer's result type, top-1
agreement and each side's accuracy.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from evaluators import Configuration, EvaluatorError, apply, approximate_weights
from results._errors import ResultsError
from results._export import read_manifest
from results._hls4ml_project import simulation_inputs, to_channels_first

if TYPE_CHECKING:
    from torch import nn

__all__ = ["Agreement", "Verification", "verify_export"]

_BATCH = 512
_TESTBENCH = {
    "InputData": "tb_input_features.dat",
    "OutputPredictions": "tb_output_predictions.dat",
}


@dataclass(frozen=True)
class Agreement:
    """How dse's and hls4ml's values of one tensor agree over the samples.

    Attributes:
        name: the layer (or `logits`).
        elements: values compared.
        exact: values equal bit for bit.
        max_lsb: the largest |difference|, in LSBs of the layer's result type.
        lsb: the value of that LSB.
    """

    name: str
    elements: int
    exact: int
    max_lsb: float
    lsb: float

    @property
    def exact_fraction(self) -> float:
        """Share of values equal bit for bit (1 when nothing was compared)."""
        return self.exact / self.elements if self.elements else 1.0

    @property
    def bit_exact(self) -> bool:
        return self.exact == self.elements

    @classmethod
    def of(cls, name: str, dse: np.ndarray, hls: np.ndarray, lsb: float) -> Agreement:
        """Compare two arrays of the same values (any shapes of one size).

        Raises:
            ResultsError: their sizes differ.
        """
        a = np.asarray(dse, dtype=np.float64).reshape(-1)
        b = np.asarray(hls, dtype=np.float64).reshape(-1)
        if a.shape != b.shape:
            raise ResultsError(
                f"{name}: dse gives {a.size} values, hls4ml {b.size}: the graphs differ"
            )
        diff = np.abs(a - b)
        largest = float(diff.max()) / lsb if diff.size else 0.0
        return cls(name, int(a.size), int((diff == 0).sum()), largest, lsb)


@dataclass(frozen=True)
class Verification:
    """The outcome of `verify_export`.

    Attributes:
        folder: the export verified.
        trial: its trial number.
        samples: test vectors run.
        layers: per traced layer (the Conv/Linear layers, graph order).
        logits: the network outputs.
        top1_agreement: share of samples whose top-1 class agrees.
        accuracy_dse: dse's accuracy on the vectors.
        accuracy_hls4ml: the C simulation's accuracy on them.
        expected_exact: whether hls4ml expresses every format exactly (then the logits must
            be bit-exact).
        notes: why they may differ otherwise.
        simulation_s: seconds hls4ml's compile and C simulation took.
    """

    folder: Path
    trial: int
    samples: int
    layers: tuple[Agreement, ...]
    logits: Agreement
    top1_agreement: float
    accuracy_dse: float
    accuracy_hls4ml: float
    expected_exact: bool
    notes: tuple[str, ...] = ()
    simulation_s: float = 0.0

    @property
    def bit_exact(self) -> bool:
        """Every logit equal bit for bit."""
        return self.logits.bit_exact

    @property
    def passed(self) -> bool:
        """Bit-exact logits, or a point whose formats hls4ml does not express exactly."""
        return self.bit_exact or not self.expected_exact

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "folder": str(self.folder),
            "trial": self.trial,
            "samples": self.samples,
            "expected_exact": self.expected_exact,
            "bit_exact": self.bit_exact,
            "passed": self.passed,
            "top1_agreement": self.top1_agreement,
            "accuracy_dse": self.accuracy_dse,
            "accuracy_hls4ml": self.accuracy_hls4ml,
            "simulation_s": self.simulation_s,
            "notes": list(self.notes),
            "layers": [_agreement_dict(a) for a in (*self.layers, self.logits)],
        }


def _agreement_dict(a: Agreement) -> dict[str, Any]:
    return {
        "name": a.name,
        "elements": a.elements,
        "exact": a.exact,
        "max_lsb": a.max_lsb,
        "lsb": a.lsb,
    }


def verify_export(folder: Path, model: nn.Module, *, samples: int | None = None) -> Verification:
    """Compile an export's hls4ml project and compare its C simulation with dse.

    Args:
        folder: an export folder (`export_point`).
        model: the study's float model (BatchNorm folded), as the export was made from.
        samples: test vectors to run (None: all the export holds).

    Returns:
        The comparison.

    Raises:
        ResultsError: the folder holds no hls4ml project, the model is not the exported
            one, or hls4ml cannot compile the project.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    hls = manifest.get("hls4ml")
    if hls is None:
        reasons = "; ".join(manifest.get("unsupported") or ["no project written"])
        raise ResultsError(f"{folder}: no hls4ml project to verify, not verified: {reasons}")
    configuration = _configuration(folder)
    with np.load(folder / manifest["test_vectors"]["file"], allow_pickle=False) as vectors:
        x, y = vectors["x"], vectors["y"]
    if samples is not None:
        x, y = x[:samples], y[:samples]
    _check_model(folder, model, configuration)
    layers: Mapping[str, Any] = hls["layers"]
    dse_layers, dse_logits = _dse_outputs(model, configuration, x, list(layers))
    hls_logits, traces, simulation_s = _simulate(folder, hls, x)
    agreements = []
    for name, layer in layers.items():
        trace = traces.get(layer["node"])
        if trace is None:
            continue
        values = to_channels_first(trace, tuple(dse_layers[name].shape[1:]))
        agreements.append(Agreement.of(name, dse_layers[name], values, layer["result_lsb"]))
    last = list(layers.values())[-1] if layers else {"result_lsb": 1.0}
    hls_logits = hls_logits.reshape(dse_logits.shape)
    logits = Agreement.of("logits", dse_logits, hls_logits, last["result_lsb"])
    top_dse, top_hls = dse_logits.argmax(axis=1), hls_logits.argmax(axis=1)
    n = len(x)
    return Verification(
        folder=folder,
        trial=int(manifest["trial"]),
        samples=n,
        layers=tuple(agreements),
        logits=logits,
        top1_agreement=float((top_dse == top_hls).mean()) if n else 1.0,
        accuracy_dse=float((top_dse == y).mean()) if n else math.nan,
        accuracy_hls4ml=float((top_hls == y).mean()) if n else math.nan,
        expected_exact=bool(hls["exact"]),
        notes=tuple(hls.get("notes", ())),
        simulation_s=simulation_s,
    )


def _configuration(folder: Path) -> Configuration:
    path = folder / "configuration.json"
    try:
        return Configuration.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, EvaluatorError) as exc:
        raise ResultsError(f"{path}: cannot read the configuration: {exc}") from None


def _check_model(folder: Path, model: nn.Module, configuration: Configuration) -> None:
    """The study's model, approximated, must hold the exported weights."""
    exported = torch.load(folder / "state_dict.pt", weights_only=True)
    weights = approximate_weights(model, configuration)
    state = model.state_dict()
    for key, value in exported.items():
        layer, _, part = key.rpartition(".")
        ours = weights[layer] if part == "weight" and layer in weights else state.get(key)
        if ours is None or not torch.equal(ours.detach().float(), value.float()):
            raise ResultsError(
                f"{folder}: the study's model is not the exported one ({key} differs): was it "
                "retrained or its data changed?"
            )


def _dse_outputs(
    model: nn.Module, configuration: Configuration, x: np.ndarray, names: list[str]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """dse's outputs of the layers `names` and its logits on `x`."""
    approx = apply(model, configuration).eval()
    modules = dict(approx.named_modules())
    outputs: dict[str, list[np.ndarray]] = {n: [] for n in names}

    def hook(name: str) -> Any:
        def record(_module: Any, _inputs: Any, output: torch.Tensor) -> None:
            outputs[name].append(output.detach().double().numpy())

        return record

    handles = [modules[n].register_forward_hook(hook(n)) for n in names if n in modules]
    inputs = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    try:
        with torch.no_grad():
            parts = [approx(inputs[i : i + _BATCH]) for i in range(0, len(inputs), _BATCH)]
    finally:
        for handle in handles:
            handle.remove()
    logits = torch.cat(parts).double().numpy() if parts else np.zeros((0, 0))
    return {n: np.concatenate(v) for n, v in outputs.items() if v}, logits


def _simulate(
    folder: Path, hls: Mapping[str, Any], x: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray], float]:
    """hls4ml's C simulation of the project on `x`: logits, traced layers, seconds."""
    try:
        from hls4ml.utils.serialization import deserialize_model
    except ImportError:
        raise ResultsError(
            "verification needs hls4ml: pip install 'hls4ml>=1.3' (or dse[dev])"
        ) from None
    log = io.StringIO()
    inputs = simulation_inputs(x, hls["settings"]["IOType"])
    with tempfile.TemporaryDirectory(prefix="dse-verify-") as tmp:
        try:
            with contextlib.redirect_stdout(log):
                graph = deserialize_model(folder / hls["model"], output_dir=tmp)
                project = (folder / hls["project"]).resolve()
                graph.config.config["OutputDir"] = str(project)
                for key, name in _TESTBENCH.items():  # hls4ml copies them into tb_data/
                    source = project / "tb_data" / name
                    if source.exists():
                        copy = Path(tmp) / f"copy-{name}"
                        shutil.copyfile(source, copy)
                        graph.config.config[key] = str(copy)
                    else:
                        graph.config.config[key] = None
                start = time.perf_counter()
                if len(inputs):
                    logits, traces = graph.trace(inputs)
                else:
                    graph.compile()
                    logits, traces = np.zeros((0, 0)), {}
                simulation_s = time.perf_counter() - start
        except Exception as exc:  # hls4ml raises bare Exceptions (a failed g++ build)
            detail = log.getvalue().strip().splitlines()[-1:] or [""]
            raise ResultsError(
                f"{folder}: hls4ml could not compile or run the project: {exc} {detail[0]}"
            ) from None
    return np.asarray(logits, dtype=np.float64).reshape(len(inputs), -1), traces, simulation_s
