"""The ASCII tables of Vivado and Vitis text reports, tokenized and keyed by their headings.

Both ``*_csynth.rpt`` and ``report_utilization`` print their data as tables between ``+----+``
borders. Columns are found by their header names, not their positions, because Vivado added a
``Prohibited`` column in 2021 and Vitis renamed ``DSP48E`` to ``DSP``. In a csynth report the
same table shape appears under several headings (the Instance table exists for latency and for
resources), so each table is keyed by the headings above it: ``== Section``, ``+ Group:`` at
column 0 and ``* Table:``. Resource cells read as counts, ``-`` as 0; which tables and rows a
report must have is left to :mod:`hardware_models._text_report`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hardware_models._report import empty_resources, is_undefined, parse_int

_SECTION = re.compile(r"^== (.+?)\s*$")
_GROUP = re.compile(r"^\+ (.+?):\s*$")
_TABLE_NAME = re.compile(r"^\s*\* (.+?):\s*$")
_BORDER = re.compile(r"^\+[-+]+\+$")


@dataclass(frozen=True)
class _Table:
    """One ASCII table: header rows, then body blocks separated by borders."""

    header: tuple[tuple[str, ...], ...]
    blocks: tuple[tuple[tuple[str, ...], ...], ...]

    def columns(self) -> dict[str, int]:
        """Map each header name of the last header row (upper case) to its column."""
        if not self.header:
            return {}
        return {name.upper(): index for index, name in enumerate(self.header[-1]) if name}

    def rows(self) -> tuple[tuple[str, ...], ...]:
        """Body rows of the first block (the data rows, without ``Total``)."""
        return self.blocks[0] if self.blocks else ()

    def all_rows(self) -> tuple[tuple[str, ...], ...]:
        """Every body row of every block."""
        return tuple(row for block in self.blocks for row in block)


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
            group, name = match[1], ""
        elif (match := _TABLE_NAME.match(line)) is not None:
            name = match[1]
        elif _BORDER.match(line.strip()):
            table, index = _read_table(lines, index)
            tables.setdefault((section, group, name), table)
            continue
        index += 1
    return tables


def _read_table(lines: list[str], start: int) -> tuple[_Table, int]:
    """Read the table whose top border is ``lines[start]``; return it and the next index."""
    blocks: list[list[tuple[str, ...]]] = [[]]
    index = start + 1
    while index < len(lines):
        stripped = lines[index].strip()
        if _BORDER.match(stripped):
            blocks.append([])
        elif stripped.startswith("|") and stripped.endswith("|") and len(stripped) > 1:
            blocks[-1].append(tuple(cell.strip() for cell in stripped[1:-1].split("|")))
        else:
            break
        index += 1
    non_empty = [tuple(block) for block in blocks if block]
    if len(non_empty) <= 1:
        return _Table(header=(), blocks=tuple(non_empty)), index
    width = len(non_empty[0][-1])
    for offset, line in enumerate(lines[start:index]):
        cells = line.strip().count("|") - 1
        if line.strip().startswith("|") and cells != width and offset > len(non_empty[0]):
            raise ValueError(
                f"malformed table at line {start + offset + 1}: {cells} cells where its header "
                f"has {width}"
            )
    return _Table(header=non_empty[0], blocks=tuple(non_empty[1:])), index


def _row_resources(row: tuple[str, ...], columns: dict[str, int], where: str) -> dict[str, int]:
    counts = empty_resources()
    for key, index in columns.items():
        if index < len(row):
            counts[key] = _count(row[index], f"{where} {key}")
    return counts


def _count(cell: str, where: str) -> int:
    """A resource cell: ``-`` (nothing of this kind) counts as 0."""
    return 0 if is_undefined(cell) else parse_int(cell, where)


def _cell_count(row: tuple[str, ...], column: int | None, where: str) -> int | None:
    if column is None or column >= len(row):
        return None
    return _count(row[column], where)
