"""The ASCII tables of Vivado and Vitis text reports, tokenized and keyed by their headings.

Both ``*_csynth.rpt`` and ``report_utilization`` print their data as tables between ``+----+``
borders. Columns are found by their header names, not their positions, because Vivado added a
``Prohibited`` column in 2021, Vitis renamed ``DSP48E`` to ``DSP`` and Vitis 2020.1 added
absolute-time columns to the latency tables. A header may span two rows (``Latency`` over
``min | max``); :meth:`_Table.labels` joins them by character position into one label per
column (``LATENCY (CYCLES) MIN``). In a csynth report the same table shape appears under
several headings (the Instance table exists for latency and for resources), so each table is
keyed by the headings above it: ``== Section``, ``+ Group:`` at column 0 (a unit in
parentheses, ``+ Timing (ns):`` in 2018.x and 2019.x, is dropped) and ``* Table:``. Resource
cells read as counts, ``-`` as 0; which tables and rows a report must have is left to the
readers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hardware_models._cells import empty_resources, is_undefined, parse_int

_SECTION = re.compile(r"^== (.+?)\s*$")
_GROUP = re.compile(r"^\+ (.+?):\s*$")
_TABLE_NAME = re.compile(r"^\s*\* (.+?):\s*$")
_BORDER = re.compile(r"^\+[-+]+\+$")
_UNIT = re.compile(r"\s*\([^()]*\)$")


@dataclass(frozen=True)
class _Table:
    """One ASCII table: header rows, then body blocks separated by borders.

    Attributes:
        header: Cells of each header row.
        blocks: Body blocks (rows between borders), each a tuple of rows of cells.
        header_lines: The header rows as printed (without indentation), for
            :meth:`labels`.
        error: Why the table is malformed (a row with another number of cells than its
            header), or ``None``. A reader decides whether that costs the report or only
            this table.
    """

    header: tuple[tuple[str, ...], ...]
    blocks: tuple[tuple[tuple[str, ...], ...], ...]
    header_lines: tuple[str, ...] = ()
    error: str | None = None

    def columns(self) -> dict[str, int]:
        """Map each header name of the last header row (upper case) to its column."""
        if not self.header:
            return {}
        return {name.upper(): index for index, name in enumerate(self.header[-1]) if name}

    def labels(self) -> tuple[str, ...]:
        """One upper-case label per column, joining every header row above it.

        A cell of an upper header row names every column below it whose span it covers, so
        ``|  Latency  |  Interval |`` over ``| min | max | min | max |`` gives ``LATENCY MIN``,
        ``LATENCY MAX``, ``INTERVAL MIN``, ``INTERVAL MAX``.
        """
        if not self.header_lines:
            return ()
        spans = [_cell_spans(line) for line in self.header_lines]
        labels = []
        for start, end, text in spans[-1]:
            words = [
                cell
                for row in spans[:-1]
                for cell_start, cell_end, cell in row
                if cell and cell_start <= start and end <= cell_end
            ]
            labels.append(" ".join(" ".join([*words, text]).split()).upper())
        return tuple(labels)

    def rows(self) -> tuple[tuple[str, ...], ...]:
        """Body rows of the first block (the data rows, without ``Total``)."""
        return self.blocks[0] if self.blocks else ()

    def all_rows(self) -> tuple[tuple[str, ...], ...]:
        """Every body row of every block."""
        return tuple(row for block in self.blocks for row in block)


def _cell_spans(line: str) -> list[tuple[int, int, str]]:
    """``(start, end, text)`` of each cell of a table line, by the positions of its ``|``."""
    bars = [index for index, char in enumerate(line) if char == "|"]
    return [(a, b, line[a + 1 : b].strip()) for a, b in zip(bars, bars[1:], strict=False)]


def _keyed_tables(lines: list[str]) -> dict[tuple[str, str, str], _Table]:
    """Key the first table under each ``(== Section, + Group, * Table)`` heading."""
    tables: dict[tuple[str, str, str], _Table] = {}
    section = group = name = ""
    index = 0
    while index < len(lines):
        line = lines[index]
        if (match := _SECTION.match(line)) is not None:
            section, group, name = match[1], "", ""
        elif (match := _GROUP.match(line)) is not None:
            group, name = _UNIT.sub("", match[1]), ""
        elif (match := _TABLE_NAME.match(line)) is not None:
            name = match[1]
        elif _BORDER.match(line.strip()):
            table, index = _read_table(lines, index)
            tables.setdefault((section, group, name), table)
            continue
        index += 1
    return tables


def _read_table(lines: list[str], start: int) -> tuple[_Table, int]:
    """Read the table whose top border is ``lines[start]``; return it and the next index.

    A row with another number of cells than the header does not raise: the table comes back
    with ``error`` set, so that a malformed detail table costs only itself.
    """
    blocks: list[list[tuple[str, ...]]] = [[]]
    first_block_lines: list[str] = []
    index = start + 1
    while index < len(lines):
        stripped = lines[index].strip()
        if _BORDER.match(stripped):
            blocks.append([])
        elif stripped.startswith("|") and stripped.endswith("|") and len(stripped) > 1:
            blocks[-1].append(tuple(cell.strip() for cell in stripped[1:-1].split("|")))
            if len(blocks) == 1 or not any(blocks[:-1]):
                first_block_lines.append(stripped)
        else:
            break
        index += 1
    non_empty = [tuple(block) for block in blocks if block]
    if len(non_empty) <= 1:
        return _Table(header=(), blocks=tuple(non_empty)), index
    width = len(non_empty[0][-1])
    error = None
    for offset, line in enumerate(lines[start:index]):
        cells = line.strip().count("|") - 1
        if line.strip().startswith("|") and cells != width and offset > len(non_empty[0]):
            error = (
                f"malformed table at line {start + offset + 1}: {cells} cells where its header "
                f"has {width}"
            )
            break
    return (
        _Table(
            header=non_empty[0],
            blocks=tuple(non_empty[1:]),
            header_lines=tuple(first_block_lines),
            error=error,
        ),
        index,
    )


def _row_resources(row: tuple[str, ...], columns: dict[str, int], where: str) -> dict[str, int]:
    counts = empty_resources()
    for key, index in columns.items():
        if index < len(row):
            counts[key] = _count(row[index], f"{where} {key}")
    return counts


def _count(cell: str, where: str) -> int:
    """A resource cell: ``-`` (nothing of this kind) counts as 0.

    The Vitis Synthesis Summary prints a share after the count (``5 (1%)``, ``643 (~0%)``);
    only the count is read.
    """
    if is_undefined(cell):
        return 0
    return parse_int(cell.split("(", 1)[0], where)


def _cell_count(row: tuple[str, ...], column: int | None, where: str) -> int | None:
    if column is None or column >= len(row):
        return None
    return _count(row[column], where)
