"""Shared fixtures: the built-in workload trained once per session, study-file writers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

from evaluators import Workload, build_workload

ROOT = Path(__file__).resolve().parents[1]

SAMPLER_SETTINGS: dict[str, dict[str, Any]] = {
    "random": {},
    "grid": {},
    "tpe": {"n_startup_trials": 3},
    "nsga2": {"population_size": 4},
    "nsga3": {"population_size": 4},
    "bayesian": {"n_startup_trials": 3},
    "hybrid": {"n_startup_trials": 3, "window": 2, "switch_after": 6, "population_size": 4},
}
"""Small-budget settings of every built-in optimizer, for the tests that run them all."""

torch.set_num_threads(1)  # as studies do: small models only lose to intra-op threads


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of trained weights for the whole session: the LeNet trains once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def lenet_workload(model_cache: Path) -> Workload:
    return build_workload("lenet5", "digits", seed=0, cache_dir=model_cache)


@pytest.fixture(scope="session")
def study_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One output folder for the session's studies, so they share the trained-model cache."""
    return tmp_path_factory.mktemp("results")


def study_dict(name: str, output: Path, **sections: Any) -> dict[str, Any]:
    """A small valid study named `name` writing into `output`; sections replace defaults."""
    data: dict[str, Any] = {
        "study": {"name": name, "seed": 0, "output": str(output)},
        "search_space": {
            "weights": {"kinds": ["fixed", "shared"], "bits": [2, 8], "clusters": [2, 16]}
        },
        "objectives": ["accuracy", "weight_bits"],
        "optimizer": {"kind": "random", "budget": 6},
    }
    data.update(sections)
    return data


def write_study(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """`python -m dse ...` in a real subprocess."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "dse", *args],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
