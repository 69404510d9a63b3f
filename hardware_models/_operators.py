"""The operator cost library: characterized operator costs and models fitted over widths.

An accelerator's cost is, to first order, the sum of the costs of its operators (multipliers,
adders, accumulators, custom-float units, codebook lookups, comparators). Each operator kind is
characterized at a grid of widths, by Yosys synthesis (:mod:`hardware_models._characterize`)
or from HLS reports, and :class:`OperatorLibrary` turns those rows into a predictor of LUT, FF,
DSP, BRAM and latency for any width: the measured value where the point was characterized,
an interpolation between characterized neighbours inside the grid, otherwise a least-squares
model on the kind's physically motivated features (:mod:`hardware_models._operator_kinds`).
Widths outside the characterized range are extrapolated by the same linear model, which is
reasonable for a few bits beyond the grid and only indicative beyond that.

The library prices resources and latency only; energy is `EnergyConstants`' (one energy model).
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LinearRegression

from hardware_models._errors import HardwareModelError, NotFittedError
from hardware_models._operator_kinds import (
    KINDS,
    FitError,
    Operator,
    OperatorCost,
    OperatorMeasurement,
    _features,
)

__all__ = ["OperatorLibrary"]

_FORMAT_VERSION = 1
RESOURCES: tuple[str, ...] = ("lut", "ff", "dsp", "bram_18k", "latency_cycles")
_DATA = Path(__file__).parent / "data"
_DATA_FILES = {
    "7series": "operators_7series.json",
    "ultrascale_plus": "operators_ultrascale_plus.json",
}


def _loo_error(x: np.ndarray, y: np.ndarray) -> FitError:
    """Leave-one-out error of a linear model on ``x`` -> ``y``."""
    n = len(y)
    if n < 2:
        return FitError(math.nan, math.nan, n)
    predictions = np.empty(n)
    for i in range(n):
        keep = np.arange(n) != i
        model = LinearRegression().fit(x[keep], y[keep])
        predictions[i] = max(0.0, float(model.predict(x[i : i + 1])[0]))
    errors = np.abs(predictions - y)
    nonzero = y != 0
    if nonzero.any():
        mape = float(np.mean(errors[nonzero] / np.abs(y[nonzero])) * 100.0)
    else:
        mape = 0.0 if not errors.any() else math.inf
    return FitError(mape=mape, max_abs=float(errors.max()), n_rows=n)


class OperatorLibrary:
    """Operator costs by kind, widths and device family, measured or fitted.

    Follows the scikit-learn estimator shape: the constructor stores, :meth:`fit` learns a
    per-(kind, family) linear model of every resource on the kind's features
    (:data:`KINDS`), :meth:`predict` answers. Prediction is exact (the mean of the measured
    rows) at characterized widths, interpolated between characterized neighbours inside the
    grid (monotone where the measurements are), and the fitted model beyond the
    characterized points, never below a narrower measured operator (an extrapolation,
    documented, not prevented).

    Args:
        rows: Characterization rows (:class:`OperatorMeasurement`), used by ``fit()`` when
            it is called without rows.
        provenance: Free-form record of how the rows were obtained (tool versions, command,
            date), written by :meth:`to_json`.

    Attributes:
        rows_: The rows fitted on.
        models_: ``(kind, family)`` -> resource -> fitted ``LinearRegression``.
        fit_error_: ``(kind, family)`` -> resource -> leave-one-out :class:`FitError`.

    Example:
        >>> lib = OperatorLibrary.default("7series")  # doctest: +SKIP
        >>> lib.predict("add", (16,), "7series").lut  # doctest: +SKIP
        16.0
    """

    def __init__(
        self,
        rows: Sequence[OperatorMeasurement] | None = None,
        *,
        provenance: Mapping[str, Any] | None = None,
    ) -> None:
        self.rows = rows
        self.provenance = provenance

    def fit(self, rows: Sequence[OperatorMeasurement] | None = None) -> OperatorLibrary:
        """Fit the per-(kind, family) resource models.

        Args:
            rows: Characterization rows; ``None`` uses the constructor's ``rows``.

        Returns:
            self.

        Raises:
            HardwareModelError: If there are no rows, a row has an unknown kind or bad widths.
        """
        chosen = self.rows if rows is None else rows
        if not chosen:
            raise HardwareModelError("OperatorLibrary.fit needs at least one operator row")
        groups: dict[tuple[str, str], list[OperatorMeasurement]] = defaultdict(list)
        for row in chosen:
            Operator.of(row.kind, row.widths)  # validates
            groups[(row.kind, row.family)].append(row)
        exact: dict[tuple[str, str, tuple[int, ...]], list[OperatorMeasurement]] = defaultdict(
            list
        )
        models: dict[tuple[str, str], dict[str, LinearRegression]] = {}
        errors: dict[tuple[str, str], dict[str, FitError]] = {}
        for (kind, family), group in sorted(groups.items()):
            models[(kind, family)] = {}
            errors[(kind, family)] = {}
            for resource in RESOURCES:
                x = np.stack([_features(kind, row.operator.widths, resource) for row in group])
                y = np.array([getattr(row, resource) for row in group], dtype=float)
                models[(kind, family)][resource] = LinearRegression().fit(x, y)
                errors[(kind, family)][resource] = _loo_error(x, y)
            for row in group:
                exact[(kind, family, row.operator.widths)].append(row)
        self.rows_ = tuple(chosen)
        self.models_ = models
        self.fit_error_ = errors
        self._exact = {
            key: {r: float(np.mean([getattr(row, r) for row in group])) for r in RESOURCES}
            for key, group in exact.items()
        }
        grids: dict[tuple[str, str], list[set[int]]] = {}
        for kind, family, widths in exact:
            dims = grids.setdefault((kind, family), [set() for _ in widths])
            for dim, width in zip(dims, widths, strict=True):
                dim.add(width)
        self._grids = {key: tuple(sorted(d) for d in dims) for key, dims in grids.items()}
        self._predicted: dict[tuple[str, str, tuple[int, ...]], OperatorCost] = {}
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "models_"):
            raise NotFittedError("OperatorLibrary is not fitted; call fit(rows) first")

    def kinds(self) -> tuple[str, ...]:
        """Return the operator kinds the fitted library can predict, sorted."""
        self._check_fitted()
        return tuple(sorted({kind for kind, _ in self.models_}))

    def families(self, kind: str | None = None) -> tuple[str, ...]:
        """Return the device families characterized (for ``kind`` if given), sorted."""
        self._check_fitted()
        return tuple(sorted({f for k, f in self.models_ if kind is None or k == kind}))

    def predict(self, kind: str, widths: Sequence[int], family: str) -> OperatorCost:
        """Predict the cost of one operator.

        Args:
            kind: Operator kind, a name of :data:`KINDS` characterized in this library.
            widths: The kind's widths (see :data:`KINDS`); order does not matter for
                multipliers.
            family: Device family characterized for this kind.

        Returns:
            The measured cost at characterized widths; inside the characterized grid an
            interpolation between its corners (``_interpolate``), or where a corner is missing
            the cost of the smallest characterized operator that is at least as wide
            (``_dominating``); beyond every characterized point the fitted model's (clipped at
            0, DSP and BRAM rounded: an extrapolation).

        Raises:
            NotFittedError: Before :meth:`fit`.
            HardwareModelError: On an unknown kind or family, or widths that do not fit the kind.
        """
        self._check_fitted()
        widths = tuple(widths)
        asked = (kind, family, widths)
        cached = self._predicted.get(asked)
        if cached is not None:  # a fitted library is fixed: each operator is priced once
            return cached
        if kind not in KINDS or kind not in self.kinds():
            raise HardwareModelError(
                f"unknown operator kind {kind!r}; known kinds: {list(self.kinds())}"
            )
        key = Operator.of(kind, widths)
        if (kind, family) not in self.models_:
            raise HardwareModelError(
                f"operator kind {kind!r} is not characterized for family {family!r}; "
                f"families: {list(self.families(kind))}"
            )
        measured = self._exact.get((kind, family, key.widths))
        if measured is not None:
            values = dict(measured)
        else:
            values = (
                self._interpolate(kind, family, key.widths)
                or self._dominating(kind, family, key.widths)
                or self._regress(kind, family, key.widths)
            )
        cost = OperatorCost(
            lut=values["lut"],
            ff=values["ff"],
            dsp=values["dsp"],
            bram_18k=values["bram_18k"],
            latency_cycles=values["latency_cycles"],
            exact=measured is not None,
        )
        self._predicted[asked] = cost
        return cost

    def _interpolate(
        self, kind: str, family: str, widths: tuple[int, ...]
    ) -> dict[str, float] | None:
        """Interpolate inside the characterized grid; None if a corner is missing.

        Each width is bracketed by the nearest characterized values below and above; when
        every corner of that box was characterized, LUT, FF and latency are interpolated
        multilinearly and the integer resources (DSP, BRAM) take the value of the upper corner,
        the conservative choice (a 5 x 5 multiplier needs what the 6 x 6 one has).
        """
        grids = self._grids[(kind, family)]
        brackets: list[tuple[int, int, float]] = []
        for width, grid in zip(widths, grids, strict=True):
            above = [g for g in grid if g >= width]
            below = [g for g in grid if g <= width]
            if not above or not below:
                return None
            low, high = max(below), min(above)
            brackets.append((low, high, 0.0 if high == low else (width - low) / (high - low)))
        values = dict.fromkeys(RESOURCES, 0.0)
        for corner in itertools.product((0, 1), repeat=len(brackets)):
            point = tuple(b[1] if c else b[0] for b, c in zip(brackets, corner, strict=True))
            row = self._exact.get((kind, family, Operator.of(kind, point).widths))
            if row is None:
                return None
            weight = math.prod(
                b[2] if c else 1.0 - b[2] for b, c in zip(brackets, corner, strict=True)
            )
            for resource in ("lut", "ff", "latency_cycles"):
                values[resource] += weight * row[resource]
            if all(corner):
                values["dsp"], values["bram_18k"] = row["dsp"], row["bram_18k"]
        return values

    def _dominating(
        self, kind: str, family: str, widths: tuple[int, ...]
    ) -> dict[str, float] | None:
        """Cost of the smallest characterized point at least as wide in every width, or None.

        Used inside the characterized range where the grid is too sparse to interpolate (the
        wide DSP multipliers): the enclosing operator is an upper bound that keeps DSP counts
        whole and predictions monotone.
        """
        above = self._points(kind, family, widths, lambda point, width: point >= width)
        if not above:
            return None
        best = min(above, key=lambda point: (sum(point), math.prod(point)))
        return dict(self._exact[(kind, family, best)])

    def _points(
        self,
        kind: str,
        family: str,
        widths: tuple[int, ...],
        keep: Callable[[int, int], bool],
    ) -> list[tuple[int, ...]]:
        """Characterized width tuples of (kind, family) with ``keep(point[i], widths[i])``."""
        return [
            point
            for (k, f, point) in self._exact
            if k == kind
            and f == family
            and all(keep(p, w) for p, w in zip(point, widths, strict=True))
        ]

    def _regress(self, kind: str, family: str, widths: tuple[int, ...]) -> dict[str, float]:
        """Fitted linear model, DSP and BRAM rounded to whole blocks.

        Each resource is at least that of the largest characterized operator that is no wider
        in any width (and at least 0), so an extrapolation never undercuts a measurement.
        """
        values = {  # the linear model's own arithmetic, without predict()'s input checks
            resource: max(
                0.0,
                float(_features(kind, widths, resource) @ model.coef_ + model.intercept_),
            )
            for resource, model in self.models_[(kind, family)].items()
        }
        values["dsp"] = float(round(values["dsp"]))
        values["bram_18k"] = float(round(values["bram_18k"]))
        below = self._points(kind, family, widths, lambda point, width: point <= width)
        if below:
            floor = self._exact[(kind, family, max(below, key=lambda p: (sum(p), math.prod(p))))]
            values = {resource: max(value, floor[resource]) for resource, value in values.items()}
        return values

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write the rows and provenance to ``path`` (the fitted models are refitted on load).

        Raises:
            NotFittedError: Before :meth:`fit`.
        """
        self._check_fitted()
        data = {
            "version": _FORMAT_VERSION,
            "provenance": dict(self.provenance or {}),
            "rows": [row.to_dict() for row in self.rows_],
        }
        Path(path).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> OperatorLibrary:
        """Read a library written by :meth:`to_json` and fit it.

        Raises:
            HardwareModelError: If the file is missing, not JSON, of another format version,
                or a row is malformed.
        """
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            if data.get("version") != _FORMAT_VERSION:
                raise HardwareModelError(
                    f"{path}: version: expected {_FORMAT_VERSION}, got {data.get('version')!r}"
                )
            rows = [OperatorMeasurement.from_dict(row) for row in data["rows"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            if isinstance(error, HardwareModelError):
                raise
            raise HardwareModelError(f"{path}: not an operator library: {error}") from error
        # Files written before dse 0.2 also hold `activity` and `energy_coefficients`, an
        # energy model of their own; energy is `EnergyConstants`' alone, so they are ignored.
        library = cls(rows, provenance=data.get("provenance"))
        return library.fit()

    @classmethod
    def default(cls, family: str = "7series") -> OperatorLibrary:
        """Load the shipped Yosys characterization of ``family`` (``bench/characterize.py``).

        Raises:
            HardwareModelError: If the family has no shipped library.
        """
        if family not in _DATA_FILES:
            raise HardwareModelError(
                f"no default operator library for family {family!r}; "
                f"available: {sorted(_DATA_FILES)}"
            )
        return cls.from_json(_DATA / _DATA_FILES[family])
