"""study.yaml validation: every malformed file gives one precise line, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dse import StudyFileError, load_study
from tests.conftest import run_cli, study_dict, write_study

BASE = {
    "study": {"name": "bad", "seed": 0},
    "search_space": {"weights": {"kinds": ["fixed"], "bits": [2, 8]}},
    "optimizer": {"kind": "nsga2", "budget": 10},
}


def _with(path: tuple, value: object) -> dict:
    """BASE with one key (a path of keys/indices) set; value None deletes it."""
    data = yaml.safe_load(yaml.safe_dump(BASE))
    node = data
    for key in path[:-1]:
        if isinstance(node, dict):
            node = node.setdefault(key, {})
        else:
            node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


_DELETE = object()

MALFORMED = [
    # (data, field in the message, words the reason must contain)
    (_with(("study",), _DELETE), "study", "required"),
    (_with(("study", "name"), "has space"), "study.name", "pattern"),
    (_with(("study", "seed"), -1), "study.seed", "greater than or equal"),
    (
        _with(("study", "colour"), "red"),
        "study.colour",
        "unknown key; expected one of: name, seed",
    ),
    (_with(("optimizer", "kind"), "annealing"), "optimizer.kind", "'annealing'"),
    (_with(("optimizer", "budget"), 0), "optimizer.budget", "greater than or equal to 1"),
    (_with(("optimizer", "population_size"), "ten"), "optimizer.population_size", "integer"),
    (_with(("optimizer", "generations"), 3), "optimizer.generations", "unknown key"),
    (_with(("search_space", "weights", "bits"), [8, 2]), "search_space.weights.bits", "empty"),
    (_with(("search_space", "weights", "bits"), [0, 8]), "search_space.weights.bits", "[1, 32]"),
    (
        _with(("search_space", "weights", "kinds"), ["fixed", "posit"]),
        "search_space.weights.kinds[1]",
        "'fixed', 'float' or 'shared'",
    ),
    (
        _with(("search_space", "weights", "granularity"), ["tensor"]),
        "search_space.weights.granularity[0]",
        "'network', 'layer', 'channel' or 'kernel'",
    ),
    (
        _with(
            ("search_space", "layers"),
            [{"name": "conv1"}, {"name": "fc1"}, {"name": "fc2", "weights": {"bits": [9, 3]}}],
        ),
        "search_space.layers[2].weights.bits",
        "empty",
    ),
    (
        _with(("search_space", "layers"), [{"weights": {}}]),
        "search_space.layers[0].name",
        "required",
    ),
    (
        _with(("objectives",), ["accuracy", "speed"]),
        "objectives[1].name",
        "unknown objective 'speed'",
    ),
    (_with(("objectives",), ["accuracy", "accuracy"]), "objectives", "distinct"),
    (_with(("objectives",), []), "objectives", "at least 1"),
    (_with(("constraints",), [{"name": "accuracy"}]), "constraints[0]", "'max' or 'min'"),
    (
        _with(("constraints",), [{"name": "lut", "min": 5, "max": 1}]),
        "constraints[0]",
        "no value is feasible",
    ),
    (
        _with(("workload", "splits"), {"train": 0.5, "validation": 0.3, "test": 0.3}),
        "workload.splits",
        "sum to 1",
    ),
    (_with(("workload", "training", "epochs"), 2.5), "workload.training.epochs", "integer"),
    (
        _with(("search_space", "weights", "codebook"), {"kind": "fixed"}),
        "search_space.weights.codebook",
        "needs 'bits'",
    ),
    (_with(("version",), 2), "version", "1"),
]


@pytest.mark.parametrize(("data", "field", "reason"), MALFORMED, ids=[m[1] for m in MALFORMED])
def test_malformed_study_names_field_and_reason(tmp_path: Path, data, field, reason) -> None:
    path = write_study(tmp_path / "study.yaml", data)
    with pytest.raises(StudyFileError) as info:
        load_study(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {field}: "), message
    assert reason in message, message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("study: {name: x\n", "line 2, column 1: invalid YAML"),
        ("- just\n- a list\n", "expected a mapping of sections, got a list"),
        ("", "expected a mapping of sections, got an empty file"),
        (
            "study: {name: x}\nstudy: {name: y}\n",
            "line 2, column 1: invalid YAML: duplicate key 'study'",
        ),
        ("study: !!python/object:os.system {}\n", "invalid YAML"),
    ],
)
def test_unreadable_yaml(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "study.yaml"
    path.write_text(text)
    with pytest.raises(StudyFileError, match=expected):
        load_study(path)


def test_missing_file_error(tmp_path: Path) -> None:
    with pytest.raises(StudyFileError, match="no such file"):
        load_study(tmp_path / "absent.yaml")


def test_cli_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    path = write_study(tmp_path / "study.yaml", MALFORMED[12][0])
    done = run_cli("run", str(path))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines == [
        f"dse: error: {path}: search_space.layers[2].weights.bits: range [9, 3] is empty: "
        "the first value must be <= the second (got [9, 3])"
    ]
    assert "Traceback" not in done.stderr


def test_unknown_layer_is_a_study_error(tmp_path: Path, study_output: Path) -> None:
    data = study_dict(
        "unknown_layer", study_output, search_space={"layers": [{"name": "conv9", "skip": True}]}
    )
    path = write_study(tmp_path / "study.yaml", data)
    done = run_cli("run", str(path))
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        f"dse: error: {path}: search_space.layers[0].name: 'conv9' matches no layer "
        "of the model (conv1, conv2, fc1, fc2, fc3)"
    )


def test_missing_dataset_file_names_it(tmp_path: Path, study_output: Path) -> None:
    data = study_dict("missing_data", study_output, workload={"dataset": "nowhere.npz"})
    path = write_study(tmp_path / "study.yaml", data)
    done = run_cli("run", str(path))
    assert done.returncode == 2
    assert f"{path}: workload: {tmp_path / 'nowhere.npz'}: dataset not found" in done.stderr


def test_defaults_resolved_and_hash_stable(tmp_path: Path) -> None:
    path = write_study(tmp_path / "s.yaml", BASE)
    a, b = load_study(path), load_study(path)
    assert a.config_hash() == b.config_hash()
    assert a.objective_names == ("accuracy", "weight_bits")
    assert a.directions == ("maximize", "minimize")
    assert a.workload.splits.train == 0.6
    changed = write_study(tmp_path / "c.yaml", _with(("optimizer", "budget"), 20))
    c = load_study(changed)
    assert c.config_hash() != a.config_hash()
    assert c.identity_hash() == a.identity_hash()  # a larger budget resumes the same study


def test_unwritable_output_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("not a folder")
    data = {**BASE, "study": {"name": "bad", "output": str(tmp_path / "a_file" / "results")}}
    path = write_study(tmp_path / "study.yaml", data)
    done = run_cli("run", str(path))
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    folder = tmp_path / "a_file" / "results" / "bad"
    assert lines == [
        f"dse: error: {path}: study.output: cannot create the study folder {folder}: "
        "Not a directory"
    ]


def test_model_that_does_not_fit_the_data_is_a_one_line_error(tmp_path: Path) -> None:
    import numpy as np

    np.savez(tmp_path / "flat.npz", x=np.zeros((30, 64), np.float32), y=np.arange(30) % 3)
    data = {
        **BASE,
        "study": {"name": "flat", "output": str(tmp_path / "out")},
        "workload": {"dataset": "flat.npz"},
    }
    path = write_study(tmp_path / "study.yaml", data)
    done = run_cli("run", str(path))
    assert done.returncode == 2, done.stderr
    assert "model 'lenet5' does not accept the dataset's inputs of shape (64,)" in done.stderr
    assert "Traceback" not in done.stderr


def test_status_of_a_study_that_never_ran_writes_nothing(tmp_path: Path) -> None:
    data = {**BASE, "study": {"name": "never", "output": str(tmp_path / "out")}}
    path = write_study(tmp_path / "study.yaml", data)
    done = run_cli("status", str(path))
    assert done.returncode == 2
    assert "no such study database: run the study first" in done.stderr
    assert not (tmp_path / "out").exists()


def test_identity_ignores_speed_settings_and_written_defaults(tmp_path: Path) -> None:
    base = load_study(write_study(tmp_path / "a.yaml", BASE)).identity_hash()
    faster = _with(("evaluator",), {"threads": 2, "batch_size": 64})
    assert load_study(write_study(tmp_path / "b.yaml", faster)).identity_hash() == base
    explicit = _with(("search_space", "weights", "float_overflow"), "inf")  # the default
    assert load_study(write_study(tmp_path / "c.yaml", explicit)).identity_hash() == base
    other = _with(("search_space", "weights", "float_overflow"), "saturate")
    assert load_study(write_study(tmp_path / "d.yaml", other)).identity_hash() != base
    reseeded = _with(("study", "seed"), 1)
    assert load_study(write_study(tmp_path / "e.yaml", reseeded)).identity_hash() != base
