"""Real hls4ml designs as rows: read them, price them, fit the coefficients on them.

A row is one synthesized hls4ml design with what its HLS report says (:class:`DesignRow`).
The reader takes the CSV format of the public wa-hls4ml data set (repository
``jdweitz/wa-hls4ml``, ``data/concatenated_json_to_csv.csv`` and its 3-layer sibling; arXiv
2511.05615): ``model_string`` (Dense widths ``80-24-120``), ``prec`` (weight bits), ``rf``
(requested reuse factor), ``strategy``, ``TargetClockPeriod_hls`` (ns), ``WorstLatency_hls``
(cycles), ``BRAM_18K_hls``, ``DSP_hls``, ``FF_hls``, ``LUT_hls``. A user's own rows in that
format fit the coefficients of their tool version and part (:func:`fit_coefficients`).

Assumptions for those rows, from the data set's processing scripts and the numbers
themselves: activations, accumulators and results are hls4ml's default ``ap_fixed<16,6>``
(the flip-flop counts do not move with ``prec``: 0.4 % spread per network), weights
``prec`` bits, a ReLU after every Dense layer but the last, ``io_parallel``, the part an
Alveo U250 (``xcu250``).
"""

from __future__ import annotations

import csv
import datetime as _dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hardware_models._accelerator import AcceleratorModel
from hardware_models._datapath import DatapathConstants
from hardware_models._devices import get_device
from hardware_models._errors import HardwareModelError
from hardware_models._fit import (
    INTERCEPT,
    KNOWN,
    RESOURCE_FEATURES,
    Hls4mlCoefficients,
    fit_resource,
    grouped_predictions,
)

__all__ = [
    "DesignRow",
    "cross_validate",
    "design_model",
    "fit_coefficients",
    "price_rows",
    "read_design_rows",
]

ACTIVATION_BITS = 16
"""Bits of activations and accumulators in the wa-hls4ml rows (hls4ml's ``ap_fixed<16,6>``)."""

METRICS = ("LUT", "FF", "DSP", "BRAM_18K", "cycles")
"""What a row reports and the model predicts."""


@dataclass(frozen=True)
class DesignRow:
    """One synthesized hls4ml design of Dense layers and what its HLS report says.

    Attributes:
        network: The network's identity (``model_string``); rows of one network share it.
        widths: Neurons per layer boundary, input first (``(80, 24, 120)``: two Dense).
        weight_bits: Bits of every weight.
        reuse: The requested reuse factor (hls4ml moves it per layer).
        strategy: ``resource`` or ``latency``.
        io_type: ``io_parallel`` or ``io_stream``.
        clock_mhz: Target clock.
        part: FPGA part.
        reported: ``LUT``, ``FF``, ``DSP``, ``BRAM_18K`` (HLS estimates) and ``cycles`` (worst
            latency).
        activation_bits: Bits of activations, accumulators and results.
    """

    network: str
    widths: tuple[int, ...]
    weight_bits: int
    reuse: int
    strategy: str
    io_type: str
    clock_mhz: float
    part: str
    reported: Mapping[str, float] = field(default_factory=dict)
    activation_bits: int = ACTIVATION_BITS


def read_design_rows(
    path: str | Path, *, part: str = "xcu250", io_type: str = "io_parallel"
) -> list[DesignRow]:
    """Read rows of the wa-hls4ml CSV format (see the module docstring).

    Rows whose ``model_string`` has fewer than two widths, or whose ``model_name`` says
    ``conv`` (their ``model_string`` lists only the Dense layers, not the convolutions), are
    skipped: they cannot be priced from the file.

    Args:
        path: The CSV file.
        part: The FPGA part of every row.
        io_type: The I/O type of every row.

    Raises:
        HardwareModelError: If the file cannot be read or lacks a column (the message names
            the file, the row and the column).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise HardwareModelError(f"{path}: cannot read: {exc}") from None
    rows = []
    for number, record in enumerate(csv.DictReader(text.splitlines()), start=2):
        if "conv" in record.get("model_name", "").lower():
            continue
        try:
            widths = tuple(int(v) for v in record["model_string"].split("-"))
            if len(widths) < 2:
                continue
            period = float(record.get("TargetClockPeriod_hls") or 5.0)
            rows.append(
                DesignRow(
                    network=record["model_string"],
                    widths=widths,
                    weight_bits=int(float(record["prec"])),
                    reuse=int(float(record["rf"])),
                    strategy=(record.get("strategy") or "resource").strip().lower(),
                    io_type=io_type,
                    clock_mhz=1000.0 / period,
                    part=part,
                    reported={
                        "LUT": float(record["LUT_hls"]),
                        "FF": float(record["FF_hls"]),
                        "DSP": float(record["DSP_hls"]),
                        "BRAM_18K": float(record["BRAM_18K_hls"]),
                        "cycles": float(record["WorstLatency_hls"]),
                    },
                )
            )
        except (KeyError, ValueError) as exc:
            raise HardwareModelError(
                f"{path}: row {number}: bad or missing column: {exc}"
            ) from None
    return rows


def design_model(
    row: DesignRow,
    coefficients: Hls4mlCoefficients | None = None,
    *,
    datapath: DatapathConstants | None = None,
) -> tuple[AcceleratorModel, Any]:
    """The accelerator model and configuration of one row's network.

    Returns:
        ``(model, configuration)``: Dense layers ``fc1, fc2, ...``; weights ``FixedPoint(prec,
        1)``, activations and accumulators ``FixedPoint(16, 6)``; 16-bit network input.
    """
    from evaluators import Configuration, FixedPoint, LayerConfig, LayerShape

    shapes = {}
    for i, (n_in, n_out) in enumerate(zip(row.widths, row.widths[1:], strict=False), start=1):
        name = f"fc{i}"
        shapes[name] = LayerShape(name, "linear", (n_out, n_in), (n_in,), (n_out,), n_in * n_out)
    bits = row.activation_bits
    layer = LayerConfig(
        weights=FixedPoint(row.weight_bits, min(row.weight_bits, 1)),
        activations=FixedPoint(bits, min(bits, 6)),
        accumulator=FixedPoint(bits, min(bits, 6)),
    )
    model = AcceleratorModel(
        shapes,
        device=get_device(row.part),
        clock_mhz=row.clock_mhz,
        reuse_factor=row.reuse,
        strategy=row.strategy,
        io_type=row.io_type,
        coefficients=coefficients,
        datapath=datapath,
        input_bits=bits,
    )
    return model, Configuration.of(dict.fromkeys(shapes, layer))


def _structure(row: DesignRow, datapath: DatapathConstants | None) -> dict[str, float]:
    """Structural counts of a row summed over its layers, with the known parts of each metric
    (``control_lut``, ``control_ff``, ``loop_cycles``) and the derived DSP count."""
    model, config = design_model(row, _ZERO, datapath=datapath)
    constants = datapath or DatapathConstants()
    plans = model.plans(config)
    total: dict[str, float] = {}
    for plan in plans.values():
        for name, value in plan.features.items():
            total[name] = total.get(name, 0.0) + value
    total["control_lut"] = constants.control_lut * len(plans)
    total["control_ff"] = constants.control_ff * len(plans)
    total["loop_cycles"] = float(sum(p.positions * p.cycles_per_position for p in plans.values()))
    total["dsp"] = float(sum(p.dsp for p in plans.values()))
    return total


_ZERO = Hls4mlCoefficients(
    coefficients={r: dict.fromkeys(n, 0.0) for r, n in RESOURCE_FEATURES.items()},
    intercepts={},
)

_OFFSETS = {"lut": "control_lut", "ff": "control_ff", "cycles": "loop_cycles"}


def _offsets(resource: str, structures: Sequence[Mapping[str, float]]) -> list[float]:
    """The known part of each row's metric: control terms, loop cycles, :data:`KNOWN` costs."""
    known = KNOWN.get(resource, {})
    return [
        s.get(_OFFSETS.get(resource, ""), 0.0)
        + sum(c * s.get(name, 0.0) for name, c in known.items())
        for s in structures
    ]


_REPORTED = {"lut": "LUT", "ff": "FF", "bram": "BRAM_18K", "cycles": "cycles"}


def fit_coefficients(
    rows: Sequence[DesignRow],
    *,
    source: str = "",
    command: str = "",
    datapath: DatapathConstants | None = None,
) -> Hls4mlCoefficients:
    """Fit the coefficients of every resource on ``rows`` (all of them; no hold-out).

    Args:
        rows: The designs.
        source: Where the rows come from (recorded in the provenance).
        command: The command that regenerates this fit (recorded in the provenance).
        datapath: Architecture constants (the per-layer control terms are taken as known).

    Returns:
        Coefficients with their domain and provenance.

    Raises:
        HardwareModelError: With too few rows.
    """
    if not rows:
        raise HardwareModelError("fit_coefficients: no rows given")
    structures = [_structure(row, datapath) for row in rows]
    coefficients: dict[str, dict[str, float]] = {}
    intercepts: dict[str, float] = {}
    for resource, names in RESOURCE_FEATURES.items():
        offsets = _offsets(resource, structures)
        reported = [row.reported[_REPORTED[resource]] for row in rows]
        fitted, intercepts[resource] = fit_resource(
            structures, reported, names, offsets=offsets, intercept=INTERCEPT[resource]
        )
        coefficients[resource] = {**fitted, **KNOWN.get(resource, {})}
    errors = cross_validate(rows, datapath=datapath)
    return Hls4mlCoefficients(
        coefficients=coefficients,
        intercepts=intercepts,
        domain=_domain(rows, structures),
        provenance={
            "source": source,
            "rows": len(rows),
            "networks": len({r.network for r in rows}),
            "command": command,
            "date": _dt.date.today().isoformat(),
            "fitted_on": "HLS estimates (csynth), not post-synthesis counts",
            "known_not_fitted": KNOWN,
            "cross_validation": "GroupKFold(5) by network",
            "cross_validated_mape_percent": {
                k: round(v["mape"], 2) for k, v in summarize(rows, errors).items()
            },
        },
    )


def _domain(rows: Sequence[DesignRow], structures: Sequence[Mapping[str, float]]) -> dict:
    def span(values: Iterable[float]) -> list[float]:
        values = list(values)
        return [min(values), max(values)]

    widths = [w for row in rows for w in row.widths]
    reuses = []
    for row in rows:
        model, config = design_model(row, _ZERO)
        reuses += [p.reuse for p in model.plans(config).values()]
    return {
        "family": sorted({get_device(r.part).family for r in rows}),
        "tool": "Vitis HLS 2023.2 (wa-hls4ml runs)",
        "strategy": sorted({r.strategy for r in rows}),
        "io_type": sorted({r.io_type for r in rows}),
        "kinds": ["linear"],
        "clock_mhz": span(r.clock_mhz for r in rows),
        "weight_bits": span(r.weight_bits for r in rows),
        "input_bits": span(r.activation_bits for r in rows),
        "reuse": span(reuses),
        "layers": span(len(r.widths) - 1 for r in rows),
        "width": span(widths),
    }


def price_rows(
    rows: Sequence[DesignRow],
    coefficients: Hls4mlCoefficients | None = None,
    *,
    datapath: DatapathConstants | None = None,
) -> list[dict[str, float]]:
    """Predict ``LUT``, ``FF``, ``DSP``, ``BRAM_18K`` and ``cycles`` of every row.

    Args:
        rows: The designs.
        coefficients: ``None``: the shipped ones.
        datapath: Architecture constants.
    """
    out = []
    for row in rows:
        model, config = design_model(row, coefficients, datapath=datapath)
        cost = model.cost(config)
        cycles = sum(layer["cycles"] for layer in cost.per_layer.values())
        out.append(
            {
                "LUT": cost["lut"],
                "FF": cost["ff"],
                "DSP": cost["dsp"],
                "BRAM_18K": cost["bram"],
                "cycles": cycles,
            }
        )
    return out


def cross_validate(
    rows: Sequence[DesignRow], *, folds: int = 5, datapath: DatapathConstants | None = None
) -> list[dict[str, float]]:
    """Predictions of every row by coefficients fitted without its network.

    ``GroupKFold(folds)`` on :attr:`DesignRow.network`, one fit per fold and resource.
    BRAM_18K is rounded per design to the half blocks a report counts; DSP is derived, not
    fitted.
    """
    structures = [_structure(row, datapath) for row in rows]
    groups = [row.network for row in rows]
    out: list[dict[str, float]] = [{} for _ in rows]
    for resource, names in RESOURCE_FEATURES.items():
        offsets = _offsets(resource, structures)
        reported = [row.reported[_REPORTED[resource]] for row in rows]
        predicted = grouped_predictions(
            structures,
            reported,
            names,
            groups,
            offsets=offsets,
            folds=folds,
            intercept=INTERCEPT[resource],
        )
        for i, value in enumerate(predicted):
            if resource == "bram":
                value = max(0.0, math.floor(2 * value + 0.5) / 2)
            out[i][_REPORTED[resource]] = float(value)
    for i, s in enumerate(structures):
        out[i]["DSP"] = s["dsp"]
    return out


def summarize(
    rows: Sequence[DesignRow], predictions: Sequence[Mapping[str, float]]
) -> dict[str, dict[str, float]]:
    """Error figures per metric: MAPE, median APE, median ratio, Spearman, share equal.

    Rows whose reported value is 0 are left out of the percentage errors (and counted in
    ``equal``); ``equal`` is the share of rows predicted exactly (BRAM_18K to the half block,
    DSP to the unit, others rounded to the unit).
    """
    from scipy.stats import spearmanr

    out: dict[str, dict[str, float]] = {}
    for metric in METRICS:
        y = np.array([row.reported[metric] for row in rows], dtype=float)
        p = np.array([pred[metric] for pred in predictions], dtype=float)
        nonzero = y > 0
        ape = np.abs(p[nonzero] - y[nonzero]) / y[nonzero]
        ratio = p[nonzero] / y[nonzero]
        rho = spearmanr(p, y).statistic if len(y) > 2 and np.ptp(y) > 0 else math.nan
        out[metric] = {
            "rows": int(len(y)),
            "mape": float(100 * ape.mean()) if ape.size else math.nan,
            "median_ape": float(100 * np.median(ape)) if ape.size else math.nan,
            "median_ratio": float(np.median(ratio)) if ratio.size else math.nan,
            "spearman": float(rho),
            "equal": float(np.mean(np.round(2 * p) == np.round(2 * y))),
        }
    return out
