"""dse as a library: a Problem from objects, `minimize`, its result, plugins, old studies."""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import torch

from dse import Problem, SettingsError, StudyResult, load_study, minimize, run_study
from dse.storage import read_records
from evaluators import Configuration, DataSplit, Workload, apply
from tests.conftest import run_cli, study_dict, write_study

LEGACY = Path(__file__).parent / "data" / "legacy_v1"


@pytest.fixture(scope="module")
def problem(lenet_workload: Workload) -> Problem:
    data = lenet_workload.data
    return Problem.from_model(
        lenet_workload.model,
        train=data.train,
        validation=data.validation,
        test=data.test,
        search_space={"include": ["fc1", "fc2"], "weights": {"kinds": ["fixed"], "bits": [2, 6]}},
    )


def test_minimize_in_memory_returns_front_with_configurations(
    problem: Problem, lenet_workload: Workload
) -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    rng_state = torch.random.get_rng_state()
    try:
        result = minimize(problem, "random", budget=8, seed=3)
        assert torch.get_num_threads() == 2  # the caller's setting, restored
        assert torch.equal(torch.random.get_rng_state(), rng_state)
    finally:
        torch.set_num_threads(threads)
    assert isinstance(result, StudyResult)
    assert result.complete == 8 and result.space is problem.space
    assert len(result.records) >= 8 and result.seed == 3
    data = lenet_workload.data.validation
    for point in result.front.points:
        assert isinstance(point.configuration, Configuration)
        assert point.config_hash == point.configuration.digest()
        # The point's accuracy is its configuration's, recomputed independently here.
        model = apply(lenet_workload.model, point.configuration)
        with torch.no_grad():
            accuracy = int((model(data.x).argmax(1) == data.y).sum()) / len(data.y)
        assert point.values["accuracy"] == pytest.approx(accuracy, abs=1e-9)
    assert result.rescored  # the front re-scored on validation and test
    assert result.plot().figure_ is not None


def test_minimize_resumes_from_a_storage_url(problem: Problem, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    first = minimize(problem, "nsga2", budget=5, storage=url)
    again = minimize(problem, "nsga2", budget=9, storage=url)
    assert first.complete == 5 and again.complete == 9
    assert [r.params for r in again.records[: len(first.records)]] == [
        r.params for r in first.records
    ]


def test_settings_errors_from_python_are_one_line_settings_errors(
    lenet_workload: Workload,
) -> None:
    data = lenet_workload.data
    with pytest.raises(SettingsError) as caught:
        Problem.from_model(
            lenet_workload.model,
            validation=data.validation,
            search_space={"weights": {"bits": [9, 3]}},
        )
    assert str(caught.value) == (
        "search_space.weights.bits: range [9, 3] is empty: the first value must be <= the "
        "second (got [9, 3])"
    )
    with pytest.raises(SettingsError, match=r"^search_space\.include\[0\]: 'nope' matches no"):
        Problem.from_model(
            lenet_workload.model, validation=data.validation, search_space={"include": ["nope"]}
        )


def test_unknown_optimizer_and_bad_settings_name_the_field(problem: Problem) -> None:
    with pytest.raises(SettingsError, match=r"^optimizer\.kind: unknown optimizer 'annealing'"):
        minimize(problem, "annealing", budget=3)
    with pytest.raises(SettingsError, match=r"^optimizer\.population_size: expected an integer"):
        minimize(problem, {"kind": "nsga2", "population_size": 1}, budget=3)


def test_a_model_that_rejects_the_data_is_a_workload_error(lenet_workload: Workload) -> None:
    from evaluators import WorkloadError

    wrong = DataSplit(torch.zeros(4, 3, 8, 8), torch.zeros(4, dtype=torch.long))
    with pytest.raises(WorkloadError, match="does not accept the dataset's inputs"):
        Problem.from_model(lenet_workload.model, validation=wrong)


PLUGIN = """
from dataclasses import dataclass
from typing import Literal

from optuna.samplers import RandomSampler

from dse.optimizers import OptimizerSettings, register_optimizer
from evaluators import Proxy, register_proxy


class ReverseSettings(OptimizerSettings):
    kind: Literal["seeded_random"] = "seeded_random"
    offset: int = 0


@register_optimizer("seeded_random", ReverseSettings)
def make_sampler(settings, space, seed, exact):
    return RandomSampler(seed=seed + settings.offset)


@dataclass(frozen=True)
class BitsSettings:
    scale: float = 1.0


@register_proxy("total_bits", BitsSettings)
class TotalBits(Proxy):
    def value(self, configuration):
        total = 0.0
        for _, layer in configuration.layers:
            total += getattr(layer.weights, "word_length", 32)
        return self.options.scale / total
"""


@pytest.fixture
def registries() -> Iterator[None]:
    """The optimizer and proxy registries as they were: a plugin loaded by one test does not
    leak into the contract suites that run over every registered implementation."""
    from dse.optimizers import _registry
    from evaluators import _proxy

    optimizers, proxies = dict(_registry._REGISTRY), dict(_proxy._PROXIES)
    yield
    _registry._REGISTRY.clear()
    _registry._REGISTRY.update(optimizers)
    _proxy._PROXIES.clear()
    _proxy._PROXIES.update(proxies)


def test_plugins_named_in_the_study_file_are_validated_by_their_own_settings(
    tmp_path: Path, study_output: Path, registries: None
) -> None:
    (tmp_path / "my_plugins.py").write_text(textwrap.dedent(PLUGIN))
    data = study_dict(
        "plugins",
        study_output,
        plugins=["my_plugins"],
        search_space={"include": ["fc1", "fc2"], "weights": {"kinds": ["fixed"], "bits": [2, 8]}},
        optimizer={"kind": "seeded_random", "budget": 8, "offset": 5},
        evaluator={
            "kind": "total_bits",
            "calibration_trials": 4,
            "fidelity_threshold": -1,
            "options": {"scale": 2.0},
        },
    )
    path = write_study(tmp_path / "p.yaml", data)
    config = load_study(path)
    assert config.optimizer.offset == 5 and config.evaluator.options == {"scale": 2.0}
    result = run_study(config, path)
    assert result.complete == 8
    assert set(result.table["fidelity"]) >= {"exact:validation", "proxy:total_bits"}

    data["optimizer"]["offset"] = "many"
    bad = run_cli("run", str(write_study(tmp_path / "bad.yaml", data)))
    assert bad.returncode == 2
    assert "optimizer.offset: Input should be a valid integer" in bad.stderr
    data["optimizer"]["offset"] = 1
    data["evaluator"]["options"] = {"scale": 2.0, "alpha": 1}
    bad = run_cli("run", str(write_study(tmp_path / "bad2.yaml", data)))
    assert bad.returncode == 2 and "evaluator" in bad.stderr and "alpha" in bad.stderr
    data["plugins"] = ["missing_module"]
    bad = run_cli("run", str(write_study(tmp_path / "bad3.yaml", data)))
    assert bad.returncode == 2
    assert "plugins[0]: cannot import 'missing_module'" in bad.stderr


def test_a_study_stored_by_dse_0_1_resumes_in_its_old_folder(tmp_path: Path) -> None:
    shutil.copy(LEGACY / "legacy_v1.yaml", tmp_path)
    (tmp_path / "results" / "legacy_v1").mkdir(parents=True)
    shutil.copy(LEGACY / "study.db", tmp_path / "results" / "legacy_v1")
    text = (tmp_path / "legacy_v1.yaml").read_text().replace("budget: 6", "budget: 9")
    (tmp_path / "legacy_v1.yaml").write_text(text)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = run_study(load_study("legacy_v1.yaml"), "legacy_v1.yaml")
    finally:
        os.chdir(cwd)
    assert result.complete == 9
    old = pd.read_csv(LEGACY / "trials.csv")
    for record, (_, row) in zip(result.records[:6], old.iterrows(), strict=True):
        assert record.schema_version == 1 and record.number == row["number"]
        assert record.config_hash == row["config_hash"]
        assert record.configuration is not None
        assert record.configuration.digest() == row["config_hash"]
        assert record.values == pytest.approx((row["accuracy"], row["weight_bits"]))
        assert record.evaluation_s == pytest.approx(row["evaluation_s"])
    assert all(r.schema_version == 2 for r in result.records[6:])
    assert (tmp_path / "results" / "legacy_v1" / "pareto.csv").exists()
    assert not (tmp_path / "runs" / "legacy_v1").exists()


def test_records_round_trip_through_storage(problem: Problem, tmp_path: Path) -> None:
    import optuna

    url = f"sqlite:///{tmp_path / 's.db'}"
    result = minimize(problem, "random", budget=4, storage=url)
    study = optuna.load_study(study_name="study", storage=url)
    assert tuple(read_records(study)) == result.records
