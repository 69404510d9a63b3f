"""Operator characterization: measurements from Yosys synthesis sweeps and from HLS reports.

Two sources feed the :class:`~hardware_models._operators.OperatorLibrary`:

* :func:`characterize_synthesis` synthesizes each operator of a width sweep with Yosys
  (:mod:`hardware_models._yosys`), in worker processes, one row per operator;
* :func:`scan_reports` (and :func:`rows_from_reports`, its rows alone) reads the operator
  tables of HLS reports (Vitis/Vivado HLS), the tool's own estimate for the operators it
  instantiated, and says which files it skipped and why.

:func:`characterize` combines them into a fitted library; ``python -m dse characterize`` calls it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hardware_models import _verilog
from hardware_models._errors import HardwareModelError
from hardware_models._operator_kinds import KINDS, OperatorMeasurement
from hardware_models._operators import OperatorLibrary
from hardware_models._yosys import FAMILIES, synthesize

if TYPE_CHECKING:
    from hardware_models._report import HlsReport, OperatorRow
    from hardware_models._verilog import VerilogModule

__all__ = [
    "DEFAULT_SWEEP",
    "ReportScan",
    "SkippedReport",
    "characterize",
    "characterize_synthesis",
    "rows_from_reports",
    "scan_reports",
    "synthesis_module",
]

_logger = logging.getLogger(__name__)

_MUL_WIDTHS = (2, 3, 4, 6, 8, 10, 12, 16)
_MUL_PAIRS = tuple((a, b) for a in _MUL_WIDTHS for b in _MUL_WIDTHS if a <= b)
_FLOAT_GRID = tuple((e, m) for e in (4, 5, 6, 8) for m in (2, 3, 4, 7, 10, 23))
_SMALL_WIDTHS = (2, 3, 4, 6, 8, 10, 12, 16, 20, 24, 32)

DEFAULT_SWEEP: dict[str, tuple[tuple[int, ...], ...]] = {
    "add": tuple((w,) for w in range(2, 33)),
    "accumulate": ((8, 16), (8, 24), (8, 32), (16, 32), (16, 48)),
    "mul_lut": _MUL_PAIRS,
    "mul_dsp": _MUL_PAIRS + ((18, 18), (18, 25), (24, 24), (32, 32)),
    "fadd": _FLOAT_GRID,
    "fmul_dsp": _FLOAT_GRID,
    "fmul_lut": _FLOAT_GRID,
    "lookup": tuple((k, b) for k in (2, 4, 8, 16, 32, 64, 256) for b in (4, 8, 16)),
    "compare": tuple((w,) for w in _SMALL_WIDTHS),
    "relu": tuple((w,) for w in _SMALL_WIDTHS),
    "max": tuple((w,) for w in _SMALL_WIDTHS),
}
"""The sweep of ``bench/characterize.py``: operator kind -> width tuples (see ``KINDS``)."""

# kind -> (generator taking (*widths, registered=...), DSP inference on)
_GENERATORS: dict[str, tuple[Callable[..., VerilogModule], bool]] = {
    "add": (_verilog.fixed_adder, True),
    "accumulate": (_verilog.accumulator, True),
    "mul_lut": (_verilog.fixed_multiplier, False),
    "mul_dsp": (_verilog.fixed_multiplier, True),
    "fadd": (_verilog.float_adder, True),
    "fmul_dsp": (_verilog.float_multiplier, True),
    "fmul_lut": (_verilog.float_multiplier, False),
    "lookup": (_verilog.codebook_lookup, True),
    "compare": (_verilog.comparator, True),
    "relu": (_verilog.relu, True),
    "max": (_verilog.maximum, True),
}


def synthesis_module(kind: str, widths: Sequence[int], *, registered: bool) -> VerilogModule:
    """Return the Verilog module that characterizes ``kind`` at ``widths``.

    Args:
        kind: An operator kind of :data:`~hardware_models._operator_kinds.KINDS` that has a
            generator (every kind but the ones read only from reports).
        widths: The kind's width tuple, e.g. ``(8, 8)`` for ``mul_lut``, ``(5, 2)`` for
            ``fadd`` (E, M), ``(16, 8)`` for ``lookup`` (k, B).
        registered: Wrap the operator in input and output registers.

    Raises:
        HardwareModelError: If the kind has no generator or the widths do not fit it.
    """
    if kind not in _GENERATORS:
        raise HardwareModelError(
            f"no Verilog generator for operator kind {kind!r}; known: {sorted(_GENERATORS)}"
        )
    generator, _ = _GENERATORS[kind]
    arity = KINDS[kind].arity
    if len(widths) != arity:
        raise HardwareModelError(
            f"operator kind {kind!r} takes {arity} widths ({KINDS[kind].widths}), got {widths}"
        )
    try:
        return generator(*widths, registered=registered)
    except ValueError as error:
        raise HardwareModelError(f"operator {kind}{tuple(widths)}: {error}") from error


def _synthesize_point(task: tuple[str, tuple[int, ...], str]) -> OperatorMeasurement:
    """Synthesize one sweep point (a module-level function, so worker processes can run it).

    The operator is synthesized with registered inputs and outputs: LUT and DSP counts are
    those of the operator logic (the registers add no LUTs between them), FF counts are the
    operand and result registers, which DSP slices absorb (FF 0 for ``mul_dsp``).
    """
    kind, widths, family = task
    module = synthesis_module(kind, widths, registered=True)
    dsp_inference = _GENERATORS[kind][1]
    result = synthesize(module, family, dsp_inference=dsp_inference)
    options = f"-family {FAMILIES[family]} -flatten -noiopad"
    options += "" if dsp_inference else " -nodsp"
    return OperatorMeasurement(
        kind=kind,
        widths=tuple(widths),
        family=family,
        lut=float(result.lut),
        ff=float(result.ff),
        dsp=float(result.dsp),
        bram_18k=float(result.bram_18k),
        latency_cycles=1.0,
        source=f"yosys synth_xilinx {options} ({result.top}, {result.carry} carry cells, "
        f"{result.muxf} MUXF)",
    )


def characterize_synthesis(
    family: str = "7series",
    sweep: Mapping[str, Iterable[Sequence[int]]] | None = None,
    *,
    workers: int = 2,
) -> list[OperatorMeasurement]:
    """Characterize operators by Yosys synthesis over a width sweep.

    Each point is synthesized once, registered (see :func:`_synthesize_point`), so a row holds
    LUT, FF and DSP counts of the same netlist; ``latency_cycles`` is 1 (result one clock
    after the registered operands; Yosys does no timing analysis, so deeper pipelining is not
    modelled). One point takes about 3 s (up to 40 s for a 24-bit fabric float multiplier).

    Args:
        family: ``"7series"`` or ``"ultrascale_plus"``.
        sweep: Operator kind -> width tuples; ``None`` runs :data:`DEFAULT_SWEEP`.
        workers: Worker processes running Yosys in parallel (1 runs in this process).

    Returns:
        One measurement per sweep point, in sweep order.

    Raises:
        HardwareModelError: On an unknown family or kind, bad widths, or a Yosys failure.
    """
    if family not in FAMILIES:
        raise HardwareModelError(f"family must be one of {sorted(FAMILIES)}, got {family!r}")
    chosen = DEFAULT_SWEEP if sweep is None else sweep
    tasks = [
        (kind, tuple(int(w) for w in widths), family)
        for kind, points in chosen.items()
        for widths in points
    ]
    for kind, widths, _ in tasks:  # validate everything before spending minutes in Yosys
        synthesis_module(kind, widths, registered=True)
    if workers <= 1 or len(tasks) <= 1:
        return [_synthesize_point(task) for task in tasks]
    # Longest first keeps both workers busy to the end; results go back in sweep order.
    order = sorted(range(len(tasks)), key=lambda i: -_expected_seconds(tasks[i]))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(_synthesize_point, [tasks[i] for i in order]))
    results: list[OperatorMeasurement | None] = [None] * len(tasks)
    for index, measurement in zip(order, done, strict=True):
        results[index] = measurement
    return [row for row in results if row is not None]


def _expected_seconds(task: tuple[str, tuple[int, ...], str]) -> float:
    """Rough run time of one point, only to schedule long runs first."""
    kind, widths, _ = task
    if kind == "fmul_lut":
        return 3.0 + 0.05 * widths[1] ** 2
    if kind == "mul_lut":
        return 3.0 + 0.005 * widths[0] * widths[1]
    if kind == "lookup":
        return 3.0 + 0.0005 * widths[0] * widths[1]
    return 3.0 + 0.01 * sum(widths)


# HLS operation -> library kind for the integer operators; floats are handled by prefix.
_HLS_KINDS = {
    "add": "add",
    "sub": "add",
    "addsub": "add",
    "icmp": "compare",
    "setgt": "compare",
    "setlt": "compare",
    "setge": "compare",
    "setle": "compare",
    "seteq": "compare",
    "setne": "compare",
}
_HLS_FLOATS = {"h": (5, 10), "f": (8, 23), "d": (11, 52)}


def _kind_of(row: OperatorRow) -> tuple[str, tuple[int, ...]] | None:
    """Map an HLS operator row to ``(library kind, widths)``, or None for other operators."""
    kind = row.kind.lower()
    dsp = row.dsp or 0
    widths = tuple(row.bit_widths)
    if kind in ("mul", "mult", "mac", "muladd") and widths:
        pair = (widths[0], widths[1] if len(widths) > 1 else widths[0])
        return ("mul_dsp" if dsp > 0 else "mul_lut"), tuple(sorted(pair))
    if kind in _HLS_KINDS and widths:
        return _HLS_KINDS[kind], (max(widths),)
    if len(kind) == 4 and kind[0] in _HLS_FLOATS and kind[1:] in ("add", "sub", "mul"):
        fmt = _HLS_FLOATS[kind[0]]
        if kind[1:] == "mul":
            return ("fmul_dsp" if dsp > 0 else "fmul_lut"), fmt
        return "fadd", fmt
    return None


def _family_of_part(part: str) -> str | None:
    """Device family of an AMD part number (``xc7z020...`` -> ``7series``), None if unknown."""
    part = part.lower()
    if part.startswith("xc7"):
        return "7series"
    if part.startswith(("xczu", "xck26", "xck24", "xcau", "xcvu", "xcku", "xcvp")):
        # UltraScale+ Kintex/Virtex parts carry a ``p`` after the number (xcvu9p, xcku5p).
        digits = part[4:].lstrip("0123456789")
        if part.startswith(("xczu", "xck2", "xcau")) or digits.startswith("p"):
            return "ultrascale_plus"
        return "ultrascale"
    return None


def _device_family(part: str) -> str | None:
    """The family the devices table gives a part (Vivado writes `7z020clg400-1`)."""
    from hardware_models._devices import get_device

    try:
        return get_device(part).family
    except HardwareModelError:
        return None


@dataclass(frozen=True)
class SkippedReport:
    """A file under a reports folder that gave no operator row, and why.

    Attributes:
        path: The file.
        reason: One line: the read error, the twin file read instead, or why none of its
            operator rows is usable.
    """

    path: Path
    reason: str


@dataclass(frozen=True)
class ReportScan:
    """What :func:`scan_reports` found under a folder.

    Attributes:
        rows: One measurement per usable operator row, in file order.
        used: The files the rows come from.
        skipped: Every other ``.xml`` / ``.rpt`` file, with the reason.
    """

    rows: tuple[OperatorMeasurement, ...]
    used: tuple[Path, ...]
    skipped: tuple[SkippedReport, ...]


def scan_reports(directory: str | os.PathLike[str], *, family: str | None = None) -> ReportScan:
    """Read the operator rows of every HLS report under ``directory``, saying what it skipped.

    Files named ``*.xml`` and ``*.rpt`` are read with
    :func:`hardware_models._read.read_report`. A file that gives no usable row is skipped
    with its reason (returned in ``skipped``, logged at info level): one that is not a
    readable report, one without operator rows (a post-synthesis utilization report), one
    whose rows all lack a library kind, a LUT count or a latency (Vitis bind nodes carry no
    LUT counts; a core name the tool shortened, ``c_mnist_fadd_32nsbzo``, keeps no
    latency), and the twin of a file with the same stem (the ``.xml`` and ``.rpt`` of one
    synthesis describe the same design: the one with more usable rows is read).

    Operators map to library kinds: ``add``/``sub`` -> ``add`` (width = widest operand),
    ``mul`` -> ``mul_dsp`` when it uses DSPs else ``mul_lut``, ``icmp`` -> ``compare``,
    ``fadd``/``fsub`` -> ``fadd`` (8, 23), ``fmul`` -> ``fmul_dsp``/``fmul_lut`` (8, 23),
    ``h``/``d`` variants -> (5, 10)/(11, 52); other operators are left out.

    Args:
        directory: Folder searched recursively.
        family: Device family of every row; ``None`` infers it from each report's part.

    Returns:
        The rows (``source`` names the file and the operator), the files used and the files
        skipped.

    Raises:
        HardwareModelError: If ``directory`` is not a folder, or ``family`` is ``None`` and a
            report with usable rows has a part of no known family.
    """
    from hardware_models._errors import ReportError
    from hardware_models._read import read_report

    root = Path(directory)
    if not root.is_dir():
        raise HardwareModelError(f"{root}: not a directory of HLS reports")
    paths = sorted(p for p in root.rglob("*") if p.suffix in (".xml", ".rpt") and p.is_file())
    skipped: list[SkippedReport] = []
    best: dict[Path, tuple[Path, list[OperatorMeasurement]]] = {}
    for path in paths:
        try:
            report = read_report(path)
        except ReportError as error:
            skipped.append(SkippedReport(path, f"not read: {error.reason}"))
            continue
        rows = _usable_rows(path, report, family)
        if not rows:
            skipped.append(SkippedReport(path, _why_unusable(report)))
            continue
        stem = path.with_suffix("")
        if stem in best:
            kept, loser = (best[stem], (path, rows))
            if len(rows) > len(best[stem][1]):
                kept, loser = (path, rows), best[stem]
            best[stem] = kept
            skipped.append(
                SkippedReport(
                    loser[0],
                    f"same design as {kept[0].name} ({len(kept[1])} usable operator rows "
                    f"against {len(loser[1])}), read from that file instead",
                )
            )
        else:
            best[stem] = (path, rows)
    for entry in skipped:
        _logger.info("skipping %s: %s", entry.path, entry.reason)
    return ReportScan(
        rows=tuple(row for _, rows in best.values() for row in rows),
        used=tuple(path for path, _ in best.values()),
        skipped=tuple(sorted(skipped, key=lambda entry: entry.path)),
    )


def rows_from_reports(
    directory: str | os.PathLike[str], *, family: str | None = None
) -> list[OperatorMeasurement]:
    """Read the operator rows of every HLS report under ``directory``.

    The rows of :func:`scan_reports`, which also says which files it skipped and why.

    Args:
        directory: Folder searched recursively.
        family: Device family of every row; ``None`` infers it from each report's part.

    Returns:
        One measurement per usable operator row (``source`` names the file and the operator).

    Raises:
        HardwareModelError: As :func:`scan_reports`.
    """
    return list(scan_reports(directory, family=family).rows)


def _usable_rows(path: Path, report: HlsReport, family: str | None) -> list[OperatorMeasurement]:
    mapped = [
        (row, kind)
        for row in report.operators
        if row.lut is not None and row.latency is not None and (kind := _kind_of(row)) is not None
    ]
    if not mapped:
        return []
    row_family = family or _family_of_part(report.part) or _device_family(report.part)
    if row_family is None:
        raise HardwareModelError(
            f"{path}: part {report.part!r} belongs to no known family; pass family="
        )
    return [
        OperatorMeasurement(
            kind=kind,
            widths=widths,
            family=row_family,
            lut=float(row.lut or 0),
            ff=float(row.ff or 0),
            dsp=float(row.dsp or 0),
            bram_18k=0.0,
            latency_cycles=float(row.latency or 0),
            source=f"hls report {path.name}: {row.name}",
        )
        for row, (kind, widths) in mapped
    ]


def _why_unusable(report: HlsReport) -> str:
    if not report.operators:
        if report.utilization_kind == "post_synthesis":
            return "no operator rows: a post-synthesis utilization report"
        return "no operator rows in the report"
    return (
        f"none of its {len(report.operators)} operator rows has a library kind, a LUT count "
        "and a known latency"
    )


def characterize(
    reports_dir: str | os.PathLike[str] | None = None,
    *,
    synthesis: bool = False,
    family: str = "7series",
    sweep: Mapping[str, Iterable[Sequence[int]]] | None = None,
    workers: int = 2,
) -> OperatorLibrary:
    """Build a fitted operator library from HLS reports and/or a Yosys synthesis sweep.

    Args:
        reports_dir: Folder of HLS reports read by :func:`rows_from_reports`, or ``None``.
        synthesis: Also run :func:`characterize_synthesis` for ``family``.
        family: Family of the synthesis sweep; report rows keep the family of their part.
        sweep: Sweep of the synthesis run (``None``: :data:`DEFAULT_SWEEP`).
        workers: Parallel Yosys processes.

    Returns:
        An :class:`OperatorLibrary` fitted on all rows. With ``reports_dir``, its
        ``provenance`` holds ``reports_dir`` and ``skipped_reports``: one
        ``{"path", "reason"}`` record per file :func:`scan_reports` skipped.

    Raises:
        HardwareModelError: If neither source is asked for or no operator row is found.
    """
    if reports_dir is None and not synthesis:
        raise HardwareModelError("characterize needs reports_dir, synthesis=True, or both")
    rows: list[OperatorMeasurement] = []
    provenance: dict[str, object] = {}
    if reports_dir is not None:
        scan = scan_reports(reports_dir)
        rows += scan.rows
        provenance["reports_dir"] = str(reports_dir)
        provenance["skipped_reports"] = [
            {"path": str(entry.path), "reason": entry.reason} for entry in scan.skipped
        ]
    if synthesis:
        rows += characterize_synthesis(family, sweep, workers=workers)
    if not rows:
        skipped = provenance.get("skipped_reports") or []
        detail = (
            f" ({len(skipped)} file(s) skipped, first: {skipped[0]['path']}: "
            f"{skipped[0]['reason']})"
            if skipped
            else ""
        )
        raise HardwareModelError(
            f"{reports_dir}: no operator rows found in the HLS reports{detail}"
        )
    return OperatorLibrary(rows, provenance=provenance or None).fit()
