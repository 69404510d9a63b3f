"""Reader for Vivado ``report_utilization`` text reports (post-synthesis or post-placement).

A utilization report counts what the netlist holds, which is not always the design: a block
design wrapper synthesized with its IPs out of context lists those IPs as black boxes and
prints 0 for everything (Vivado 2019.1, ``design_1_wrapper_utilization_synth.rpt`` of
mabonSOC). Such a report is read, but marked ``complete=False`` with the section that says
so, and :class:`~hardware_models.HlsCalibration` refuses it. Site rows are read from the
numbered device sections only: the per-SLR tables of multi-die parts (``13. SLR CLB Logic
and Dedicated Block Utilization``) repeat the row names with per-die counts, not totals.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from hardware_models._cells import empty_resources, is_undefined, parse_float
from hardware_models._errors import ReportError
from hardware_models._report import HlsReport
from hardware_models._text_tables import _BORDER, _read_table, _Table

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["is_utilization_rpt", "read_utilization_rpt", "vivado_command"]

_VIVADO_FIELD = re.compile(
    r"^\|\s*(Tool Version|Design|Device|Design State|Command)\s*:\s*(.*?)\s*$"
)
_VERSION = re.compile(r"(\d{4}\.\d+)")
_SECTION = re.compile(r"^(\d+(?:\.\d+)*)\.?\s+(\S.*?)\s*$")
_UNDERLINE = re.compile(r"^-{3,}\s*$")

# Site rows that must be present, by resource key; the first name found is used.
_REQUIRED_SITES = {
    "LUT": ("Slice LUTs", "CLB LUTs"),
    "FF": ("Register as Flip Flop", "Slice Registers", "CLB Registers"),
    "DSP": ("DSPs",),
}


def is_utilization_rpt(text: str) -> bool:
    """Tell whether ``text`` is a Vivado ``report_utilization`` report."""
    head = text[:4000]
    command = vivado_command(text)
    if command is not None:
        return command == "report_utilization"
    return "Utilization Design Information" in head


def vivado_command(text: str) -> str | None:
    """The Tcl command of a Vivado report header (``report_utilization``), or ``None``.

    Every Vivado text report starts with a ``| Command : <command> -file ...`` line; that
    names the kind of report whatever the file is called.
    """
    for line in text.splitlines()[:40]:
        match = _VIVADO_FIELD.match(line)
        if match is not None and match[1] == "Command" and match[2]:
            return match[2].split()[0]
    return None


def read_utilization_rpt(path: Path, text: str) -> HlsReport:
    """Parse a Vivado ``report_utilization`` text report (post-synthesis or later).

    ``BRAM_18K`` counts 18 Kb halves: 2 x ``RAMB36/FIFO`` + ``RAMB18`` (or 2 x ``Block RAM
    Tile`` where the split is not printed). ``FF`` is ``Register as Flip Flop`` where printed
    (latches excluded), else ``Slice Registers`` / ``CLB Registers``.

    Args:
        path: The file the text came from.
        text: The whole file.

    Returns:
        The report, with ``utilization_kind`` ``post_synthesis`` and no clock or latency;
        ``complete`` is ``False`` where section ``Black Boxes`` lists cells, or where every
        count is 0 and section ``Primitives`` lists no cell (a wrapper whose logic was
        synthesized out of context).

    Raises:
        ReportError: If a required header field or site row is missing or garbled.
    """
    try:
        return _read_utilization(path, text)
    except ReportError:
        raise
    except ValueError as exc:
        raise ReportError(path, str(exc)) from None


def _read_utilization(path: Path, text: str) -> HlsReport:
    lines = text.splitlines()
    header: dict[str, str] = {}
    for line in lines[:40]:
        match = _VIVADO_FIELD.match(line)
        if match is not None:
            header.setdefault(match[1], match[2])
    version = _VERSION.search(header.get("Tool Version", ""))
    if version is None:
        raise ValueError("missing required field '| Tool Version :' in the report header")
    for field_name in ("Device", "Design"):
        if not header.get(field_name):
            raise ValueError(f"missing required field '| {field_name} :' in the report header")

    sections = _sections(lines)
    sites: dict[str, tuple[float, float | None]] = {}
    for title, table in sections:
        if not title.upper().startswith("SLR"):
            _collect_sites(table, sites)

    resources = empty_resources()
    available = empty_resources()
    for key, names in (*_REQUIRED_SITES.items(), ("URAM", ("URAM",))):
        name = next((n for n in names if n in sites), None)
        if name is None:
            if key == "URAM":
                continue  # 7-series parts have no UltraRAM row
            raise ValueError(f"missing required row {' / '.join(map(repr, names))}")
        used, avail = sites[name]
        resources[key] = _whole(used, name)
        available[key] = 0 if avail is None else _whole(avail, name)
    resources["BRAM_18K"], available["BRAM_18K"] = _bram_18k(sites)
    reason = _incompleteness(sections, resources)
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
        complete=reason is None,
        incomplete_reason=reason,
    )


def _sections(lines: list[str]) -> list[tuple[str, _Table]]:
    """Every table with the title of the numbered section it is in (``Black Boxes``)."""
    tables: list[tuple[str, _Table]] = []
    title = ""
    index = 0
    while index < len(lines):
        stripped = lines[index].strip()
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if _BORDER.match(stripped):
            table, index = _read_table(lines, index)
            tables.append((title, table))
            continue
        match = _SECTION.match(stripped)
        if match is not None and _UNDERLINE.match(following.strip()):
            title = match[2]
        index += 1
    return tables


def _collect_sites(table: _Table, sites: dict[str, tuple[float, float | None]]) -> None:
    columns = table.columns()
    if "SITE TYPE" not in columns or "USED" not in columns:
        return
    if table.error is not None:
        names = {row[columns["SITE TYPE"]].rstrip("*").strip() for row in table.all_rows()}
        if any(name in names for group in _REQUIRED_SITES.values() for name in group):
            raise ValueError(table.error)
        return  # a malformed table of other sites (I/O, clocking) costs only itself
    used_column, available_column = columns["USED"], columns.get("AVAILABLE")
    for row in table.all_rows():
        name = row[columns["SITE TYPE"]].rstrip("*").strip()
        where = f"row {name!r}"
        used = parse_float(row[used_column], f"{where} Used")
        available = None
        if available_column is not None and not is_undefined(row[available_column]):
            available = parse_float(row[available_column], f"{where} Available")
        sites.setdefault(name, (used, available))


def _incompleteness(sections: list[tuple[str, _Table]], resources: dict[str, int]) -> str | None:
    """Why the counts leave part of the design out, naming the section; ``None`` if not."""
    by_title = {title.lower(): table for title, table in sections}
    black_boxes = _listed(by_title.get("black boxes"))
    if black_boxes:
        shown = ", ".join(black_boxes[:4]) + (", ..." if len(black_boxes) > 4 else "")
        return (
            f"section 'Black Boxes' lists {len(black_boxes)} black box(es) ({shown}): their "
            "logic is not counted, so the counts are not the design's"
        )
    primitives = by_title.get("primitives")
    if (
        primitives is not None
        and not _listed(primitives)
        and not any(resources[key] for key in ("LUT", "FF", "DSP", "BRAM_18K"))
    ):
        return (
            "section 'Primitives' lists no cell and every count is 0: the netlist holds no "
            "logic (a wrapper synthesized with its logic out of context?)"
        )
    return None


def _listed(table: _Table | None) -> list[str]:
    """Reference names of a ``Ref Name | Used`` table with a used count above 0.

    An empty table prints its header row alone, which reads as one row whose ``Used`` cell
    is not a number: such rows are not cells.
    """
    if table is None:
        return []
    names = []
    for row in table.all_rows():
        if len(row) < 2 or is_undefined(row[1]):
            continue
        try:
            used = float(row[1])
        except ValueError:
            continue
        if used > 0:
            names.append(row[0])
    return names


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
