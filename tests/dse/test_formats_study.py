"""A study over every representation: fixed, float, shared weights, and activation formats."""

from __future__ import annotations

from pathlib import Path

from dse import load_study, run_study
from dse.study import Problem
from evaluators import FixedPoint, FloatFormat, WeightSharing
from tests.conftest import study_dict, write_study


def test_study_searches_every_weight_kind_and_activations(
    tmp_path: Path, study_output: Path
) -> None:
    data = study_dict(
        "all_kinds",
        study_output,
        search_space={
            "weights": {
                "kinds": ["fixed", "float", "shared"],
                "bits": [3, 8],
                "exponent_bits": [3, 5],
                "mantissa_bits": [1, 4],
                "clusters": [2, 32],
                "granularity": ["layer", "channel", "network"],
                "codebook": {"kind": "float", "exponent_bits": 5, "mantissa_bits": 10},
            },
            "activations": {
                "kinds": ["fixed", "float"],
                "bits": [6, 12],
                "calibration": "percentile",
                "accumulator_bits": [12, 24],
            },
        },
        optimizer={"kind": "random", "budget": 30},
    )
    path = write_study(tmp_path / "s.yaml", data)
    config = load_study(path)
    setup = Problem.from_config(config, path)
    names = set(setup.space.names)
    assert {
        "fc1.weights.kind",
        "fc1.weights.exponent_bits",
        "fc1.activations.bits",
        "fc1.activations.accumulator_bits",
        "conv2.weights.granularity",
    } <= names

    result = run_study(config, path)
    assert result.complete == 30
    kinds = set(result.table["param:fc1.weights.kind"])
    assert kinds == {"fixed", "float", "shared"}

    seen: set[type] = set()
    for _, row in result.table.iterrows():
        params = {c.removeprefix("param:"): row[c] for c in result.table if c.startswith("param:")}
        params = {
            k: (int(v) if isinstance(v, float) and v.is_integer() else v)
            for k, v in params.items()
        }
        configuration = setup.space.decode(params)
        layer = configuration["fc1"]
        seen.add(type(layer.weights))
        assert isinstance(layer.activations, FixedPoint | FloatFormat)
        assert layer.accumulator is not None and layer.accumulator.overflow == "wrap"
        if isinstance(layer.weights, WeightSharing):
            assert isinstance(layer.weights.codebook, FloatFormat)
        assert configuration.digest() == row["config_hash"]
    assert seen == {FixedPoint, FloatFormat, WeightSharing}
    assert result.table["accuracy"].max() > result.reference_accuracy - 0.1


def test_wide_accumulators_cost_no_accuracy(tmp_path: Path, study_output: Path) -> None:
    """Accumulators are sized from the unclipped output range: 24 bits never wrap a sum."""
    data = study_dict(
        "accumulators",
        study_output,
        search_space={
            "weights": {"kinds": ["fixed"], "bits": 12},
            "activations": {
                "kinds": ["fixed"],
                "bits": 16,
                "calibration": "percentile",
                "percentile": 99.0,
                "accumulator_bits": [12, 24],
            },
        },
    )
    path = write_study(tmp_path / "s.yaml", data)
    setup = Problem.from_config(load_study(path), path)
    space = setup.space
    wide = space.decode({f"{n}.activations.accumulator_bits": 24 for n in setup.workload.layers()})
    narrow = space.decode(  # 12 bits: products truncated to 4 fraction bits (I = 8)
        {f"{n}.activations.accumulator_bits": 12 for n in setup.workload.layers()}
    )
    evaluator = setup.evaluator
    reference = setup.reference_accuracy
    assert evaluator.score(wide).accuracy >= reference - 0.01
    assert evaluator.score(narrow).accuracy <= evaluator.score(wide).accuracy
