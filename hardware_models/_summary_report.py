"""Reader for the top-level ``csynth.rpt`` Vitis HLS writes since 2020.2 ("Synthesis Summary").

The file opens with ``== Synthesis Summary Report of '<top>'``, a ``+ General Information:``
block (version, target device) and one ``Performance & Resource Estimates`` table: a row per
module (``+``) and loop (``o``), the top first, with slack, latency, interval and resources
(``5 (1%)``: a count and its share of the part). ``Bind Op Report`` and ``Storage Report``
sections list the bound operators and memories per module, as the ``BindNode`` entries of the
``csynth.xml`` written next to it.

The layout prints less than the XML: no clock period (only the slack), no available
resources, and one latency and one interval per module, the worst case (r01, Vitis 2024.1:
``143`` and ``144`` where the XML gives ``11 ~ 143`` and ``12 ~ 144``). Those read as
``None``, 0 and ``(None, worst)``; a range printed as ``a ~ b`` reads as ``(a, b)``.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from hardware_models._cells import (
    empty_resources,
    parse_core_name,
    parse_int,
    parse_optional_int,
    parse_range,
    parse_storage_size,
    resource_key,
)
from hardware_models._errors import ReportError
from hardware_models._report import CycleRange, HlsReport, MemoryRow, ModuleResources, OperatorRow
from hardware_models._text_report import csynth_header, header_version_and_part
from hardware_models._text_tables import _keyed_tables, _row_resources, _Table

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["is_summary_rpt", "read_summary_rpt"]

_logger = logging.getLogger(__name__)

_TITLE = re.compile(r"^== Synthesis Summary Report of '(.+)'\s*$", re.MULTILINE)
_ESTIMATES = "Performance & Resource Estimates"


def is_summary_rpt(text: str) -> bool:
    """Tell whether ``text`` is a Vitis HLS "Synthesis Summary" ``csynth.rpt``."""
    return _TITLE.search(text) is not None


def read_summary_rpt(path: Path, text: str) -> HlsReport:
    """Parse a Vitis HLS "Synthesis Summary" ``csynth.rpt``.

    Args:
        path: The file the text came from.
        text: The whole file.

    Returns:
        The report: resources of the top's row, its worst-case latency and interval,
        ``modules`` from the ``+`` rows, ``operators`` and ``memories`` from the Bind Op and
        Storage reports (interface adapters left out). ``target_clock_ns`` and
        ``estimated_clock_ns`` are ``None`` and ``available`` is all 0: the layout does not
        print them.

    Raises:
        ReportError: If the header, the ``Performance & Resource Estimates`` table, its
            resource columns or the top's row is missing or garbled.
    """
    try:
        return _read(path, text)
    except ReportError:
        raise
    except ValueError as exc:
        raise ReportError(path, str(exc)) from None


def _read(path: Path, text: str) -> HlsReport:
    title = _TITLE.search(text)
    if title is None:
        raise ValueError("missing the '== Synthesis Summary Report of' title")
    top = title[1]
    lines = text.splitlines()
    version, part = header_version_and_part(csynth_header(lines))
    tables = _keyed_tables(lines)
    estimates = next(
        (table for (_, group, _), table in tables.items() if group == _ESTIMATES), None
    )
    if estimates is None or not estimates.rows():
        raise ValueError(f"missing required table '+ {_ESTIMATES}:'")
    if estimates.error is not None:
        raise ValueError(f"'{_ESTIMATES}' table: {estimates.error}")
    labels = estimates.labels()
    columns = {key: i for i, label in enumerate(labels) if (key := resource_key(label))}
    missing = [key for key in ("LUT", "FF", "DSP", "BRAM_18K") if key not in columns]
    if missing:
        raise ValueError(f"'{_ESTIMATES}' table: missing required column {missing[0]}")

    warnings: list[str] = []
    modules: list[ModuleResources] = []
    top_row = None
    for row in estimates.rows():
        marker, name = _marked_name(row[0])
        if marker != "+":
            continue  # a loop
        if name == top and top_row is None:
            top_row = row
        try:
            modules.append(_module(name, row, labels, columns))
        except ValueError as exc:
            warnings.append(f"module {name!r}: {exc}; left out")
    if top_row is None:
        raise ValueError(f"'{_ESTIMATES}' table: missing the row of the top module {top!r}")
    resources = _row_resources(top_row, columns, f"{_ESTIMATES} {top}")
    top_module = next((m for m in modules if m.name == top), None)
    operators = _bind_ops(tables.get(("Bind Op Report", "", "")), warnings)
    memories = _storage(tables.get(("Storage Report", "", "")), warnings)
    if warnings:
        _logger.warning(
            "%s: %d optional detail(s) left out, first: %s", path, len(warnings), warnings[0]
        )
    return HlsReport(
        path=path,
        tool="vitis_hls",
        tool_version=version,
        part=part,
        top=top,
        target_clock_ns=None,
        estimated_clock_ns=None,
        latency_cycles=None if top_module is None else top_module.latency_cycles,
        interval=None if top_module is None else top_module.interval,
        resources=resources,
        available=empty_resources(),
        modules=tuple(modules),
        operators=operators,
        memories=memories,
        utilization_kind="hls_estimate",
        warnings=tuple(warnings),
    )


def _marked_name(cell: str) -> tuple[str, str]:
    """Split ``"+ weighted_rr*"`` into the marker (``+`` module, ``o`` loop) and the name.

    A trailing ``*`` marks a dataflow region and is not part of the name.
    """
    text = cell.strip()
    if text[:2] in ("+ ", "o "):
        return text[0], text[2:].strip().rstrip("*").strip()
    return "", text.rstrip("*").strip()


def _module(
    name: str, row: tuple[str, ...], labels: tuple[str, ...], columns: dict[str, int]
) -> ModuleResources:
    def cycles(label: str) -> CycleRange | None:
        index = labels.index(label) if label in labels else None
        if index is None or index >= len(row):
            return None
        return _worst_case(row[index], f"{label.title()} of {name}")

    return ModuleResources(
        name=name,
        resources=_row_resources(row, columns, f"{_ESTIMATES} {name}"),
        latency_cycles=cycles("LATENCY (CYCLES)"),
        interval=cycles("INTERVAL"),
    )


def _worst_case(cell: str, where: str) -> CycleRange:
    """A single count is the worst case (min unknown); ``a ~ b`` is both; ``-`` neither."""
    if "~" in cell:
        return parse_range(cell, where)
    return None, parse_optional_int(cell, where)


def _hierarchy(table: _Table | None, name: str, warnings: list[str]) -> list[tuple[str, dict]]:
    """Rows of a Bind Op or Storage table as (module, cells by label), ``+`` rows consumed."""
    if table is None:
        return []
    if table.error is not None:
        warnings.append(f"{name}: {table.error}; left out")
        return []
    labels = table.labels()
    rows: list[tuple[str, dict]] = []
    module = ""
    for row in table.all_rows():
        marker, cell = _marked_name(row[0])
        if marker == "+":
            module = cell
        elif cell:
            rows.append((module, dict(zip(labels, row, strict=False))))
    return rows


def _bind_ops(table: _Table | None, warnings: list[str]) -> tuple[OperatorRow, ...]:
    """Operators of the Bind Op Report; the DSP cell is blank where the operator uses none."""
    operators = []
    for module, cells in _hierarchy(table, "Bind Op Report", warnings):
        name, kind = cells.get("NAME", ""), cells.get("OP", "").strip().lower()
        core = parse_core_name(name)
        kind = kind or (core[0] if core else "")
        if not kind:
            continue
        where = f"Bind Op {name!r}"
        try:
            dsp = cells.get("DSP", "")
            operators.append(
                OperatorRow(
                    name=name,
                    kind=kind,
                    bit_widths=core[1] if core else (),
                    lut=None,
                    ff=None,
                    dsp=0 if not dsp.strip() else parse_int(dsp, f"{where} DSP"),
                    latency=parse_optional_int(cells.get("LATENCY"), f"{where} Latency"),
                    impl=cells.get("IMPL") or None,
                    module=module or None,
                )
            )
        except ValueError as exc:
            warnings.append(f"{exc}; left out")
    return tuple(operators)


def _storage(table: _Table | None, warnings: list[str]) -> tuple[MemoryRow, ...]:
    """Memories of the Storage Report; ``interface`` rows (bus adapters) are left out."""
    memories = []
    for module, cells in _hierarchy(table, "Storage Report", warnings):
        usage = cells.get("USAGE", "").split()
        if not usage or usage[0] == "interface":
            continue
        name = cells.get("NAME", "")
        where = f"Storage {name!r}"
        try:
            size = parse_storage_size(cells.get("BITWIDTH, DEPTH, BANKS", ""), where)
            memories.append(
                MemoryRow(
                    name=name,
                    kind=usage[0],
                    bram_18k=parse_optional_int(cells.get("BRAM"), f"{where} BRAM") or 0,
                    uram=parse_optional_int(cells.get("URAM"), f"{where} URAM") or 0,
                    words=size[1],
                    bits=size[0],
                    banks=size[2],
                    impl=cells.get("IMPL") or None,
                    module=module or None,
                )
            )
        except ValueError as exc:
            warnings.append(f"{exc}; left out")
    return tuple(memories)
