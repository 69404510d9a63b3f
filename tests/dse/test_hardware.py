"""The study's cost model from study.yaml's `hardware` section, and a hardware study end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from dse import load_study
from dse._errors import StudyFileError
from dse.config import StudyConfig
from dse.study._hardware import build_cost_model
from evaluators import Configuration, FixedPoint, LayerConfig, LayerShape
from hardware_models import AcceleratorModel, WeightMemoryModel
from tests.conftest import run_cli, study_dict, write_study

SHAPES = {
    "conv": LayerShape("conv", "conv", (4, 1, 3, 3), (1, 8, 8), (4, 8, 8), 4 * 64 * 9),
    "fc": LayerShape("fc", "linear", (10, 256), (256,), (10,), 2560),
}
CONFIG = Configuration.of(
    dict.fromkeys(SHAPES, LayerConfig(weights=FixedPoint(6, 1), activations=FixedPoint(8, 4)))
)


def _config(tmp_path: Path, **hardware: Any) -> StudyConfig:
    data = study_dict("hw", tmp_path, objectives=["accuracy", "lut", "energy"])
    data["hardware"] = hardware
    return load_study(write_study(tmp_path / "s.yaml", data))


def test_weight_bits_studies_keep_the_weight_memory_model(tmp_path: Path) -> None:
    config = load_study(write_study(tmp_path / "s.yaml", study_dict("w", tmp_path)))
    assert isinstance(build_cost_model(config, SHAPES, tmp_path / "s.yaml"), WeightMemoryModel)


def test_hardware_objectives_get_the_accelerator_model(tmp_path: Path) -> None:
    config = _config(tmp_path, part="xc7z010", reuse_factor={"conv": 9, "f*": 64})
    model = build_cost_model(config, SHAPES, tmp_path / "s.yaml")
    assert isinstance(model, AcceleratorModel)
    assert model.device.part == "xc7z010"
    assert model.reuse_factor == {"conv": 9, "fc": 64}
    cost = model.cost(CONFIG)
    assert cost["weight_bits"] == WeightMemoryModel(SHAPES).cost(CONFIG)["weight_bits"]
    assert {"lut", "energy", "utilization"} <= set(cost.values)


def test_energy_overrides_change_the_energy(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    base = build_cost_model(_config(tmp_path), SHAPES, path).cost(CONFIG)
    hot = build_cost_model(
        _config(tmp_path, energy={"static_power_w": 2.0, "activity": 0.5}), SHAPES, path
    ).cost(CONFIG)
    assert hot["energy"] > 5 * base["energy"]
    assert hot["lut"] == base["lut"]
    bigger = build_cost_model(
        _config(tmp_path, datapath={"control_lut": 1000}), SHAPES, path
    ).cost(CONFIG)
    assert bigger["lut"] == base["lut"] + 2 * 500


def test_calibration_file_scales_resources(tmp_path: Path) -> None:
    pairs = {
        "pairs": [
            {"hls": {"LUT": 2000, "FF": 8000}, "synth": {"LUT": 1000, "FF": 2000}},
        ]
    }
    (tmp_path / "calibration.yaml").write_text(yaml.safe_dump(pairs))
    path = tmp_path / "s.yaml"
    raw = build_cost_model(_config(tmp_path), SHAPES, path).cost(CONFIG)
    config = _config(tmp_path, calibration="calibration.yaml")
    corrected = build_cost_model(config, SHAPES, path).cost(CONFIG)
    assert corrected["lut"] == pytest.approx(raw["lut"] / 2)
    assert corrected["ff"] == pytest.approx(raw["ff"] / 4)
    assert corrected["dsp"] == raw["dsp"]
    (tmp_path / "bad.json").write_text(json.dumps({"pairs": []}))
    with pytest.raises(StudyFileError, match="hardware.calibration"):
        build_cost_model(_config(tmp_path, calibration="bad.json"), SHAPES, path)


def test_bad_hardware_settings_name_the_field(tmp_path: Path) -> None:
    with pytest.raises(StudyFileError, match=r"hardware\.part: unknown part 'xc9z999'"):
        _config(tmp_path, part="xc9z999")
    with pytest.raises(StudyFileError, match=r"hardware\.reuse_factor\.pool\*: matches no"):
        build_cost_model(_config(tmp_path, reuse_factor={"pool*": 2}), SHAPES, tmp_path / "s.yaml")
    with pytest.raises(StudyFileError, match=r"hardware\.energy\.activity"):
        _config(tmp_path, energy={"activity": 3})
    with pytest.raises(StudyFileError, match="hardware.library"):
        build_cost_model(_config(tmp_path, library="none.json"), SHAPES, tmp_path / "s.yaml")


def test_accuracy_lut_energy_study_end_to_end(tmp_path: Path, study_output: Path) -> None:
    data = study_dict(
        "fpga",
        study_output,
        objectives=["accuracy", "lut", "energy"],
        constraints=[{"name": "utilization", "max": 1.0}],
        optimizer={"kind": "nsga2", "budget": 8, "population_size": 4},
    )
    data["search_space"]["weights"]["codebook"] = {"kind": "fixed", "bits": 8}
    data["search_space"]["activations"] = {"kinds": ["fixed"], "bits": [4, 8]}
    data["hardware"] = {"part": "xc7z020", "reuse_factor": {"conv*": 9, "fc*": 64}}
    path = write_study(tmp_path / "s.yaml", data)
    done = run_cli("run", str(path), "--no-progress")
    assert done.returncode == 0, done.stderr
    trials = pd.read_csv(study_output / "fpga" / "trials.csv")
    assert (trials["state"] == "COMPLETE").sum() == 8
    assert {"lut", "energy", "utilization", "dsp", "bram", "latency"} <= set(trials)
    assert (trials["lut"] > 0).all() and (trials["energy"] > 0).all()
    # Infeasible trials are kept and marked; the constraint is read from Cost.values.
    assert (trials["feasible"] == (trials["utilization"] <= 1.0)).all()
