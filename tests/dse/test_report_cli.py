"""`dse report`, `dse plot` and `dse pareto --where/--sort/--min/--params` on real studies run
from study files (the CLI's `main`, in process: the same code path as `python -m dse`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import optuna
import pandas as pd
import pytest

from dse import load_study
from dse.cli import main
from dse.storage import make_storage, storage_url
from tests.conftest import study_dict, write_study


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory, study_output: Path) -> dict[str, Path]:
    """Two small studies of one problem, by NSGA-II and by random sampling."""
    folder = tmp_path_factory.mktemp("report_cli")
    space = {"weights": {"kinds": ["fixed", "shared"], "bits": [2, 8], "clusters": [2, 16]}}
    paths = {}
    for name, optimizer in (
        ("cli_nsga2", {"kind": "nsga2", "budget": 14, "population_size": 6}),
        ("cli_random", {"kind": "random", "budget": 10}),
    ):
        data = study_dict(name, study_output, optimizer=optimizer, search_space=space)
        paths[name] = write_study(folder / f"{name}.yaml", data)
        assert main(["run", str(paths[name]), "--no-progress"]) == 0
    return paths


def test_report_writes_the_page_and_the_layer_rows(
    studies: dict[str, Path], study_output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = studies["cli_nsga2"]
    assert main(["report", str(path)]) == 0
    out = capsys.readouterr().out
    folder = study_output / "cli_nsga2"
    assert f"-> {folder / 'report.html'}" in out and "14 evaluated trials" in out
    html = (folder / "report.html").read_text(encoding="utf-8")
    info = json.loads(re.search(r'id="dse-data">(.*?)</script>', html, re.S).group(1))
    assert info["study"]["state"] == "complete"
    layers = pd.read_csv(folder / "front_layers.csv")
    pareto = pd.read_csv(folder / "pareto.csv")
    assert set(layers["number"]) == set(pareto["number"])
    number = int(pareto["number"].iloc[0])
    assert info["points"][str(number)]["command"] == (
        f"python -m dse export {path.name} --trial {number}"  # an absolute path: its name
    )


def test_report_of_a_running_study_says_so(
    studies: dict[str, Path], study_output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = studies["cli_random"]
    config = load_study(path)
    study = optuna.load_study(
        study_name=config.study.name, storage=make_storage(storage_url(config), create=False)
    )
    trial = study.ask()  # a trial in flight, as a worker leaves it while it scores
    try:
        assert main(["report", str(path)]) == 0
        assert "the study is still running (1 trial(s) in flight)" in capsys.readouterr().out
        html = (study_output / "cli_random" / "report.html").read_text(encoding="utf-8")
        assert "This study is still running: 10 of 10 trials evaluated, 1 running" in html
    finally:
        study.tell(trial, state=optuna.trial.TrialState.FAIL)


def test_pareto_filters_sorts_and_prints_active_settings(
    studies: dict[str, Path], study_output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = studies["cli_nsga2"]
    pareto = pd.read_csv(study_output / "cli_nsga2" / "pareto.csv")
    limit = float(pareto["accuracy_drop"].max())
    assert main(["pareto", str(path), "--where", f"accuracy_drop<={limit}", "--sort",
                 "weight_bits", "--params"]) == 0  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    header = lines[0].split()
    assert header[:5] == [
        "number",
        "accuracy",
        "weight_bits",
        "accuracy_drop",
        "compression_ratio",
    ]
    rows = lines[1 : 1 + len(pareto)]
    assert [int(r.split()[0]) for r in rows] == list(
        pareto.sort_values("weight_bits", kind="stable")["number"]
    )
    # Only active settings: a shared-weight layer shows k, never bits (and fixed: bits, no k).
    for layer in ("conv1", "conv2", "fc1", "fc2", "fc3"):
        kinds = set(pareto[f"param:{layer}.weights.kind"])
        assert (f"{layer}.weights.bits" in header) == ("fixed" in kinds)
        assert (f"{layer}.weights.clusters" in header) == ("shared" in kinds)

    assert (
        main(["pareto", str(path), "--where", "accuracy_drop<=0.5", "--min", "weight_bits"]) == 0
    )
    out = capsys.readouterr().out.splitlines()
    best = pareto[pareto["accuracy_drop"] <= 0.5].sort_values(["weight_bits", "number"]).iloc[0]
    assert int(out[1].split()[0]) == int(best["number"])
    assert out[-1].endswith("accuracy_drop<=0.5; min weight_bits")

    assert main(["pareto", str(path), "--where", "accuracy>=0.9999"]) == 0
    assert capsys.readouterr().out.startswith("no front point matches accuracy>=0.9999")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--where", "lut<=2000"], "--where: unknown name 'lut' in 'lut<=2000'; valid names: "
         "accuracy, accuracy_drop, compression_ratio, weight_bits"),
        (["--where", "accuracy=>0.9"], "--where: malformed condition 'accuracy=>0.9'"),
        (["--where", "accuracy>=90"], "accuracy figures are fractions"),
        (["--sort", "area"], "--sort: unknown name 'area'"),
    ],
)  # fmt: skip
def test_pareto_user_errors_are_one_line_with_exit_code_2(
    studies: dict[str, Path], capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["pareto", str(studies["cli_nsga2"]), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dse: error: ") and message in err and err.count("\n") == 1


def test_plot_overlays_studies_with_one_reference_point(
    studies: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "front.svg"
    code = main(["plot", str(studies["cli_nsga2"]), "--x", "weight_bits", "--y", "accuracy",
                 "--compare", str(studies["cli_random"]), "--output", str(output)])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "cli_nsga2 (nsga2, exact)" in out and "cli_random (random, exact)" in out
    assert "hypervolume over accuracy, weight_bits from (accuracy=0, weight_bits=" in out
    assert output.exists() and "weight memory (kbit)" in output.read_text(encoding="utf-8")
    assert main(["plot", str(studies["cli_nsga2"]), "--x", "lut", "--y", "accuracy"]) == 2
    assert "--x: unknown name 'lut'" in capsys.readouterr().err
