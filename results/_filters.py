"""One grammar for every command that picks points: `--where`, `--sort`, `--min`, `--max`.

`--where "accuracy_drop<=0.01, lut<=20000"`: conditions `NAME OP NUMBER` joined by commas
(all must hold), `OP` one of `<=`, `>=`, `<`, `>`, `==` (or `=`) and `!=`; names are the
study's objectives and metrics (`accuracy_drop`, `compression_ratio`, `lut`...), accuracy
figures are fractions (`0.01` is one percentage point). `--sort NAME` orders the points
(`-NAME`: descending), `--min NAME` / `--max NAME` keep the one point where NAME is smallest
/ largest. The report's table reads the same grammar, in the browser (`report.js`).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from results._baselines import with_relative_columns
from results._errors import ResultsError
from results._tables import front_rows

if TYPE_CHECKING:
    import pandas as pd

    from results._result import StudyResult

OPERATORS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "=": operator.eq,
}
"""The comparison of each operator (`=` is `==`)."""

_CONDITION = re.compile(
    r"^\s*(?P<name>[A-Za-z_][A-Za-z0-9_.:]*)\s*(?P<op><=|>=|==|!=|<|>|=)\s*"
    r"(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)
_SYNTAX = "expected NAME OP NUMBER, OP one of <=, >=, <, >, ==, !=, conditions joined by commas"

NOT_METRICS = frozenset(
    {
        "number",
        "seed",
        "feasible",
        "pareto",
        "hypervolume",
        "duplicate_of",
        "retry_of",
        "duration_s",
        "evaluation_s",
    }
)
"""Numeric columns of a trials table that are bookkeeping, not metrics of a point."""


@dataclass(frozen=True)
class Condition:
    """One condition of a `--where`: `name op value`.

    Example:
        >>> Condition("lut", "<=", 2e4).holds(np.array([1e4, 3e4])).tolist()
        [True, False]
    """

    name: str
    op: str
    value: float

    def holds(self, values: np.ndarray) -> np.ndarray:
        """Where the condition holds; never where the value is missing (NaN)."""
        values = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            return OPERATORS[self.op](values, self.value) & ~np.isnan(values)

    def __str__(self) -> str:
        return f"{self.name}{'==' if self.op == '=' else self.op}{self.value:g}"


def is_accuracy(name: str) -> bool:
    """Whether a metric is an accuracy figure (a fraction): `accuracy`, `accuracy_drop`..."""
    return name.startswith("accuracy")


def parse_where(text: str, names: Iterable[str]) -> tuple[Condition, ...]:
    """The conditions of a `--where` text.

    Args:
        text: conditions joined by commas, e.g. `"accuracy_drop<=0.01, lut<=20000"`.
        names: the names a condition may use (see `filter_names`).

    Raises:
        ResultsError: a malformed condition, an unknown name or an accuracy given as a
            percentage; one line naming it and the valid names.

    Example:
        >>> parse_where("accuracy_drop<=0.01, lut<2e4", ["accuracy_drop", "lut"])
        (Condition(name='accuracy_drop', op='<=', value=0.01), Condition(name='lut', op='<', value=20000.0))
    """  # noqa: E501
    valid = sorted(set(names))
    listing = f"valid names: {', '.join(valid)}"
    conditions = []
    parts = text.split(",")
    if not text.strip():
        raise ResultsError(f"--where: empty filter; {_SYNTAX}; {listing}")
    for part in parts:
        match = _CONDITION.match(part)
        if match is None:
            shown = part.strip() or "(nothing between two commas)"
            raise ResultsError(f"--where: malformed condition {shown!r}: {_SYNTAX}; {listing}")
        name, op, value = match["name"], match["op"], float(match["value"])
        if name not in valid:
            raise ResultsError(f"--where: unknown name {name!r} in {part.strip()!r}; {listing}")
        if is_accuracy(name) and abs(value) > 1:
            raise ResultsError(
                f"--where: {part.strip()!r}: accuracy figures are fractions "
                f"(0.95 for 95 %, 0.01 for one percentage point)"
            )
        conditions.append(Condition(name, op, value))
    return tuple(conditions)


def check_name(option: str, name: str, names: Iterable[str]) -> str:
    """`name` if it is one of `names`, else a one-line `ResultsError` listing them."""
    valid = sorted(set(names))
    if name not in valid:
        raise ResultsError(f"{option}: unknown name {name!r}; valid names: {', '.join(valid)}")
    return name


@dataclass(frozen=True)
class PointQuery:
    """Which points to keep and in what order: conditions, a sort, or the one best point.

    Build it from command-line text with `PointQuery.parse`, then `apply` it to a table.

    Attributes:
        where: conditions that must all hold.
        sort: the column to order by (`None`: keep the table's order).
        descending: sort from the largest value.
        best: `("min", name)` or `("max", name)`: keep only the point where `name` is
            smallest / largest (the lowest trial number on a tie).
    """

    where: tuple[Condition, ...] = ()
    sort: str | None = None
    descending: bool = False
    best: tuple[str, str] | None = None

    @classmethod
    def parse(
        cls,
        names: Iterable[str],
        *,
        where: str | None = None,
        sort: str | None = None,
        minimize: str | None = None,
        maximize: str | None = None,
    ) -> PointQuery:
        """Read `--where`, `--sort`, `--min`, `--max` against the names a study has.

        Raises:
            ResultsError: a malformed filter, an unknown name, or both `--min` and `--max`.
        """
        names = tuple(names)
        conditions = () if where is None else parse_where(where, names)
        descending = False
        if sort is not None:
            descending = sort.startswith("-")
            sort = check_name("--sort", sort.lstrip("-+"), names)
        if minimize is not None and maximize is not None:
            raise ResultsError("--min and --max: give one of them (each keeps one point)")
        best = None
        if minimize is not None:
            best = ("min", check_name("--min", minimize, names))
        elif maximize is not None:
            best = ("max", check_name("--max", maximize, names))
        return cls(conditions, sort, descending, best)

    def mask(self, table: pd.DataFrame) -> np.ndarray:
        """The rows of `table` where every condition holds."""
        keep = np.ones(len(table), bool)
        for condition in self.where:
            keep &= condition.holds(_column(table, condition.name))
        return keep

    def apply(self, table: pd.DataFrame) -> pd.DataFrame:
        """The rows of `table` the query keeps, in its order."""
        kept = table[self.mask(table)]
        if self.best is not None and len(kept):
            kind, name = self.best
            values = _column(kept, name)
            if np.isnan(values).all():
                return kept.iloc[:0]
            target = np.nanmin(values) if kind == "min" else np.nanmax(values)
            kept = kept[values == target]
            if "number" in kept:
                kept = kept.sort_values("number")
            return kept.iloc[:1]
        if self.sort is not None:
            kept = kept.sort_values(self.sort, ascending=not self.descending, kind="stable")
        return kept

    def describe(self) -> str:
        """The query as text (`accuracy_drop<=0.01, lut<=20000; min lut`)."""
        parts = [", ".join(str(c) for c in self.where)] if self.where else []
        if self.best is not None:
            parts.append(f"{self.best[0]} {self.best[1]}")
        return "; ".join(parts) or "all points"


def _column(table: pd.DataFrame, name: str) -> np.ndarray:
    if name not in table:
        return np.full(len(table), math.nan)
    return table[name].to_numpy(dtype=float, na_value=np.nan)


def points_table(result: StudyResult, *, front: bool = True) -> pd.DataFrame:
    """The study's trials table (its front rows by default) with `accuracy_drop` and
    `compression_ratio` against the float model, sorted by the first objective."""
    table = with_relative_columns(result.table, result)
    if front and len(table):
        table = front_rows(table)
    if len(table) and result.objective_names:
        first = result.objective_names[0]
        table = table.sort_values(
            first, ascending=result.directions[0] == "minimize", kind="stable"
        )
    return table


def filter_names(result: StudyResult, table: pd.DataFrame | None = None) -> tuple[str, ...]:
    """The names a filter may use: objectives, metrics, `accuracy_drop`, `compression_ratio`."""
    table = points_table(result, front=False) if table is None else table
    names = list(result.objective_names)
    for record in result.records:
        names.extend(record.metrics)
    names.extend(c for c in ("accuracy_drop", "compression_ratio") if c in table)
    return tuple(dict.fromkeys(n for n in names if n not in NOT_METRICS))


def select_points(
    result: StudyResult,
    *,
    where: str | None = None,
    sort: str | None = None,
    minimize: str | None = None,
    maximize: str | None = None,
    front: bool = True,
) -> pd.DataFrame:
    """The front's rows (all evaluated trials with `front=False`) a query keeps.

    What `dse pareto`, `dse plot` and `dse export` pick points with.

    Args:
        result: the study.
        where: conditions, e.g. `"accuracy_drop<=0.01, lut<=20000"`.
        sort: a name to order by (`-name`: descending); default the first objective.
        minimize: keep the one point with the smallest value of this name.
        maximize: keep the one point with the largest value of this name.
        front: only the front's points (default) or every evaluated trial.

    Raises:
        ResultsError: a malformed filter or an unknown name (one line, listing the valid
            names).

    Example:
        >>> select_points(result, where="accuracy_drop<=0.01", minimize="lut")  # doctest: +SKIP
    """
    table = points_table(result, front=front)
    if not front and len(table):
        table = table[table["state"] == "COMPLETE"]
    query = PointQuery.parse(
        filter_names(result, table),
        where=where,
        sort=sort,
        minimize=minimize,
        maximize=maximize,
    )
    return query.apply(table)
