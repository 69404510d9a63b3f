"""Accuracy of the cost model against real HLS reports: operators and whole layers.

(a) Every operator row of the shared reports (``/work/shared/hls_reports``) that maps to an
operator kind of the library is predicted with the shipped Yosys library of the report's device
family, and LUT / FF / DSP are compared with the HLS tool's own estimate. Besides the raw
prediction, a per-kind LUT factor (``HlsCalibration`` on (predicted, reported) pairs) is
evaluated honestly: leave-one-row-out (factor from the other rows of the kind) and the stricter
leave-one-report-out (factor from the rows of the kind in the *other* reports only; a kind seen
in one report only stays uncalibrated).

(b) The three single-layer reports are rebuilt as layers (shapes and formats read from the
report and its README row, assumptions printed) and the accelerator model's whole-layer
estimate is compared with the report's totals.

Usage::

    python bench/cost_model.py [--reports /work/shared/hls_reports] [--markdown]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from evaluators import Configuration, FixedPoint, LayerConfig, LayerShape  # noqa: E402
from hardware_models import (  # noqa: E402
    AcceleratorModel,
    HlsCalibration,
    OperatorLibrary,
    OperatorMeasurement,
    get_device,
    read_report,
    rows_from_reports,
)

DEFAULT_REPORTS = Path("/work/shared/hls_reports")


@dataclass(frozen=True)
class Compared:
    """One reported operator row with its prediction."""

    report: str
    kind: str
    widths: tuple[int, ...]
    lut: float
    ff: float
    dsp: float
    predicted_lut: float
    predicted_ff: float
    predicted_dsp: float


def operator_rows(reports: Path) -> list[OperatorMeasurement]:
    """Operator rows of every report, each file read on its own with its part's family.

    A design written both as ``.xml`` and ``.rpt`` is counted once, from the file with more
    operator rows (the per-module XML of Vivado HLS 2020.1 and Vitis 2022.1 carries none).
    """
    best: dict[str, list[OperatorMeasurement]] = {}
    for path in sorted(reports.iterdir()):
        if path.suffix not in (".xml", ".rpt"):
            continue
        report = read_report(path)
        if report.utilization_kind != "hls_estimate":
            continue
        family = get_device(report.part).family
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / path.name).symlink_to(path)
            rows = rows_from_reports(folder, family=family)
        stem = path.with_suffix("").name
        if len(rows) > len(best.get(stem, [])):
            best[stem] = rows
    return [row for rows in best.values() for row in rows]


def compare_operators(rows: list[OperatorMeasurement]) -> list[Compared]:
    libraries = {family: OperatorLibrary.default(family) for family in {r.family for r in rows}}
    out = []
    for row in rows:
        cost = libraries[row.family].predict(row.kind, row.widths, row.family)
        report = row.source.split(": ")[0].removeprefix("hls report ").split("__")[0]
        out.append(
            Compared(
                report, row.kind, row.widths, row.lut, row.ff, row.dsp, cost.lut, cost.ff, cost.dsp
            )
        )
    return out


def _factor(pairs: list[tuple[float, float]]) -> float | None:
    if not pairs:
        return None
    calibration = HlsCalibration(("LUT",), min_pairs=1)
    calibration.fit([({"LUT": p}, {"LUT": r}) for p, r in pairs])
    return calibration.factors_["LUT"]


def _mape(pairs: list[tuple[float, float]]) -> float:
    errors = [abs(p - r) / r for p, r in pairs if r > 0]
    return 100.0 * sum(errors) / len(errors) if errors else math.nan


def summarize(compared: list[Compared]) -> list[dict[str, object]]:
    by_kind: dict[str, list[Compared]] = defaultdict(list)
    for row in compared:
        by_kind[row.kind].append(row)
    table = []
    for kind, rows in sorted(by_kind.items()):
        raw = [(r.predicted_lut, r.lut) for r in rows]
        loo_row, loo_report = [], []
        for i, row in enumerate(rows):
            others = [(r.predicted_lut, r.lut) for j, r in enumerate(rows) if j != i]
            f = _factor(others)
            loo_row.append((row.predicted_lut * (f if f is not None else 1.0), row.lut))
            foreign = [(r.predicted_lut, r.lut) for r in rows if r.report != row.report]
            g = _factor(foreign)
            loo_report.append((row.predicted_lut * (g if g is not None else 1.0), row.lut))
        table.append(
            {
                "kind": kind,
                "rows": len(rows),
                "reports": len({r.report for r in rows}),
                "lut_mape_raw_%": round(_mape(raw), 1),
                "lut_mape_loo_row_%": round(_mape(loo_row), 1),
                "lut_mape_loo_report_%": round(_mape(loo_report), 1),
                "ff_mean_abs": round(sum(abs(r.predicted_ff - r.ff) for r in rows) / len(rows), 1),
                "dsp_exact": f"{sum(r.predicted_dsp == r.dsp for r in rows)}/{len(rows)}",
                "factor_all": round(_factor(raw) or 1.0, 3),
            }
        )
    all_raw = [(r.predicted_lut, r.lut) for r in compared]
    table.append(
        {
            "kind": "all",
            "rows": len(compared),
            "reports": len({r.report for r in compared}),
            "lut_mape_raw_%": round(_mape(all_raw), 1),
            "lut_mape_loo_row_%": "",
            "lut_mape_loo_report_%": "",
            "ff_mean_abs": round(
                sum(abs(r.predicted_ff - r.ff) for r in compared) / len(compared), 1
            ),
            "dsp_exact": f"{sum(r.predicted_dsp == r.dsp for r in compared)}/{len(compared)}",
            "factor_all": "",
        }
    )
    return table


def _report_of(row: OperatorMeasurement) -> str:
    return row.source.split(": ")[0].removeprefix("hls report ").split("__")[0]


def reports_library(rows: list[OperatorMeasurement]) -> list[dict[str, object]]:
    """Source (a) of the issue: a library characterized from the reports themselves.

    What `python -m dse characterize --reports DIR` builds, evaluated without the row it
    predicts: leave-one-row-out (a library fitted on every other row) and leave-one-report-out
    (fitted on the other reports only; a kind/family absent from them falls back to the
    shipped Yosys library, as `hardware.library` does in a study).
    """
    defaults = {family: OperatorLibrary.default(family) for family in {r.family for r in rows}}

    def predict(library: OperatorLibrary, row: OperatorMeasurement) -> tuple[float, float, bool]:
        if row.kind in library.kinds() and row.family in library.families(row.kind):
            cost = library.predict(row.kind, row.widths, row.family)
            own = True
        else:
            cost = defaults[row.family].predict(row.kind, row.widths, row.family)
            own = False
        return cost.lut, cost.dsp, own

    reports = {_report_of(r) for r in rows}
    by_report = {
        name: OperatorLibrary([r for r in rows if _report_of(r) != name]).fit() for name in reports
    }
    results: dict[str, list[tuple[OperatorMeasurement, tuple, tuple]]] = defaultdict(list)
    for i, row in enumerate(rows):
        loo_row = OperatorLibrary(rows[:i] + rows[i + 1 :]).fit()
        results[row.kind].append(
            (row, predict(loo_row, row), predict(by_report[_report_of(row)], row))
        )
    table = []
    for kind, items in sorted(results.items()):
        row_pairs = [(p[0], r.lut) for r, p, _ in items]
        report_pairs = [(q[0], r.lut) for r, _, q in items]
        table.append(
            {
                "kind": kind,
                "rows": len(items),
                "lut_mape_loo_row_%": round(_mape(row_pairs), 1),
                "dsp_exact_loo_row": f"{sum(p[1] == r.dsp for r, p, _ in items)}/{len(items)}",
                "lut_mape_loo_report_%": round(_mape(report_pairs), 1),
                "dsp_exact_loo_report": f"{sum(q[1] == r.dsp for r, _, q in items)}/{len(items)}",
                "rows_from_other_reports": sum(q[2] for _, _, q in items),
            }
        )
    every = [item for items in results.values() for item in items]
    table.append(
        {
            "kind": "all",
            "rows": len(every),
            "lut_mape_loo_row_%": round(_mape([(p[0], r.lut) for r, p, _ in every]), 1),
            "dsp_exact_loo_row": f"{sum(p[1] == r.dsp for r, p, _ in every)}/{len(every)}",
            "lut_mape_loo_report_%": round(_mape([(q[0], r.lut) for r, _, q in every]), 1),
            "dsp_exact_loo_report": f"{sum(q[1] == r.dsp for r, _, q in every)}/{len(every)}",
            "rows_from_other_reports": sum(q[2] for _, _, q in every),
        }
    )
    return table


def grouped_rows(compared: list[Compared]) -> list[dict[str, object]]:
    """Every row, identical ones (same report, kind, widths, numbers) merged with a count."""
    counts: dict[Compared, int] = defaultdict(int)
    for row in compared:
        counts[row] += 1
    return [
        {
            "report": r.report,
            "kind": r.kind,
            "widths": "x".join(map(str, r.widths)),
            "n": n,
            "lut": int(r.lut),
            "lut_pred": round(r.predicted_lut, 1),
            "ff": int(r.ff),
            "ff_pred": round(r.predicted_ff, 1),
            "dsp": int(r.dsp),
            "dsp_pred": int(r.predicted_dsp),
        }
        for r, n in sorted(counts.items(), key=lambda item: (item[0].kind, item[0].report))
    ]


@dataclass(frozen=True)
class LayerCase:
    """A single-layer report rebuilt as a layer for the accelerator model."""

    name: str
    report: str
    shape: LayerShape
    layer: LayerConfig
    input_bits: int | None
    reuse_factor: int
    assumptions: str
    strategy: str = "resource"
    io_type: str = "io_parallel"


def _conv(name: str, c_in: int, c_out: int, k: int, size_in: int, size_out: int) -> LayerShape:
    return LayerShape(
        name,
        "conv",
        (c_out, c_in, k, k),
        (c_in, size_in, size_in),
        (c_out, size_out, size_out),
        c_out * size_out * size_out * c_in * k * k,
    )


LAYERS = (
    LayerCase(
        "aa08453 conv1",
        "aa08453__CNN-on-FPGA__conv1_csynth_vivadohls2020.1_xc7z020.rpt",
        _conv("conv1", 1, 8, 3, 28, 28),
        LayerConfig(weights=FixedPoint(8, 1), activations=FixedPoint(8, 4)),
        8,
        8,
        "28x28x1 input (the 784 x 8 temp_V buffer), 3x3 kernel (9 fabric 8x8 multipliers), "
        "8 output channels (Loop 2 trip 6272 = 8 x 784, same padding); 8-bit fixed weights "
        "and activations; 9 multipliers = reuse 8 of the 72 MACs per position; a hand-written "
        "streaming design (not hls4ml): priced as io_stream",
        io_type="io_stream",
    ),
    LayerCase(
        "YanLunHuang conv_2d",
        "YanLunHuang__hls4ml_layer__conv_2d_cl_me_csynth_vivadohls2019.2_xczu9eg.rpt",
        _conv("conv", 8, 8, 3, 7, 5),
        LayerConfig(weights=FixedPoint(16, 14), activations=FixedPoint(16, 14)),
        16,
        576,
        "ap_fixed<16,14>; 3x3 window of 8 channels (layer_in 9 x 128 bits), 25 positions "
        "(Loop 1 trip 25), 576 MACs per position (Loop 1.1: 72 x II 8) on one DSP: "
        "C_out 8, reuse 576; hls4ml Resource strategy, io_stream (the cnnshift_arr line "
        "buffer)",
        io_type="io_stream",
    ),
    LayerCase(
        "ayumiohno depthwise px",
        "ayumiohno__mnist_depthwise_hls__DepthwiseConv2d_px_csynth_vitishls2022.1_xck26.rpt",
        _conv("px", 1, 10, 3, 3, 1),
        LayerConfig(),
        None,
        30,
        "float32 (fadd/fmul cores); loop px: 10 iterations of a 3x3 window at II 3 on 3 "
        "fmul + 3 fadd: 90 MACs on 3 lanes, reuse 30; hand-written (not hls4ml): priced as "
        "io_stream",
        io_type="io_stream",
    ),
)


def compare_layers(reports: Path) -> list[dict[str, object]]:
    table = []
    for case in LAYERS:
        report = read_report(reports / case.report)
        clock = 1000.0 / (report.target_clock_ns or 10.0)
        model = AcceleratorModel(
            {case.shape.name: case.shape},
            device=get_device(report.part),
            clock_mhz=clock,
            reuse_factor=case.reuse_factor,
            strategy=case.strategy,
            io_type=case.io_type,
            input_bits=case.input_bits,
        )
        cost = model.cost(Configuration.of({case.shape.name: case.layer}))
        layer = cost.per_layer[case.shape.name]
        worst = report.latency_cycles[1] if report.latency_cycles else None
        for key, metric in (("LUT", "lut"), ("FF", "ff"), ("DSP", "dsp"), ("BRAM_18K", "bram")):
            reported = report.resources[key]
            predicted = layer[metric]
            table.append(
                {
                    "layer": case.name,
                    "metric": key,
                    "reported": reported,
                    "predicted": round(predicted, 1),
                    "error_%": round(100 * (predicted - reported) / reported, 1)
                    if reported
                    else "",
                }
            )
        table.append(
            {
                "layer": case.name,
                "metric": "cycles",
                "reported": worst,
                "predicted": int(layer["cycles"]),
                "error_%": round(100 * (layer["cycles"] - worst) / worst, 1) if worst else "",
            }
        )
    return table


def render(rows: list[dict[str, object]], markdown: bool) -> str:
    columns = list(rows[0])
    cells = [[_cell(row[c]) for c in columns] for row in rows]
    if markdown:
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(row) + " |" for row in cells]
        return "\n".join(lines)
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    return "" if value is None else str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=Path, default=DEFAULT_REPORTS)
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    args = parser.parse_args(argv)
    rows = operator_rows(args.reports)
    compared = compare_operators(rows)
    print("(a) operator rows: reported (HLS estimate) vs predicted (shipped Yosys library)\n")
    print(render(grouped_rows(compared), args.markdown))
    print("\n(a) per kind: LUT MAPE raw and with a per-kind factor fitted without the row\n")
    print(render(summarize(compared), args.markdown))
    print("\n(a) per kind: a library characterized from the reports (`characterize --reports`)\n")
    print(render(reports_library(rows), args.markdown))
    print("\n(b) single-layer reports: whole-design estimate vs report totals\n")
    print(render(compare_layers(args.reports), args.markdown))
    for case in LAYERS:
        print(f"\n- {case.name}: {case.assumptions}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
