"""The filter grammar every command that picks points shares: --where, --sort, --min, --max."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from results import Condition, PointQuery, ResultsError, parse_where

NAMES = ("accuracy", "accuracy_drop", "lut", "energy", "compression_ratio")


@pytest.fixture()
def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "number": [0, 1, 2, 3, 4],
            "accuracy": [0.97, 0.95, 0.90, 0.97, 0.50],
            "accuracy_drop": [0.0, 0.02, 0.07, 0.0, 0.47],
            "lut": [30000.0, 18000.0, 9000.0, 25000.0, np.nan],
            "energy": [2e-6, 1.5e-6, 1e-6, 2e-6, 1e-7],
        }
    )


def test_conditions_joined_by_commas_all_hold(table: pd.DataFrame) -> None:
    query = PointQuery.parse(NAMES, where="accuracy_drop<=0.02, lut<=20000")
    assert query.where == (
        Condition("accuracy_drop", "<=", 0.02),
        Condition("lut", "<=", 20000.0),
    )
    assert list(query.apply(table)["number"]) == [1]


@pytest.mark.parametrize(
    ("where", "numbers"),
    [
        ("lut<9000", []),
        ("lut<=9000", [2]),
        ("lut>25000", [0]),
        ("lut>=25000", [0, 3]),
        ("accuracy==0.97", [0, 3]),
        ("accuracy=0.97", [0, 3]),
        ("accuracy!=0.97", [1, 2, 4]),
        ("energy<1.2e-6", [2, 4]),
        ("  energy < 1.2E-6 ,accuracy>.6 ", [2]),
        ("lut>-1", [0, 1, 2, 3]),  # a missing value never matches
    ],
)
def test_each_operator(table: pd.DataFrame, where: str, numbers: list[int]) -> None:
    assert list(PointQuery.parse(NAMES, where=where).apply(table)["number"]) == numbers


@pytest.mark.parametrize(
    ("where", "fragment"),
    [
        ("lutt<=3", "unknown name 'lutt' in 'lutt<=3'"),
        ("lut<<3", "malformed condition 'lut<<3'"),
        ("lut<=", "malformed condition 'lut<='"),
        ("lut<=20000,", "malformed condition '(nothing between two commas)'"),
        ("lut<=2e4 and accuracy>0.9", "malformed condition"),
        ("accuracy>=95", "accuracy figures are fractions"),
        ("accuracy_drop<=1.5", "accuracy figures are fractions"),
        ("", "empty filter"),
    ],
)
def test_errors_are_one_line_naming_what_is_wrong(where: str, fragment: str) -> None:
    with pytest.raises(ResultsError) as caught:
        parse_where(where, NAMES)
    message = str(caught.value)
    assert fragment in message and "\n" not in message
    if "fractions" not in message:
        assert "valid names: accuracy, accuracy_drop, compression_ratio, energy, lut" in message


def test_sort_min_and_max(table: pd.DataFrame) -> None:
    assert list(PointQuery.parse(NAMES, sort="lut").apply(table)["number"]) == [2, 1, 3, 0, 4]
    assert list(PointQuery.parse(NAMES, sort="-accuracy").apply(table)["number"]) == [
        0,
        3,
        1,
        2,
        4,
    ]
    best = PointQuery.parse(NAMES, where="accuracy_drop<=0.05", minimize="lut")
    assert list(best.apply(table)["number"]) == [1]
    tie = PointQuery.parse(NAMES, maximize="accuracy")  # 0 and 3 tie: the first trial
    assert list(tie.apply(table)["number"]) == [0]
    assert best.describe() == "accuracy_drop<=0.05; min lut"


def test_unknown_sort_min_max_names_and_both_min_and_max() -> None:
    with pytest.raises(ResultsError, match=r"--sort: unknown name 'area'; valid names: "):
        PointQuery.parse(NAMES, sort="area")
    with pytest.raises(ResultsError, match=r"--min: unknown name"):
        PointQuery.parse(NAMES, minimize="area")
    with pytest.raises(ResultsError, match=r"--min and --max"):
        PointQuery.parse(NAMES, minimize="lut", maximize="accuracy")


def test_nothing_matches_gives_an_empty_table(table: pd.DataFrame) -> None:
    query = PointQuery.parse(NAMES, where="accuracy>=0.99", minimize="lut")
    assert query.apply(table).empty
