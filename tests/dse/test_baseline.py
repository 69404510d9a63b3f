"""The built-in example's front, reproduced exactly from its seed (committed baseline).

`tests/dse/data/lenet_digits_pareto_baseline.csv` is the pareto.csv that
`python -m dse run examples/lenet_digits.yaml` writes; every later version must find the same
configurations with the same values. Written before the typed-core refactor, and again when the
warm start gained the uniform weight-sharing baselines (16, 32 and 64 clusters: three more
first trials, so a different search; front of 14 both times, final hypervolume 573,964 before
and 575,615 after).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from dse import load_study, run_study
from tests.conftest import ROOT

BASELINE = Path(__file__).parent / "data" / "lenet_digits_pareto_baseline.csv"
TIMES = ("duration_s", "evaluation_s")


def test_built_in_example_reproduces_its_committed_front(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "examples" / "lenet_digits.yaml").read_text())
    data["study"]["output"] = str(tmp_path)
    path = tmp_path / "lenet_digits.yaml"
    path.write_text(yaml.safe_dump(data))
    result = run_study(load_study(path), path)
    found = pd.read_csv(result.files["pareto"])
    expected = pd.read_csv(BASELINE)
    columns = [c for c in expected.columns if c not in TIMES]
    assert list(found.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(found[columns], expected[columns])
    points = {p.number: p for p in result.front.points}
    for _, row in expected.iterrows():
        assert points[row["number"]].config_hash == row["config_hash"]
        assert points[row["number"]].configuration.digest() == row["config_hash"]
