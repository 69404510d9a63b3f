"""Readers for the text reports: HLS ``*_csynth.rpt`` and Vivado ``report_utilization``.

The tables are tokenized by :mod:`hardware_models._text_tables`; this module knows which
tables and rows each report must have and what their cells mean, and assembles the
:class:`~hardware_models._report.HlsReport`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from hardware_models._errors import ReportError
from hardware_models._report import (
    CycleRange,
    HlsReport,
    MemoryRow,
    ModuleResources,
    OperatorRow,
    empty_resources,
    expression_kind,
    is_undefined,
    parse_core_name,
    parse_float,
    parse_int,
    parse_optional_int,
    resource_key,
)
from hardware_models._text_tables import (
    _BORDER,
    _cell_count,
    _keyed_tables,
    _read_table,
    _row_resources,
    _Table,
)

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["is_csynth_rpt", "is_utilization_rpt", "read_csynth_rpt", "read_utilization_rpt"]

_HLS_TITLE = re.compile(r"^== (Vivado|Vitis) HLS Report for '(.+)'\s*$", re.MULTILINE)
_HEADER_FIELD = re.compile(r"^\* ([A-Za-z ]+?):\s*(.*?)\s*$")
_VERSION = re.compile(r"(\d{4}\.\d+)")
_UTIL_FIELD = re.compile(r"^\|\s*(Tool Version|Design|Device|Design State)\s*:\s*(.*?)\s*$")

# (latency, interval) of one instance, from the latency Instance table.
_InstanceTiming = tuple[CycleRange, CycleRange]


def is_csynth_rpt(text: str) -> bool:
    """Tell whether ``text`` is an HLS csynth text report."""
    return _HLS_TITLE.search(text) is not None


def is_utilization_rpt(text: str) -> bool:
    """Tell whether ``text`` is a Vivado ``report_utilization`` report."""
    head = text[:4000]
    return "Utilization Design Information" in head or (
        "report_utilization" in head and "| Device" in head
    )


def read_csynth_rpt(path: Path, text: str) -> HlsReport:
    """Parse an HLS ``*_csynth.rpt`` text report.

    Args:
        path: The file the text came from.
        text: The whole file.

    Returns:
        The report with ``modules``, ``operators`` and ``memories`` from the Instance,
        Expression, Memory and FIFO tables.

    Raises:
        ReportError: If a required field is missing or a number is garbled.
    """
    try:
        return _read_csynth(path, text)
    except ReportError:
        raise
    except ValueError as exc:
        raise ReportError(path, str(exc)) from None


def read_utilization_rpt(path: Path, text: str) -> HlsReport:
    """Parse a Vivado ``report_utilization`` text report (post-synthesis or later).

    ``BRAM_18K`` counts 18 Kb halves: 2 x ``RAMB36/FIFO`` + ``RAMB18`` (or 2 x ``Block RAM
    Tile`` where the split is not printed). ``FF`` is ``Register as Flip Flop`` where printed
    (latches excluded), else ``Slice Registers`` / ``CLB Registers``.

    Args:
        path: The file the text came from.
        text: The whole file.

    Returns:
        The report, with ``utilization_kind`` ``post_synthesis`` and no clock or latency.

    Raises:
        ReportError: If a required row is missing or a number is garbled.
    """
    try:
        return _read_utilization(path, text)
    except ReportError:
        raise
    except ValueError as exc:
        raise ReportError(path, str(exc)) from None


# --- csynth.rpt ------------------------------------------------------------------------------


def _read_csynth(path: Path, text: str) -> HlsReport:
    title = _HLS_TITLE.search(text)
    if title is None:
        raise ValueError("missing the '== Vivado/Vitis HLS Report for' title")
    lines = text.splitlines()
    header = _csynth_header(lines)
    version_match = _VERSION.search(header.get("Version", ""))
    if version_match is None:
        raise ValueError("missing required field '* Version:' in the report header")
    part = header.get("Target device", "")
    if not part:
        raise ValueError("missing required field '* Target device:' in the report header")
    tables = _keyed_tables(lines)

    timing = tables.get(("Performance Estimates", "Timing", "Summary"))
    if timing is None or not timing.rows():
        raise ValueError("missing required table 'Timing Summary' (target clock)")
    clock = timing.rows()[0]
    if len(clock) < 3:
        raise ValueError("Timing Summary: expected Clock | Target | Estimated columns")
    target = parse_float(clock[1], "Timing Summary Target")
    estimated = None if is_undefined(clock[2]) else parse_float(clock[2], "Timing Summary")

    latency_cycles: CycleRange | None = None
    interval: CycleRange | None = None
    latency = tables.get(("Performance Estimates", "Latency", "Summary"))
    if latency is not None and latency.rows():
        row = latency.rows()[0]
        if len(row) < 6:
            raise ValueError("Latency Summary: expected latency, absolute and interval columns")
        latency_cycles = (
            parse_optional_int(row[0], "Latency Summary min"),
            parse_optional_int(row[1], "Latency Summary max"),
        )
        interval = (
            parse_optional_int(row[4], "Latency Summary interval min"),
            parse_optional_int(row[5], "Latency Summary interval max"),
        )

    summary = tables.get(("Utilization Estimates", "", "Summary"))
    if summary is None:
        raise ValueError("missing required table 'Utilization Estimates Summary'")
    resources, available = _utilization_summary(summary)

    modules, core_operators = _instances(tables, _instance_latencies(tables))
    return HlsReport(
        path=path,
        tool="vitis_hls" if title[1] == "Vitis" else "vivado_hls",
        tool_version=version_match[1],
        part=part,
        top=title[2],
        target_clock_ns=target,
        estimated_clock_ns=estimated,
        latency_cycles=latency_cycles,
        interval=interval,
        resources=resources,
        available=available,
        modules=modules,
        operators=core_operators + _expressions(tables),
        memories=_memories(tables),
        utilization_kind="hls_estimate",
    )


def _csynth_header(lines: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in lines[:40]:
        match = _HEADER_FIELD.match(line)
        if match is not None and match[2]:
            fields.setdefault(match[1].strip(), match[2])
    return fields


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


def _instance_latencies(
    tables: dict[tuple[str, str, str], _Table],
) -> dict[str, _InstanceTiming]:
    table = tables.get(("Performance Estimates", "Latency", "Instance"))
    latencies: dict[str, _InstanceTiming] = {}
    if table is None:
        return latencies
    for row in table.rows():
        if len(row) < 8:
            continue
        where = f"Latency Instance {row[0]}"
        latencies[row[0]] = (
            (parse_optional_int(row[2], where), parse_optional_int(row[3], where)),
            (parse_optional_int(row[6], where), parse_optional_int(row[7], where)),
        )
    return latencies


def _instances(
    tables: dict[tuple[str, str, str], _Table], latencies: dict[str, _InstanceTiming]
) -> tuple[tuple[ModuleResources, ...], tuple[OperatorRow, ...]]:
    table = tables.get(("Utilization Estimates", "Detail", "Instance"))
    if table is None:
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
        counts = _row_resources(row, resource_columns, f"Instance {instance}")
        core = parse_core_name(module)
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


def _expressions(tables: dict[tuple[str, str, str], _Table]) -> tuple[OperatorRow, ...]:
    """Expression rows: combinational fabric logic, hence latency 0 and impl ``fabric``."""
    table = tables.get(("Utilization Estimates", "Detail", "Expression"))
    if table is None:
        return ()
    columns = table.columns()
    name_column = columns.get("VARIABLE NAME", 0)
    operation_column = columns.get("OPERATION", 1)
    dsp_column = next((i for n, i in columns.items() if resource_key(n) == "DSP"), None)
    width_columns = sorted(i for n, i in columns.items() if n.startswith("BITWIDTH"))
    operators = []
    for row in table.rows():
        name = row[name_column]
        where = f"Expression {name}"
        operators.append(
            OperatorRow(
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
        )
    return tuple(operators)


def _memories(tables: dict[tuple[str, str, str], _Table]) -> tuple[MemoryRow, ...]:
    memories: list[MemoryRow] = []
    for table_name, kind, depth_name in (("Memory", "memory", "WORDS"), ("FIFO", "fifo", "DEPTH")):
        table = tables.get(("Utilization Estimates", "Detail", table_name))
        if table is None:
            continue
        columns = table.columns()
        for row in table.rows():
            name = row[0]
            where = f"{table_name} {name}"
            module_column = columns.get("MODULE")
            memories.append(
                MemoryRow(
                    name=name,
                    kind=kind,
                    bram_18k=_cell_count(row, columns.get("BRAM_18K"), where) or 0,
                    uram=_cell_count(row, columns.get("URAM"), where) or 0,
                    lut=_cell_count(row, columns.get("LUT"), where),
                    ff=_cell_count(row, columns.get("FF"), where),
                    words=_cell_count(row, columns.get(depth_name), where),
                    bits=_cell_count(row, columns.get("BITS"), where),
                    banks=_cell_count(row, columns.get("BANKS"), where),
                    module=None if module_column is None else row[module_column],
                )
            )
    return tuple(memories)


# --- report_utilization ----------------------------------------------------------------------


def _read_utilization(path: Path, text: str) -> HlsReport:
    lines = text.splitlines()
    header: dict[str, str] = {}
    for line in lines[:40]:
        match = _UTIL_FIELD.match(line)
        if match is not None:
            header.setdefault(match[1], match[2])
    version = _VERSION.search(header.get("Tool Version", ""))
    if version is None:
        raise ValueError("missing required field '| Tool Version :' in the report header")
    for field_name in ("Device", "Design"):
        if not header.get(field_name):
            raise ValueError(f"missing required field '| {field_name} :' in the report header")

    sites: dict[str, tuple[float, float | None]] = {}
    index = 0
    while index < len(lines):
        if _BORDER.match(lines[index].strip()):
            table, index = _read_table(lines, index)
            _collect_sites(table, sites)
        else:
            index += 1

    resources = empty_resources()
    available = empty_resources()
    for key, names in (
        ("LUT", ("Slice LUTs", "CLB LUTs")),
        ("FF", ("Register as Flip Flop", "Slice Registers", "CLB Registers")),
        ("DSP", ("DSPs",)),
        ("URAM", ("URAM",)),
    ):
        name = next((n for n in names if n in sites), None)
        if name is None:
            if key == "URAM":
                continue  # 7-series parts have no UltraRAM row
            raise ValueError(f"missing required row {' / '.join(map(repr, names))}")
        used, avail = sites[name]
        resources[key] = _whole(used, name)
        available[key] = 0 if avail is None else _whole(avail, name)
    resources["BRAM_18K"], available["BRAM_18K"] = _bram_18k(sites)
    return HlsReport(
        path=path,
        tool="vivado",
        tool_version=version[1],
        part=header["Device"],
        top=header["Design"],
        target_clock_ns=None,
        estimated_clock_ns=None,
        latency_cycles=None,
        interval=None,
        resources=resources,
        available=available,
        utilization_kind="post_synthesis",
    )


def _collect_sites(table: _Table, sites: dict[str, tuple[float, float | None]]) -> None:
    columns = table.columns()
    if "SITE TYPE" not in columns or "USED" not in columns:
        return
    used_column, available_column = columns["USED"], columns.get("AVAILABLE")
    for row in table.all_rows():
        name = row[columns["SITE TYPE"]].rstrip("*").strip()
        where = f"row {name!r}"
        used = parse_float(row[used_column], f"{where} Used")
        available = None
        if available_column is not None and not is_undefined(row[available_column]):
            available = parse_float(row[available_column], f"{where} Available")
        sites.setdefault(name, (used, available))


def _bram_18k(sites: dict[str, tuple[float, float | None]]) -> tuple[int, int]:
    ramb36 = next((sites[n] for n in ("RAMB36/FIFO", "RAMB36E2/FIFO") if n in sites), None)
    ramb18 = sites.get("RAMB18")
    if ramb36 is not None and ramb18 is not None:
        used = 2 * _whole(ramb36[0], "RAMB36/FIFO") + _whole(ramb18[0], "RAMB18")
        avail = ramb18[1] if ramb18[1] is not None else 2 * (ramb36[1] or 0)
        return used, round(avail)
    if "Block RAM Tile" in sites:
        tile_used, tile_available = sites["Block RAM Tile"]
        return round(2 * tile_used), round(2 * (tile_available or 0))
    raise ValueError("missing required row 'Block RAM Tile' or 'RAMB36/FIFO' and 'RAMB18'")


def _whole(value: float, where: str) -> int:
    if value != int(value):
        raise ValueError(f"row {where!r}: expected a whole count, got {value}")
    return int(value)
