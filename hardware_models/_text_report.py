"""Reader for the per-function HLS text report ``<function>_csynth.rpt``.

Two layouts share the ``== Vivado/Vitis HLS Report for '<top>'`` title:

* Vivado HLS 2018.x and 2019.x print ``+ Timing (ns):`` and ``+ Latency (clock cycles):``
  with a 5-column latency summary (``Latency min | max``, ``Interval min | max``,
  ``Pipeline Type``) and name operator cores with a hash when the name is long
  (``c_mnist_fadd_32nsbzo``);
* Vivado HLS 2020.1 and Vitis HLS print ``+ Timing:`` and ``+ Latency:`` with cycle and
  absolute-time columns (7 columns) and full core names (``fadd_32ns_32ns_32_4_full_dsp_1``).

Columns are found by their labels (:meth:`~hardware_models._text_tables._Table.labels`), so
both read alike. The header, the Timing Summary and the Utilization Summary (its ``Total``
row) are required; every other table is a detail that, when unreadable, is left out and
named in ``HlsReport.warnings``. The Vitis top-level ``csynth.rpt`` ("Synthesis Summary")
is read by :mod:`hardware_models._summary_report`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from hardware_models._cells import (
    empty_resources,
    expression_kind,
    is_undefined,
    parse_core_name,
    parse_float,
    parse_int,
    parse_range,
    resource_key,
)
from hardware_models._errors import ReportError
from hardware_models._report import CycleRange, HlsReport, MemoryRow, ModuleResources, OperatorRow
from hardware_models._text_tables import _cell_count, _keyed_tables, _row_resources, _Table

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["csynth_header", "is_csynth_rpt", "read_csynth_rpt"]

_logger = logging.getLogger(__name__)
_T = TypeVar("_T")

_HLS_TITLE = re.compile(r"^== (Vivado|Vitis) HLS Report for '(.+)'\s*$", re.MULTILINE)
_HEADER_FIELD = re.compile(r"^\s*\* ([A-Za-z ]+?):\s*(.*?)\s*$")
_VERSION = re.compile(r"(\d{4}\.\d+)")

_LATENCY_MIN = re.compile(r"^LATENCY(?: \(CYCLES\))? MIN$")
_LATENCY_MAX = re.compile(r"^LATENCY(?: \(CYCLES\))? MAX$")
_INTERVAL_MIN = re.compile(r"^INTERVAL MIN$")
_INTERVAL_MAX = re.compile(r"^INTERVAL MAX$")

# Vivado HLS before 2020 shortens a long core module name to its first characters and a
# 3-character id: ``c_mnist_fadd_32nsbzo`` is ``c_mnist_fadd_32ns...``. Its instance is the
# module name plus ``_U<n>``. The kind survives (the word before the first width); the widths
# and the latency do not.
_CORE_INSTANCE = re.compile(r"^(?P<module>.+)_U\d+$")
_SHORTENED_CORE = re.compile(r"(?:^|_)(?P<kind>[a-z][a-z0-9]*)_\d[0-9ns_]*$")

Tables = dict[tuple[str, str, str], _Table]

# (latency, interval) of one instance, from the latency Instance table.
_InstanceTiming = tuple[CycleRange | None, CycleRange | None]


def is_csynth_rpt(text: str) -> bool:
    """Tell whether ``text`` is a per-function HLS csynth text report."""
    return _HLS_TITLE.search(text) is not None


def csynth_header(lines: list[str]) -> dict[str, str]:
    """The ``* Field: value`` lines of a csynth report header (``Version``, ``Target device``).

    Args:
        lines: The report's lines; only the first 40 are searched.

    Returns:
        Field name to value, the first occurrence of each.
    """
    fields: dict[str, str] = {}
    for line in lines[:40]:
        match = _HEADER_FIELD.match(line)
        if match is not None and match[2]:
            fields.setdefault(match[1].strip(), match[2])
    return fields


def header_version_and_part(header: dict[str, str]) -> tuple[str, str]:
    """The tool version (``2019.1``) and target part of a csynth header, both required.

    Raises:
        ValueError: If either is missing.
    """
    version = _VERSION.search(header.get("Version", ""))
    if version is None:
        raise ValueError("missing required field '* Version:' in the report header")
    part = header.get("Target device", "")
    if not part:
        raise ValueError("missing required field '* Target device:' in the report header")
    return version[1], part


def read_csynth_rpt(path: Path, text: str) -> HlsReport:
    """Parse an HLS ``<function>_csynth.rpt`` text report of either layout.

    Args:
        path: The file the text came from.
        text: The whole file.

    Returns:
        The report with ``modules``, ``operators`` and ``memories`` from the Instance,
        Expression, Memory and FIFO tables.

    Raises:
        ReportError: If the header, the Timing Summary or the Utilization Summary is missing
            or garbled; the message names what is missing.
    """
    try:
        return _read_csynth(path, text)
    except ReportError:
        raise
    except ValueError as exc:
        raise ReportError(path, str(exc)) from None


def _read_csynth(path: Path, text: str) -> HlsReport:
    title = _HLS_TITLE.search(text)
    if title is None:
        raise ValueError("missing the '== Vivado/Vitis HLS Report for' title")
    lines = text.splitlines()
    version, part = header_version_and_part(csynth_header(lines))
    tables = _keyed_tables(lines)
    target, estimated_text = _timing(tables)
    summary = _required_table(
        tables, ("Utilization Estimates", "", "Summary"), "'Utilization Estimates' / '* Summary:'"
    )
    resources, available = _utilization_summary(summary)

    warnings: list[str] = []
    estimated = (
        None
        if is_undefined(estimated_text)
        else _detail(warnings, lambda: parse_float(estimated_text, "Timing Summary Estimated"))
    )
    latency_cycles, interval = _latency_summary(tables, warnings)
    modules, core_operators = _instances(tables, _instance_latencies(tables, warnings), warnings)
    operators = core_operators + _expressions(tables, warnings)
    memories = _memories(tables, warnings)
    if warnings:
        _logger.warning(
            "%s: %d optional detail(s) left out, first: %s", path, len(warnings), warnings[0]
        )
    return HlsReport(
        path=path,
        tool="vitis_hls" if title[1] == "Vitis" else "vivado_hls",
        tool_version=version,
        part=part,
        top=title[2],
        target_clock_ns=target,
        estimated_clock_ns=estimated,
        latency_cycles=latency_cycles,
        interval=interval,
        resources=resources,
        available=available,
        modules=modules,
        operators=operators,
        memories=memories,
        utilization_kind="hls_estimate",
        warnings=tuple(warnings),
    )


def _required_table(tables: Tables, key: tuple[str, str, str], heading: str) -> _Table:
    table = tables.get(key)
    if table is None or not table.rows():
        raise ValueError(f"missing required table {heading}")
    if table.error is not None:
        raise ValueError(f"{heading}: {table.error}")
    return table


def _detail(warnings: list[str], read: Callable[[], _T], default: _T | None = None) -> _T | None:
    """Return ``read()``, or ``default`` with a line in ``warnings`` if it raises ValueError."""
    try:
        return read()
    except ValueError as exc:
        warnings.append(f"{exc}; left out")
        return default


def _timing(tables: Tables) -> tuple[float, str]:
    """The target clock (required) and the estimated clock's cell of the Timing Summary."""
    timing = _required_table(
        tables,
        ("Performance Estimates", "Timing", "Summary"),
        "'Performance Estimates' / '+ Timing:' / '* Summary:' (the target clock)",
    )
    columns = timing.columns()
    if "TARGET" not in columns:
        raise ValueError("Timing Summary: missing required column 'Target'")
    row = timing.rows()[0]
    target = parse_float(row[columns["TARGET"]], "Timing Summary Target")
    estimated = row[columns["ESTIMATED"]] if "ESTIMATED" in columns else ""
    return target, estimated


def find_label(labels: tuple[str, ...], pattern: re.Pattern[str]) -> int | None:
    """Index of the first column label matching ``pattern``, or ``None``."""
    return next((i for i, label in enumerate(labels) if pattern.match(label)), None)


def _latency_summary(
    tables: Tables, warnings: list[str]
) -> tuple[CycleRange | None, CycleRange | None]:
    table = tables.get(("Performance Estimates", "Latency", "Summary"))
    if table is None or not table.rows():
        return None, None
    if table.error is not None:
        warnings.append(f"Latency Summary: {table.error}; latency left out")
        return None, None
    timing = _detail(warnings, lambda: _timing_cells(table.labels(), table.rows()[0], "Summary"))
    return timing if timing is not None else (None, None)


def _timing_cells(
    labels: tuple[str, ...], row: tuple[str, ...], where: str
) -> tuple[CycleRange, CycleRange]:
    """(latency, interval) from the cells labelled ``Latency min/max`` and ``Interval min/max``.

    A cell may hold a range ``"a ~ b"``: a min cell gives its ``a``, a max cell its ``b``.
    """
    columns = [
        find_label(labels, pattern)
        for pattern in (_LATENCY_MIN, _LATENCY_MAX, _INTERVAL_MIN, _INTERVAL_MAX)
    ]
    if None in columns or max(c for c in columns if c is not None) >= len(row):
        raise ValueError(
            f"Latency {where}: expected 'Latency min | max' and 'Interval min | max' columns, "
            f"got {', '.join(labels) or 'no header'}"
        )
    low_latency, high_latency, low_interval, high_interval = (
        row[c] for c in columns if c is not None
    )
    return (
        (
            parse_range(low_latency, f"Latency {where} min")[0],
            parse_range(high_latency, f"Latency {where} max")[1],
        ),
        (
            parse_range(low_interval, f"Latency {where} interval min")[0],
            parse_range(high_interval, f"Latency {where} interval max")[1],
        ),
    )


def _utilization_summary(summary: _Table) -> tuple[dict[str, int], dict[str, int]]:
    columns = {
        key: index
        for name, index in summary.columns().items()
        if (key := resource_key(name)) is not None
    }
    missing = [key for key in ("LUT", "FF", "DSP", "BRAM_18K") if key not in columns]
    if missing:
        raise ValueError(f"Utilization Summary: missing required column {missing[0]}")
    by_name = {row[0].strip(): row for row in summary.all_rows() if row}
    if "Total" not in by_name:
        raise ValueError("Utilization Summary: missing required row 'Total'")
    resources = _row_resources(by_name["Total"], columns, "Utilization Summary Total")
    available = (
        _row_resources(by_name["Available"], columns, "Utilization Summary Available")
        if "Available" in by_name
        else empty_resources()
    )
    return resources, available


def _instance_latencies(tables: Tables, warnings: list[str]) -> dict[str, _InstanceTiming]:
    table = tables.get(("Performance Estimates", "Latency", "Instance"))
    latencies: dict[str, _InstanceTiming] = {}
    if table is None:
        return latencies
    if table.error is not None:
        warnings.append(f"Latency Instance table: {table.error}; instance latencies left out")
        return latencies
    labels = table.labels()
    for row in table.rows():
        timing = _detail(
            warnings, lambda row=row: _timing_cells(labels, row, f"Instance {row[0]}")
        )
        if timing is not None:
            latencies[row[0]] = timing
    return latencies


def _instances(
    tables: Tables, latencies: dict[str, _InstanceTiming], warnings: list[str]
) -> tuple[tuple[ModuleResources, ...], tuple[OperatorRow, ...]]:
    table = tables.get(("Utilization Estimates", "Detail", "Instance"))
    if table is None:
        return (), ()
    if table.error is not None:
        warnings.append(f"Instance table: {table.error}; instances left out")
        return (), ()
    columns = table.columns()
    resource_columns = {
        key: index for name, index in columns.items() if (key := resource_key(name)) is not None
    }
    instance_column = columns.get("INSTANCE", 0)
    module_column = columns.get("MODULE", 1)
    modules: list[ModuleResources] = []
    operators: list[OperatorRow] = []
    for row in table.rows():
        instance, module = row[instance_column], row[module_column]
        counts = _detail(
            warnings,
            lambda row=row, instance=instance: _row_resources(
                row, resource_columns, f"Instance {instance}"
            ),
        )
        if counts is None:
            continue
        core = _core(instance, module)
        if core is not None:
            kind, widths, latency, impl = core
            operators.append(
                OperatorRow(
                    name=instance,
                    kind=kind,
                    bit_widths=widths,
                    lut=counts["LUT"],
                    ff=counts["FF"],
                    dsp=counts["DSP"],
                    latency=latency,
                    impl=impl,
                )
            )
            continue
        latency_cycles, interval = latencies.get(instance, (None, None))
        modules.append(
            ModuleResources(
                name=module,
                resources=counts,
                latency_cycles=latency_cycles,
                interval=interval,
                instance=instance,
            )
        )
    return tuple(modules), tuple(operators)


def _core(
    instance: str, module: str
) -> tuple[str, tuple[int, ...], int | None, str | None] | None:
    """(kind, widths, latency, impl) of an operator-core instance, or ``None`` for a module.

    A full core name gives all four; a name the tool shortened (see ``_SHORTENED_CORE``)
    gives the kind only, with no widths and an unknown latency.
    """
    full = parse_core_name(module)
    if full is not None:
        return full
    match = _CORE_INSTANCE.match(instance)
    if match is None or match["module"] != module or len(module) <= 3:
        return None
    shortened = _SHORTENED_CORE.search(module[:-3])
    if shortened is None:
        return None
    return shortened["kind"], (), None, None


def _expressions(tables: Tables, warnings: list[str]) -> tuple[OperatorRow, ...]:
    """Expression rows: combinational fabric logic, hence latency 0 and impl ``fabric``."""
    table = tables.get(("Utilization Estimates", "Detail", "Expression"))
    if table is None:
        return ()
    if table.error is not None:
        warnings.append(f"Expression table: {table.error}; expressions left out")
        return ()
    columns = table.columns()
    name_column = columns.get("VARIABLE NAME", 0)
    operation_column = columns.get("OPERATION", 1)
    dsp_column = next((i for n, i in columns.items() if resource_key(n) == "DSP"), None)
    width_columns = sorted(i for n, i in columns.items() if n.startswith("BITWIDTH"))

    def read(row: tuple[str, ...]) -> OperatorRow:
        name = row[name_column]
        where = f"Expression {name}"
        return OperatorRow(
            name=name,
            kind=expression_kind(row[operation_column]),
            bit_widths=tuple(
                parse_int(row[i], where) for i in width_columns if not is_undefined(row[i])
            ),
            lut=_cell_count(row, columns.get("LUT"), where),
            ff=_cell_count(row, columns.get("FF"), where),
            dsp=_cell_count(row, dsp_column, where),
            latency=0,
            impl="fabric",
        )

    rows = (_detail(warnings, lambda row=row: read(row)) for row in table.rows())
    return tuple(row for row in rows if row is not None)


def _memories(tables: Tables, warnings: list[str]) -> tuple[MemoryRow, ...]:
    memories: list[MemoryRow] = []
    for table_name, kind, depth_name in (("Memory", "memory", "WORDS"), ("FIFO", "fifo", "DEPTH")):
        table = tables.get(("Utilization Estimates", "Detail", table_name))
        if table is None:
            continue
        if table.error is not None:
            warnings.append(f"{table_name} table: {table.error}; left out")
            continue
        columns = {**table.columns(), "DEPTH": table.columns().get(depth_name)}
        for row in table.rows():
            memory = _detail(
                warnings,
                lambda row=row, c=columns, k=kind, t=table_name: _memory_row(row, k, c, t),
            )
            if memory is not None:
                memories.append(memory)
    return tuple(memories)


def _memory_row(
    row: tuple[str, ...], kind: str, columns: dict[str, int | None], table_name: str
) -> MemoryRow:
    where = f"{table_name} {row[0]}"
    module_column = columns.get("MODULE")
    return MemoryRow(
        name=row[0],
        kind=kind,
        bram_18k=_cell_count(row, columns.get("BRAM_18K"), where) or 0,
        uram=_cell_count(row, columns.get("URAM"), where) or 0,
        lut=_cell_count(row, columns.get("LUT"), where),
        ff=_cell_count(row, columns.get("FF"), where),
        words=_cell_count(row, columns.get("DEPTH"), where),
        bits=_cell_count(row, columns.get("BITS"), where),
        banks=_cell_count(row, columns.get("BANKS"), where),
        module=None if module_column is None else row[module_column],
    )
