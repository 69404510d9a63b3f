"""The operator vocabulary: operator kinds, their widths and cost features, and the rows.

Characterization (:mod:`hardware_models._characterize`), the mapping of HLS report operators
and the cost library (:mod:`hardware_models._operators`) all name an operator as a kind at
given widths (:class:`Operator`). Each kind of :data:`KINDS` says what its widths mean and
which physically motivated features model its cost (``W1 * W2`` for multipliers, ``W`` for
adders, ``(M + 4) log2(M + 4)`` for the alignment shifter of a float adder...), so a new kind
is added here, in one place, without touching the fitting.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from hardware_models._errors import HardwareModelError

__all__ = [
    "KINDS",
    "FitError",
    "Operator",
    "OperatorCost",
    "OperatorKind",
    "OperatorMeasurement",
]


@dataclass(frozen=True)
class OperatorKind:
    """What the widths of an operator kind mean and which features model its cost.

    Attributes:
        name: Kind name (``"mul_lut"``).
        widths: Names of the width tuple entries, e.g. ``("W1", "W2")``.
        description: One line for humans.
        features: Width tuple -> regressors of the linear cost model.
        commutative: Width order does not matter (the tuple is sorted ascending).
        dsp_features: Regressors of the DSP count where it follows the DSP48 tiling rather
            than the logic (``None``: ``features``).
    """

    name: str
    widths: tuple[str, ...]
    description: str
    features: Callable[[tuple[int, ...]], tuple[float, ...]]
    commutative: bool = False
    dsp_features: Callable[[tuple[int, ...]], tuple[float, ...]] | None = None

    @property
    def arity(self) -> int:
        """Number of widths the kind takes."""
        return len(self.widths)


def _dsp_tiles(a: int, b: int) -> float:
    """DSP48 slices of an ``a x b`` signed multiplier tiled on 18 x 25-bit multipliers."""
    low, high = sorted((a, b))
    return float(math.ceil(low / 18) * math.ceil(high / 25))


def _shifter(m: int) -> float:
    return (m + 4) * math.log2(m + 4)


_KIND_LIST = (
    OperatorKind("add", ("W",), "signed W-bit adder, W+1-bit sum", lambda w: (w[0],)),
    OperatorKind(
        "accumulate",
        ("W_in", "W_acc"),
        "accumulator adding a W_in-bit value into a W_acc-bit sum",
        lambda w: (w[0], w[1]),
    ),
    OperatorKind(
        "mul_lut",
        ("W1", "W2"),
        "signed W1 x W2 multiplier in LUTs and carry chains",
        lambda w: (w[0] * w[1], w[0] + w[1]),
        commutative=True,
    ),
    OperatorKind(
        "mul_dsp",
        ("W1", "W2"),
        "signed W1 x W2 multiplier with DSP48 inference",
        lambda w: (w[0] * w[1], w[0] + w[1], _dsp_tiles(w[0], w[1])),
        commutative=True,
        dsp_features=lambda w: (_dsp_tiles(w[0], w[1]),),
    ),
    OperatorKind(
        "fadd",
        ("E", "M"),
        "custom float adder, E exponent and M mantissa bits",
        lambda w: (w[1], w[0], _shifter(w[1])),
    ),
    OperatorKind(
        "fmul_dsp",
        ("E", "M"),
        "custom float multiplier with DSP48 inference for the significand product",
        lambda w: ((w[1] + 1) ** 2, w[1], w[0], _dsp_tiles(w[1] + 1, w[1] + 1)),
        dsp_features=lambda w: (_dsp_tiles(w[1] + 1, w[1] + 1),),
    ),
    OperatorKind(
        "fmul_lut",
        ("E", "M"),
        "custom float multiplier in LUTs",
        lambda w: ((w[1] + 1) ** 2, w[1], w[0]),
    ),
    OperatorKind(
        "lookup",
        ("k", "B"),
        "weight-sharing codebook: k entries of B bits, LUT multiplexer",
        lambda w: (w[0] * w[1], w[1], w[1] * math.log2(w[0])),
    ),
    OperatorKind("compare", ("W",), "signed W-bit comparison a > b", lambda w: (w[0],)),
    OperatorKind("relu", ("W",), "ReLU of a signed W-bit value", lambda w: (w[0],)),
    OperatorKind("max", ("W",), "signed W-bit two-input maximum (pooling)", lambda w: (w[0],)),
)

KINDS: dict[str, OperatorKind] = {kind.name: kind for kind in _KIND_LIST}
"""Every operator kind the library knows, by name."""


def _unknown_kind(kind: str) -> HardwareModelError:
    return HardwareModelError(f"unknown operator kind {kind!r}; known kinds: {sorted(KINDS)}")


@dataclass(frozen=True)
class Operator:
    """An operator kind at given widths: the key of a characterization.

    Args:
        kind: A name of :data:`KINDS`.
        widths: The kind's widths in bits (or entries for ``lookup``'s ``k``).

    Example:
        >>> Operator.of("mul_lut", (8, 4))
        Operator(kind='mul_lut', widths=(4, 8))
    """

    kind: str
    widths: tuple[int, ...]

    @classmethod
    def of(cls, kind: str, widths: Iterable[int]) -> Operator:
        """Validate ``kind`` and ``widths`` and return the canonical key (sorted if commutative).

        Raises:
            HardwareModelError: On an unknown kind or a wrong number of non-positive widths.
        """
        if kind not in KINDS:
            raise _unknown_kind(kind)
        spec = KINDS[kind]
        values = tuple(int(w) for w in widths)
        if len(values) != spec.arity or any(w < 1 for w in values):
            raise HardwareModelError(
                f"operator kind {kind!r} takes {spec.arity} positive widths {spec.widths}, "
                f"got {tuple(widths)}"
            )
        return cls(kind, tuple(sorted(values)) if spec.commutative else values)


@dataclass(frozen=True)
class OperatorMeasurement:
    """One characterized operator: its resources on one device family.

    Attributes:
        kind: Operator kind (a name of :data:`KINDS`).
        widths: Widths in the kind's order (see :data:`KINDS`).
        family: ``"7series"`` or ``"ultrascale_plus"`` (any string for report rows).
        lut: LUTs.
        ff: Flip-flops.
        dsp: DSP slices.
        bram_18k: Block RAM in 18 Kb units.
        latency_cycles: Latency in clock cycles.
        source: Where the numbers come from (tool and command, or report file and operator).
    """

    kind: str
    widths: tuple[int, ...]
    family: str
    lut: float
    ff: float
    dsp: float
    bram_18k: float
    latency_cycles: float
    source: str

    @property
    def operator(self) -> Operator:
        """The canonical :class:`Operator` key of this row."""
        return Operator.of(self.kind, self.widths)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (widths as a list)."""
        data = asdict(self)
        data["widths"] = list(self.widths)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OperatorMeasurement:
        """Inverse of :meth:`to_dict`."""
        return cls(
            kind=str(data["kind"]),
            widths=tuple(int(w) for w in data["widths"]),
            family=str(data["family"]),
            lut=float(data["lut"]),
            ff=float(data["ff"]),
            dsp=float(data["dsp"]),
            bram_18k=float(data["bram_18k"]),
            latency_cycles=float(data["latency_cycles"]),
            source=str(data.get("source", "")),
        )


@dataclass(frozen=True)
class OperatorCost:
    """Predicted cost of one operator instance.

    Attributes:
        lut: LUTs.
        ff: Flip-flops.
        dsp: DSP slices.
        bram_18k: Block RAM in 18 Kb units.
        latency_cycles: Latency in clock cycles.
        exact: True when the widths were characterized (measured value, not a fit).
    """

    lut: float
    ff: float
    dsp: float
    bram_18k: float
    latency_cycles: float
    exact: bool


@dataclass(frozen=True)
class FitError:
    """Leave-one-out error of one fitted resource model.

    Attributes:
        mape: Mean absolute percentage error in percent, over rows with a non-zero measured
            value (0 where every measured value is 0 and predicted exactly).
        max_abs: Largest absolute error, in the resource's unit (LUTs, FFs...).
        n_rows: Rows the model was fitted on; with fewer than 2 both errors are NaN.
    """

    mape: float
    max_abs: float
    n_rows: int


def _features(kind: str, widths: tuple[int, ...], resource: str = "lut") -> np.ndarray:
    """Regressors of ``kind`` at ``widths`` for ``resource`` (the DSP tiling for ``dsp``)."""
    spec = KINDS[kind]
    if resource == "dsp" and spec.dsp_features is not None:
        return np.asarray(spec.dsp_features(widths), dtype=float)
    return np.asarray(spec.features(widths), dtype=float)
