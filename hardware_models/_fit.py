"""Fitted coefficients of the hls4ml layer model: :class:`Hls4mlCoefficients` and their fit.

The structure of a layer (multipliers, multiplexer inputs, ROM and register bits, cycles) is
derived from hls4ml's templates (:mod:`hardware_models._hls4ml`). What one unit of each
structural count costs in LUTs, flip-flops and block RAMs is what the HLS tool decides, so it
is fitted on real reports: one non-negative coefficient per (resource, structural count), plus
a design-level intercept, by least squares on *relative* error (``sample_weight = 1 / y^2``:
a 3,000-LUT design weighs as much as a 40,000-LUT one). Cross-validation holds out whole
networks (``GroupKFold`` on the network: the same network appears at several reuse factors
and precisions), so a row is never scored by coefficients fitted on it.

The shipped coefficients (``data/hls4ml_coefficients.json``) carry their provenance (source
rows, command, date, cross-validated errors) and the domain they were fitted on; the model
warns outside it (:meth:`~hardware_models.AcceleratorModel.validity`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from hardware_models._errors import HardwareModelError
from hardware_models._hls4ml import FEATURES

__all__ = [
    "INTERCEPT",
    "KNOWN",
    "RESOURCE_FEATURES",
    "Hls4mlCoefficients",
    "fit_resource",
    "grouped_predictions",
]

_SCHEMA_VERSION = 1

RESOURCE_FEATURES: dict[str, tuple[str, ...]] = {
    "lut": (
        "mux_bits",
        "rom_lut_bits",
        "acc_bits",
        "activation_bits",
        "line_buffer_bits",
        "multipliers",
        "layers",
    ),
    "ff": (
        "input_bits",
        "output_bits",
        "acc_bits",
        "activation_bits",
        "multipliers",
        "layers",
    ),
    "bram": (),
    "cycles": ("layers",),
}
"""Structural counts each resource is fitted on (``cycles``: the part of latency not in
``positions x R``)."""

KNOWN: dict[str, dict[str, float]] = {
    "lut": {"adder_bits": 1.0, "fabric_mul_bits": 0.64},
    "bram": {"weight_bram": 1.0, "index_bram": 1.0},
}
"""Costs taken as known, not fitted: an adder bit is one LUT on the carry chain (UG574,
UltraScale CLB: a LUT6 and one CARRY8 stage per bit; UG474 for 7-series' CARRY4); a
multiplier in LUTs costs 0.64 LUT per partial-product bit (the 8 x 8 fabric multiplier of the
aa08453 Vivado HLS 2020.1 report: 41 LUT / 64). The wa-hls4ml rows cannot separate them
from the per-multiplier cost (their accumulators are all 16 bits, their fabric multipliers
few), so fitting them would let a per-lane overhead of the resource strategy pass for adder
cost and overprice fully parallel (latency-strategy) layers. BRAM_18K is counted, not
fitted: ``weight_bram`` and ``index_bram`` are block counts derived per memory
(:func:`~hardware_models._hls4ml.weight_rom_bram`,
:func:`~hardware_models._hls4ml.index_table_bram`), so each costs exactly one BRAM_18K per
unit (a least-squares coefficient on relative error underpriced the designs with weights in
block RAM 3 to 7 times)."""

INTERCEPT = {"lut": True, "ff": True, "bram": False, "cycles": True}
"""Whether a resource has a design-level constant (BRAM_18K: none, every block is a memory)."""

_TARGETS = ("lut", "ff", "bram", "cycles")


@dataclass(frozen=True)
class Hls4mlCoefficients:
    """Cost of one unit of each structural count, per resource (fitted; see the module).

    Attributes:
        coefficients: resource (``lut``, ``ff``, ``bram``, ``cycles``) -> structural count ->
            cost per unit (LUTs, flip-flops, BRAM_18K, cycles).
        intercepts: resource -> design-level constant.
        domain: What the rows covered: ``family``, ``tool``, ``strategy``, ``io_type``,
            ``kinds``, ``clock_mhz`` [min, max], ``weight_bits`` [min, max],
            ``input_bits`` [min, max], ``reuse`` [min, max] (the reuse factor hls4ml used),
            ``layers`` [min, max], ``width`` [min, max] (neurons of a layer).
        provenance: Source rows, command, date, cross-validated errors.
        version: Schema version.

    Example:
        >>> coef = Hls4mlCoefficients.default()
        >>> sorted(coef.coefficients)
        ['bram', 'cycles', 'ff', 'lut']
    """

    coefficients: Mapping[str, Mapping[str, float]]
    intercepts: Mapping[str, float]
    domain: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    version: int = _SCHEMA_VERSION

    def predict(self, resource: str, features: Mapping[str, float]) -> float:
        """``sum(coefficient x count)`` for one layer or design (the design-level constant is
        :attr:`intercepts`, added once per design by the caller).

        Args:
            resource: ``lut``, ``ff``, ``bram`` or ``cycles``.
            features: Structural counts (missing ones count 0).

        Raises:
            HardwareModelError: On an unknown resource.
        """
        if resource not in self.coefficients:
            raise HardwareModelError(
                f"Hls4mlCoefficients: no coefficients for {resource!r}; "
                f"known: {sorted(self.coefficients)}"
            )
        coef = self.coefficients[resource]
        return float(sum(value * features.get(name, 0.0) for name, value in coef.items()))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary that :meth:`from_dict` reads back."""
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Hls4mlCoefficients:
        """Rebuild coefficients from :meth:`to_dict` output.

        Raises:
            HardwareModelError: On another schema version, a missing field, or a structural
                count the model no longer computes (a file fitted on other counts would price
                them at 0).
        """
        if data.get("version") != _SCHEMA_VERSION:
            raise HardwareModelError(
                f"Hls4mlCoefficients.from_dict: unsupported version {data.get('version')!r}, "
                f"expected {_SCHEMA_VERSION}"
            )
        try:
            coefficients = cls(
                coefficients={
                    r: {k: float(v) for k, v in c.items()} for r, c in data["coefficients"].items()
                },
                intercepts={r: float(v) for r, v in data["intercepts"].items()},
                domain=dict(data.get("domain", {})),
                provenance=dict(data.get("provenance", {})),
            )
        except (KeyError, AttributeError, TypeError, ValueError) as exc:
            raise HardwareModelError(f"Hls4mlCoefficients.from_dict: malformed: {exc}") from None
        for resource, values in coefficients.coefficients.items():
            unknown = sorted(set(values) - set(FEATURES))
            if unknown:
                raise HardwareModelError(
                    f"Hls4mlCoefficients.from_dict: coefficients.{resource}: unknown structural "
                    f"counts {unknown} (known: {list(FEATURES)}); refit them with "
                    "`python bench/hls4ml_designs.py --write-coefficients`"
                )
        return coefficients

    @classmethod
    def from_json(cls, path: str | Path) -> Hls4mlCoefficients:
        """Read coefficients written by :meth:`to_json`.

        Raises:
            HardwareModelError: If the file cannot be read or is malformed.
        """
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise HardwareModelError(f"{path}: cannot read coefficients: {exc}") from None
        return cls.from_dict(data)

    def to_json(self, path: str | Path) -> None:
        """Write the coefficients, domain and provenance as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def default(cls) -> Hls4mlCoefficients:
        """The shipped coefficients (``hardware_models/data/hls4ml_coefficients.json``)."""
        return _default()


@cache
def _default() -> Hls4mlCoefficients:
    text = resources.files("hardware_models").joinpath("data/hls4ml_coefficients.json")
    return Hls4mlCoefficients.from_dict(json.loads(text.read_text("utf-8")))


def fit_resource(
    features: Sequence[Mapping[str, float]],
    reported: Sequence[float],
    names: Sequence[str],
    *,
    offsets: Sequence[float] | None = None,
    intercept: bool = True,
) -> tuple[dict[str, float], float]:
    """Fit one resource: non-negative coefficients on ``names``, free intercept.

    Minimizes ``sum(((offset + intercept + X c) - y) / y)^2`` over ``c >= 0`` (scikit-learn
    ``LinearRegression(positive=True)`` with ``sample_weight = 1 / y^2``); rows with ``y <= 0``
    are weighted as ``y = 1``. The per-layer constant ``layers`` may be negative; a count
    that is constant and non-zero over the rows replaces the intercept (fixed at 0).

    Args:
        features: Structural counts of each design (summed over its layers).
        reported: The reported value of each design.
        names: The counts to fit on.
        offsets: A known part of each prediction (the per-layer control constants), removed
            from the target before fitting.
        intercept: Fit a design-level constant.

    Returns:
        ``(coefficients, intercept)``.

    Raises:
        HardwareModelError: With fewer rows than coefficients.
    """
    if not names:  # nothing to fit: the resource is counted (see KNOWN)
        return {}, 0.0
    from sklearn.linear_model import LinearRegression

    x = np.array([[row.get(n, 0.0) for n in names] for row in features], dtype=float)
    y = np.asarray(reported, dtype=float)
    if len(y) <= len(names):
        raise HardwareModelError(
            f"fit_resource: {len(y)} rows for {len(names)} coefficients; need more rows"
        )
    off = np.zeros_like(y) if offsets is None else np.asarray(offsets, dtype=float)
    weight = 1.0 / np.maximum(y, 1.0) ** 2
    used = np.abs(x).max(axis=0) > 0
    constant = used & (x.std(axis=0) == 0)
    # ``layers`` may take either sign (a per-layer constant, not a physical count): it enters
    # twice, once negated, under the non-negativity constraint. When it never varies it takes
    # the intercept's place, so the per-layer constant extrapolates to other layer counts.
    free = [i for i, n in enumerate(names) if n == "layers" and used[i]]
    columns = [x[:, used]] + [-x[:, free]]
    design = np.hstack(columns)
    model = LinearRegression(positive=True, fit_intercept=intercept and not constant.any())
    model.fit(design, y - off, sample_weight=weight)
    coef = np.zeros(len(names))
    coef[used] = model.coef_[: int(used.sum())]
    for k, i in enumerate(free):
        coef[i] -= model.coef_[int(used.sum()) + k]
    intercept = float(model.intercept_) if model.fit_intercept else 0.0
    return {n: float(c) for n, c in zip(names, coef, strict=True)}, intercept


def grouped_predictions(
    features: Sequence[Mapping[str, float]],
    reported: Sequence[float],
    names: Sequence[str],
    groups: Sequence[str],
    *,
    offsets: Sequence[float] | None = None,
    folds: int = 5,
    intercept: bool = True,
) -> np.ndarray:
    """Cross-validated predictions: each row predicted by a fit that never saw its network.

    ``GroupKFold(folds)`` on ``groups`` (the network: ``model_string`` in the wa-hls4ml rows).

    Returns:
        The predictions, in row order.
    """
    from sklearn.model_selection import GroupKFold

    y = np.asarray(reported, dtype=float)
    off = np.zeros_like(y) if offsets is None else np.asarray(offsets, dtype=float)
    out = np.full(len(y), math.nan)
    n_groups = len(set(groups))
    splitter = GroupKFold(n_splits=min(folds, n_groups))
    for train, test in splitter.split(np.zeros(len(y)), y, list(groups)):
        coef, const = fit_resource(
            [features[i] for i in train], y[train], names, offsets=off[train], intercept=intercept
        )
        for i in test:
            out[i] = off[i] + const + sum(c * features[i].get(n, 0.0) for n, c in coef.items())
    return out


def feature_names() -> tuple[str, ...]:
    """Every structural count a plan provides (:data:`hardware_models._hls4ml.FEATURES`)."""
    return FEATURES
