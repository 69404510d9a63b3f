"""The sampler contract, over every registered optimizer: proposals inside the space, as
plain Python values, the same for a seed, and a resumed run that keeps what was done."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

from dse import load_study
from dse.optimizers import available_optimizers, get_optimizer, optimizer_settings
from dse.storage import read_records
from dse.study import Problem, derive_seed, optimize
from tests.conftest import SAMPLER_SETTINGS, study_dict, write_study

SPACE = {  # 2 layers x 216 points each (3 kinds): 46,656 points, enumerable by `grid`
    "include": ["fc1", "fc2"],
    "weights": {
        "kinds": ["fixed", "shared", "float"],
        "bits": [2, 5],
        "clusters": [2, 4],
        "exponent_bits": [2, 4],
        "mantissa_bits": [0, 1],
    },
}


@pytest.fixture(scope="module")
def problem(tmp_path_factory: pytest.TempPathFactory, study_output: Path) -> Problem:
    tmp = tmp_path_factory.mktemp("samplers")
    path = write_study(tmp / "s.yaml", study_dict("samplers", study_output, search_space=SPACE))
    return Problem.from_config(load_study(path), path)


def _run(problem: Problem, study: optuna.Study, kind: str, budget: int) -> None:
    settings = optimizer_settings(kind).model_validate(
        {"kind": kind, "budget": budget, **SAMPLER_SETTINGS[kind]}
    )
    seed = derive_seed(0, len(study.trials))
    study.sampler = get_optimizer(kind)(settings, problem.space, seed, problem)
    optimize(study, problem, budget, warm_start=settings.warm_start)


def test_every_registered_optimizer_is_covered() -> None:
    assert set(SAMPLER_SETTINGS) == set(available_optimizers())


@pytest.mark.parametrize("kind", sorted(SAMPLER_SETTINGS))
def test_proposals_are_plain_values_inside_the_space(problem: Problem, kind: str) -> None:
    study = optuna.create_study(directions=["maximize", "minimize"])
    _run(problem, study, kind, 8)
    by_name = {v.name: v for v in problem.space.variables}
    records = read_records(study)
    assert sum(r.evaluated for r in records) == 8
    for record in records:
        assert set(record.params) == set(by_name)
        for name, value in record.params.items():
            assert type(value) in (int, float, str, bool), (name, type(value))
            assert by_name[name].contains(value)
        json.dumps(dict(record.params))  # storable as JSON as is
        assert problem.space.decode(record.params).digest() == record.config_hash


@pytest.mark.parametrize("kind", sorted(SAMPLER_SETTINGS))
def test_resume_keeps_the_trials_and_meets_the_budget(problem: Problem, kind: str) -> None:
    study = optuna.create_study(directions=["maximize", "minimize"])
    _run(problem, study, kind, 5)
    first = [(r.params, r.values) for r in read_records(study)]
    _run(problem, study, kind, 9)
    records = read_records(study)
    assert [(r.params, r.values) for r in records[: len(first)]] == first
    assert sum(r.evaluated for r in records) == 9
    assert len({r.config_hash for r in records if r.evaluated}) == 9
