"""The optimizer contract, for every registered optimizer: budget, seeding, resume, constraints.

Real workload and real scoring; in-memory storage where the storage is not what is tested.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState
from pydantic import TypeAdapter

from dse import StudyFileError, load_study, run_study
from dse.config._schema import OptimizerSection
from dse.optimizers import available_optimizers, get_optimizer, population_size
from dse.storage import read_records, records
from dse.study import Problem, derive_seed, optimize, warm_start_points
from dse.study._optimize import count_complete
from evaluators import LayerConfig, WeightSharing, layer_shapes
from results import ParetoFront
from search_spaces import prune_space
from tests.conftest import SAMPLER_SETTINGS, study_dict, write_study

SPACE = {  # 3 layers x (fixed 2-5 bits | shared 2-4 clusters): 13,824 points
    "include": ["conv2", "fc1", "fc2"],
    "weights": {"kinds": ["fixed", "shared"], "bits": [2, 5], "clusters": [2, 4]},
}


def _config(name: str, output: Path, tmp: Path, kind: str, budget: int, **extra: Any):
    optimizer = {"kind": kind, "budget": budget, **SAMPLER_SETTINGS.get(kind, {}), **extra}
    data = study_dict(name, output, search_space=SPACE, optimizer=optimizer)
    path = write_study(tmp / f"{name}.yaml", data)
    return load_study(path), path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, study_output: Path) -> Problem:
    tmp = tmp_path_factory.mktemp("opt")
    config, path = _config("contract", study_output, tmp, "random", 1)
    return Problem.from_config(config, path)


def _run(setup: Problem, study: optuna.Study, kind: str, budget: int, **extra: Any) -> None:
    """What `run_study` does around the loop: a fresh sampler per run, seeded by the trials."""
    settings = TypeAdapter(OptimizerSection).validate_python(
        {"kind": kind, "budget": budget, **SAMPLER_SETTINGS[kind], **extra}
    )
    seed = derive_seed(0, len(study.trials))
    study.sampler = get_optimizer(kind)(settings, setup.space, seed, setup)
    optimize(study, setup, budget, warm_start=settings.warm_start)


def _new_study(setup: Problem) -> optuna.Study:
    return optuna.create_study(directions=list(setup.config.directions))


def test_every_kind_of_the_issue_is_registered() -> None:
    assert set(SAMPLER_SETTINGS) == set(available_optimizers())


@pytest.mark.parametrize("kind", sorted(SAMPLER_SETTINGS))
def test_meets_budget_and_resumes_unchanged(setup: Problem, kind: str) -> None:
    study = _new_study(setup)
    _run(setup, study, kind, 6)
    first = [(t.params, t.values) for t in study.trials]
    assert count_complete(study) == 6
    _run(setup, study, kind, 10)  # a resumed run: new sampler, same storage
    done = [t for t in study.trials if records.is_evaluated(t)]
    assert len(done) == 10
    assert len({records.config_hash(t) for t in done}) == 10  # each scored once
    assert [(t.params, t.values) for t in study.trials[: len(first)]] == first
    hv = [records.to_record(t).hypervolume for t in done]
    assert all(b >= a for a, b in zip(hv, hv[1:], strict=False)) and hv[-1] > 0
    assert len(records.reference_point(study)) == 2


@pytest.mark.parametrize("kind", sorted(SAMPLER_SETTINGS))
def test_same_seed_same_first_proposals(setup: Problem, kind: str) -> None:
    runs = []
    for _ in range(2):
        study = _new_study(setup)
        _run(setup, study, kind, 7)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1]


@pytest.mark.parametrize("kind", sorted(SAMPLER_SETTINGS))
def test_constraint_infeasible_kept_marked_never_on_front(
    tmp_path: Path, study_output: Path, kind: str
) -> None:
    data = study_dict(
        f"constrained_{kind}",
        study_output,
        search_space=SPACE,
        optimizer={"kind": kind, "budget": 8, **SAMPLER_SETTINGS[kind]},
        constraints=[{"name": "weight_bits", "max": 110_000}],
    )
    path = write_study(tmp_path / "c.yaml", data)
    result = run_study(load_study(path), path)
    table = pd.read_csv(result.files["study"].parent / "trials.csv")
    assert (table["state"] == "COMPLETE").sum() == 8
    infeasible = table[table["weight_bits"] > 110_000]
    feasible = table[table["weight_bits"] <= 110_000]
    assert len(infeasible) > 0 and len(feasible) > 0  # the 5-bit warm start is infeasible
    assert (~infeasible["feasible"].astype(bool)).all()
    assert not infeasible["pareto"].astype(bool).any()
    assert feasible["feasible"].astype(bool).all()


def test_hybrid_switches_to_nsga2_and_records_its_phases(setup: Problem) -> None:
    study = _new_study(setup)
    _run(setup, study, "hybrid", 12)
    phases = [records.phase(t) for t in study.trials]
    assert phases[0] == "enqueued"
    assert "bayesian" in phases and phases[-1] == "nsga2"
    switch = phases.index("nsga2")
    assert switch <= 6 + 1 and all(p == "nsga2" for p in phases[switch:])


def test_warm_start_points_are_uniform_baselines(setup: Problem) -> None:
    points = warm_start_points(setup.space)
    layers = ("conv2", "fc1", "fc2")
    assert points == [  # 16 bits is clamped into [2, 5], the same point as 8: kept once;
        # 16 to 256 clusters are all clamped into [2, 4]
        {
            f"{layer}.weights.{f}": v
            for layer in layers
            for f, v in (("kind", "fixed"), ("bits", 5))
        },
        {
            f"{layer}.weights.{f}": v
            for layer in layers
            for f, v in (("kind", "shared"), ("clusters", 4))
        },
    ]


def test_warm_start_shares_every_layer_and_keeps_other_tensors_at_the_widest_baseline(
    tmp_path: Path, study_output: Path
) -> None:
    space = {
        "include": ["conv2", "fc1"],
        "weights": {
            "kinds": ["fixed", "shared"],
            "bits": [2, 8],
            "clusters": [8, 48],
            "granularity": ["kernel", "layer"],
        },
        "activations": {"kinds": ["fixed"], "bits": [4, 12]},
    }
    data = study_dict("warm", study_output, search_space=space, optimizer={"kind": "random"})
    path = write_study(tmp_path / "warm.yaml", data)
    space_of_points = Problem.from_config(load_study(path), path).space
    points = warm_start_points(space_of_points)

    def point(weights: dict[str, Any], activation_bits: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for layer in ("conv2", "fc1"):
            out |= {f"{layer}.weights.{f}": v for f, v in weights.items()}
            out[f"{layer}.activations.bits"] = activation_bits
        return out

    shared = {"kind": "shared", "clusters": 0, "granularity": "layer"}
    assert points == [
        point({"kind": "fixed", "bits": 8}, 8),
        point({"kind": "fixed", "bits": 8}, 12),  # 16 bits clamped into each range
        point(shared | {"clusters": 16}, 12),
        point(shared | {"clusters": 32}, 12),
        point(shared | {"clusters": 48}, 12),  # 64 and 256 clamped into [8, 48]: once
    ]
    assert [list(p) for p in points[2:]] == [list(points[2])] * 3
    assert list(points[2])[:4] == [  # the space's variable order
        "conv2.weights.kind",
        "conv2.weights.clusters",
        "conv2.weights.granularity",
        "conv2.activations.bits",
    ]

    # A pruned space keeps one k per index width (here 8, 12, 20, 40 for conv2): not a range.
    # Each baseline takes the largest kept k not above it, so no index grows past its width.
    drops = {("conv2", LayerConfig(weights=WeightSharing(k))): 1.0 for k in range(8, 49)}
    drops |= {("conv2", LayerConfig(weights=WeightSharing(k))): 0.0 for k in (8, 12, 20, 40)}
    pruned = prune_space(space_of_points, drops, gate=0.01)
    clusters = next(v for v in pruned.variables if v.name == "conv2.weights.clusters")
    assert clusters.kind == "categorical" and clusters.choices == (8, 12, 20, 40)
    shared = [p for p in warm_start_points(pruned) if p.get("conv2.weights.kind") == "shared"]
    assert [p["conv2.weights.clusters"] for p in shared] == [12, 20, 40]  # 256: 40 again
    assert [p["fc1.weights.clusters"] for p in shared] == [16, 32, 48]  # not pruned
    for point in shared:
        pruned.decode(pruned.complete(point))  # a point of the space


def test_grid_reproduces_the_exhaustive_front(tmp_path: Path, study_output: Path) -> None:
    space = {"include": ["fc1", "fc2"], "weights": {"kinds": ["fixed"], "bits": [2, 4]}}
    data = study_dict(
        "grid_exact", study_output, search_space=space, optimizer={"kind": "grid", "budget": 9}
    )
    path = write_study(tmp_path / "g.yaml", data)
    result = run_study(load_study(path), path)
    assert result.complete == 9
    assert (
        result.table["param:fc1.weights.bits"]
        .astype(str)
        .str.cat(result.table["param:fc2.weights.bits"].astype(str))
        .nunique()
        == 9
    )  # every point once
    setup = Problem.from_config(load_study(path), path)
    values = [
        setup.evaluate({"fc1.weights.bits": a, "fc2.weights.bits": b}).objectives
        for a in (2, 3, 4)
        for b in (2, 3, 4)
    ]
    exhaustive = ParetoFront.from_points(values, result.directions)
    assert sorted(map(tuple, result.front.values)) == sorted(map(tuple, exhaustive.values))


def test_grid_refuses_a_space_over_its_limit(tmp_path: Path, study_output: Path) -> None:
    data = study_dict(
        "grid_big", study_output, optimizer={"kind": "grid", "budget": 5, "max_size": 1000}
    )
    path = write_study(tmp_path / "big.yaml", data)
    with pytest.raises(StudyFileError) as info:
        run_study(load_study(path), path)
    message = str(info.value)
    assert "\n" not in message
    assert f"{path}: optimizer.max_size: the search space has" in message
    assert "over the limit of 1,000" in message


def test_unknown_kind_lists_every_optimizer(tmp_path: Path, study_output: Path) -> None:
    data = study_dict("unknown", study_output, optimizer={"kind": "annealing"})
    with pytest.raises(StudyFileError) as info:
        load_study(write_study(tmp_path / "u.yaml", data))
    assert "optimizer.kind" in str(info.value)
    listed = str(info.value).split("expected one of: ")[1].split(", ")
    assert set(listed) == set(available_optimizers())


def test_reference_point_is_accuracy_zero_and_float32_bits(setup: Problem) -> None:
    study = _new_study(setup)
    _run(setup, study, "random", 1)
    accuracy, bits = records.reference_point(study)
    assert accuracy == 0.0
    shapes = layer_shapes(setup.workload.model, setup.workload.data.train.x)
    assert bits == pytest.approx(32 * np.sum([s.weights for s in shapes.values()]))


class _CountingProblem:
    """The study's problem, counting the configurations it evaluates."""

    def __init__(self, problem: Any) -> None:
        self.problem = problem
        self.space = problem.space
        self.cost_model = problem.cost_model
        self.objectives = problem.objectives
        self.evaluated: list[str] = []

    def evaluate(self, params: dict[str, Any]) -> Any:
        evaluation = self.problem.evaluate(params)
        self.evaluated.append(evaluation.configuration.digest())
        return evaluation


def _fixed_point(bits: int, clusters: int) -> dict[str, Any]:
    """Every layer in fixed point at `bits`; `clusters` is ignored by the decoding."""
    return {
        f"{layer}.weights.{field}": value
        for layer in ("conv2", "fc1", "fc2")
        for field, value in (("kind", "fixed"), ("bits", bits), ("clusters", clusters))
    }


def test_repeated_configurations_are_not_scored_and_not_counted(setup: Problem) -> None:
    problem = _CountingProblem(setup)
    study = _new_study(setup)
    study.sampler = optuna.samplers.RandomSampler(seed=0)
    study.enqueue_trial(_fixed_point(4, 2))
    study.enqueue_trial(_fixed_point(4, 3))  # the same configuration: clusters is unused
    study.enqueue_trial(_fixed_point(4, 4))
    state = optimize(study, problem, 4)  # type: ignore[arg-type]
    assert len(problem.evaluated) == 4 == len(set(problem.evaluated)) == count_complete(study)
    first, *repeats = study.trials[:3]
    assert state.duplicates == 2
    for t in repeats:
        assert t.state == TrialState.COMPLETE and t.values == first.values
        assert records.to_record(t).duplicate_of == first.number
    front = ParetoFront.from_records(read_records(study), list(setup.config.directions))
    assert not {t.number for t in repeats} & set(front.numbers)
    # A resumed run does not score a stored configuration again either.
    study.enqueue_trial(_fixed_point(4, 4))
    optimize(study, problem, 5)  # type: ignore[arg-type]
    assert len(problem.evaluated) == 5 == len(set(problem.evaluated))
    assert records.to_record(study.trials[-2]).duplicate_of == first.number


def test_a_sampler_with_nothing_new_stops_under_budget(setup: Problem) -> None:
    problem = _CountingProblem(setup)
    study = _new_study(setup)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.sampler = optuna.samplers.PartialFixedSampler(
            _fixed_point(3, 2), optuna.samplers.RandomSampler(seed=0)
        )
    state = optimize(study, problem, 10, max_duplicates=5)  # type: ignore[arg-type]
    assert len(problem.evaluated) == 1 and state.complete == 1 and state.duplicates == 5


@pytest.mark.parametrize(("budget", "size"), [(50, 8), (200, 20), (2_000, 50)])
def test_auto_population_scales_with_the_budget(budget: int, size: int) -> None:
    settings = TypeAdapter(OptimizerSection).validate_python({"kind": "nsga2", "budget": budget})
    assert settings.population_size == "auto"
    assert population_size(settings) == size
