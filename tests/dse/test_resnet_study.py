"""A short ResNet-20 study end to end: the shipped checkpoint, the real Fashion-MNIST, weight,
activation (residual additions included) and accumulator formats, a proxy on a data subset,
the hardware model. (Re-scoring the front on the full splits is bench/workloads.py's.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from dse import load_study, run_study
from evaluators import available_checkpoints
from evaluators._datasets import FASHION_MNIST_DIR
from tests.conftest import write_study

pytestmark = pytest.mark.skipif(
    not FASHION_MNIST_DIR.is_dir() or "resnet20_fashion_mnist" not in available_checkpoints(),
    reason="needs dataset-fashion-mnist (CI installs it) and the shipped ResNet-20 checkpoint",
)


def test_resnet20_study_on_a_subset(tmp_path: Path) -> None:
    data = {
        "study": {"name": "r20", "seed": 0, "output": str(tmp_path / "runs")},
        "workload": {
            "model": "resnet20",
            "dataset": "fashion_mnist",
            "checkpoint": "resnet20_fashion_mnist",
        },
        "search_space": {
            "include": ["*"],
            "calibration_samples": 512,
            "weights": {
                "kinds": ["fixed", "shared"],
                "bits": [4, 8],
                "clusters": [4, 16],
                "codebook": {"kind": "fixed", "bits": 8},  # products on a grid: exact sums
            },
            "activations": {"kinds": ["fixed"], "bits": [8, 10], "accumulator_bits": [30, 32]},
        },
        "objectives": ["accuracy", "lut"],
        "optimizer": {"kind": "random", "budget": 6},
        "evaluator": {
            "kind": "normalized_inertia",
            "subset": 300,
            "calibration_trials": 4,
            "fidelity_threshold": -1,
            "batch_size": 300,
            "rescore_front": False,  # 15,000 exact images: bench/workloads.py measures it
        },
        "hardware": {
            "part": "xcu250",
            "strategy": "resource",
            "io_type": "io_stream",
            "reuse_factor": 64,
        },
    }
    path = write_study(tmp_path / "r20.yaml", data)
    result = run_study(load_study(path), path)
    assert result.complete == 6 and result.reference_accuracy > 0.9
    params = set(result.records[0].params)
    assert "layer3.2.add.activations.bits" in params  # the addition's output is a variable
    assert not any(p.startswith("layer3.2.add.weights") for p in params)
    assert not any("add.activations.accumulator" in p for p in params)
    assert all(r.metrics["lut"] > 0 for r in result.records if r.evaluated)
    assert result.provenance["cost_model"]["io_type"] == "io_stream"
