"""SearchSpace: variables from study settings, encodings per sampler, decoding."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import pytest
import torch
from optuna.distributions import CategoricalDistribution, IntDistribution

from dse.config import load_study, resolve_layers
from evaluators import Configuration, FixedPoint, FloatFormat, WeightSharing
from search_spaces import SearchSpace, SpaceError
from search_spaces._space import _decode_layer
from tests.conftest import write_study

STUDY = {
    "study": {"name": "space"},
    "search_space": {
        "weights": {"kinds": ["fixed", "shared"], "bits": [2, 8], "clusters": [2, 64]},
        "layer_types": {"Linear": {"weights": {"bits": [4, 8]}}},
        "layers": [
            {"name": "fc3", "skip": True},
            {
                "name": "conv*",
                "weights": {"kinds": ["float"], "exponent_bits": [3, 5], "mantissa_bits": 2},
            },
            {
                "name": "fc2",
                "weights": {
                    "kinds": ["shared"],
                    "granularity": ["layer", "channel"],
                    "codebook": {"kind": "fixed", "bits": 8},
                },
            },
        ],
    },
}


@pytest.fixture
def space(tmp_path: Path, lenet_workload) -> SearchSpace:
    path = write_study(tmp_path / "s.yaml", STUDY)
    config = load_study(path)
    layers = resolve_layers(config.search_space, lenet_workload.layers(), str(path))
    return SearchSpace.from_model(lenet_workload.model, layers)


def test_variables_follow_the_precedence_of_settings(space: SearchSpace) -> None:
    names = set(space.names)
    assert [d.name for d in space.layers] == ["conv1", "conv2", "fc1", "fc2"]  # fc3 skipped
    assert "conv1.weights.exponent_bits" in names
    assert "conv1.weights.mantissa_bits" not in names  # single value: a constant
    assert "conv1.weights.kind" not in names
    dists = space.to_optuna()
    assert dists["fc1.weights.bits"] == IntDistribution(4, 8)  # layer type overrides default
    assert dists["fc1.weights.clusters"] == IntDistribution(2, 64, log=True)
    assert dists["fc1.weights.kind"] == CategoricalDistribution(("fixed", "shared"))
    assert dists["fc2.weights.granularity"] == CategoricalDistribution(("layer", "channel"))
    assert space.size() == math.prod(v.size for v in space.variables)


def test_decode_builds_each_layer_format(space: SearchSpace, lenet_workload) -> None:
    params = {
        "conv1.weights.exponent_bits": 4,
        "conv2.weights.exponent_bits": 5,
        "fc1.weights.kind": "fixed",
        "fc1.weights.bits": 6,
        "fc1.weights.clusters": 8,
        "fc1.weights.granularity": "layer",
        "fc2.weights.clusters": 16,
        "fc2.weights.granularity": "channel",
    }
    config = space.decode(params)
    assert isinstance(config, Configuration)
    assert config["conv1"].weights == FloatFormat(4, 2)
    fc1 = config["fc1"].weights
    assert isinstance(fc1, FixedPoint) and fc1.word_length == 6
    max_abs = float(lenet_workload.model.fc1.weight.abs().max())
    assert fc1 == FixedPoint.for_range(max_abs, 6)  # integer bits derived from the range
    fc2 = config["fc2"].weights
    assert isinstance(fc2, WeightSharing) and fc2.clusters == 16
    assert fc2.granularity.name == "channel" and isinstance(fc2.codebook, FixedPoint)
    assert "fc3" not in config
    assert space.decode(params) == config and hash(space.decode(params)) == hash(config)


def test_decoding_is_remembered_per_layer_without_changing_any_configuration(
    space: SearchSpace,
) -> None:
    network_max_abs = max(d.weight_max_abs for d in space.layers)
    points = space.sample(300, seed=2)
    first = [space.decode(p) for p in points]  # fills the memo
    for point, remembered in zip(points, first, strict=True):
        values = {**dict(space.constants), **point}
        expected = Configuration.of(  # each layer decoded on its own, nothing remembered
            {d.name: _decode_layer(d, values, network_max_abs) for d in space.layers}
        )
        again = space.decode(point)
        assert again == expected == remembered and again.digest() == expected.digest()
        # canonical JSON, the text every digest and record is made from
        text = json.dumps(expected.to_dict(), sort_keys=True, separators=(",", ":"))
        assert again.to_json() == text == remembered.to_json()
        for name in again:
            assert again[name] is remembered[name]  # one object per decoded layer
    assert Configuration().to_json() == '{"layers":{},"version":1}'
    copy = pickle.loads(pickle.dumps(space))
    assert "_decoded_layers" not in vars(copy) and copy == space  # pickled without the memo
    assert copy.decode(points[0]) == first[0]


def test_decode_rejects_points_outside_the_space(space: SearchSpace) -> None:
    with pytest.raises(SpaceError, match="fc1.weights.bits: 3 is outside its domain"):
        space.decode({v.name: v.values()[0] for v in space.variables} | {"fc1.weights.bits": 3})
    with pytest.raises(SpaceError, match="missing from the point"):
        space.decode({})


def test_restrict_returns_a_new_space(space: SearchSpace) -> None:
    smaller = space.restrict(**{"fc1.weights.bits": 8})
    assert "fc1.weights.bits" not in smaller.names and "fc1.weights.bits" in space.names
    assert smaller.size() * 5 == space.size()
    with pytest.raises(SpaceError, match="outside its domain"):
        space.restrict(**{"fc1.weights.bits": 99})


def test_pymoo_encoding(space: SearchSpace) -> None:
    from pymoo.core.variable import Choice, Integer

    variables = space.to_pymoo()
    assert isinstance(variables["fc1.weights.bits"], Integer)
    assert tuple(variables["fc1.weights.bits"].bounds) == (4, 8)
    assert isinstance(variables["fc1.weights.kind"], Choice)


def test_points_from_pymoo_decode(space: SearchSpace) -> None:
    import numpy as np

    point = {
        v.name: (np.int64(v.low) if v.kind == "int" else v.choices[0]) for v in space.variables
    }
    assert space.decode(point) == space.decode(
        {k: (int(v) if isinstance(v, np.integer) else v) for k, v in point.items()}
    )


def test_one_bit_signed_fixed_point_is_refused(tmp_path: Path, lenet_workload) -> None:
    data = {"study": {"name": "one"}, "search_space": {"weights": {"bits": [1, 4]}}}
    path = write_study(tmp_path / "s.yaml", data)
    config = load_study(path)
    layers = resolve_layers(config.search_space, lenet_workload.layers(), str(path))
    with pytest.raises(SpaceError, match="conv1.weights.bits: signed fixed point .* at least 2"):
        SearchSpace.from_model(lenet_workload.model, layers)


def test_a_later_rule_takes_a_skipped_layer_back(tmp_path: Path, lenet_workload) -> None:
    data = {
        "study": {"name": "skip"},
        "search_space": {
            "layers": [{"name": "fc*", "skip": True}, {"name": "fc3", "skip": False}]
        },
    }
    path = write_study(tmp_path / "s.yaml", data)
    config = load_study(path)
    layers = resolve_layers(config.search_space, lenet_workload.layers(), str(path))
    assert list(layers) == ["conv1", "conv2", "fc3"]


def test_network_granularity_shares_one_codebook_across_layers(
    tmp_path: Path, lenet_workload
) -> None:
    from evaluators import approximate_weights

    data = {
        "study": {"name": "net"},
        "search_space": {
            "weights": {
                "kinds": ["shared"],
                "clusters": [4, 16],
                "granularity": ["network"],
                "codebook": {"kind": "fixed", "bits": 8},
            },
        },
    }
    path = write_study(tmp_path / "s.yaml", data)
    config = load_study(path)
    layers = resolve_layers(config.search_space, lenet_workload.layers(), str(path))
    space = SearchSpace.from_model(lenet_workload.model, layers)
    configuration = space.decode({v.name: 8 for v in space.variables})
    formats = {configuration[n].weights for n in configuration}
    assert len(formats) == 1  # same k: one value, hence one codebook for all five layers
    weights = approximate_weights(lenet_workload.model, configuration)
    values = torch.cat([w.flatten() for w in weights.values()]).unique()
    assert len(values) <= 8
