"""Parsing of report cells: counts, cycle ranges, clock periods, resource and core names.

Every reader (:mod:`hardware_models._xml_report`, :mod:`hardware_models._text_report`,
:mod:`hardware_models._summary_report`, :mod:`hardware_models._utilization_report`) reads its
numbers through these functions, so that ``undef``, ``?``, ``-``, a range ``"42 ~ 105"`` or a
``DSP48E`` tag mean the same in every layout. Each raises ``ValueError("<where>: ...")``
naming the field, which the readers turn into a one-line ``ReportError``.
"""

from __future__ import annotations

import math
import re

from hardware_models._report import RESOURCE_KEYS, CycleRange

__all__ = [
    "empty_resources",
    "expression_kind",
    "is_undefined",
    "parse_core_name",
    "parse_float",
    "parse_int",
    "parse_optional_int",
    "parse_range",
    "parse_storage_size",
    "resource_key",
]

# Operator cores are named <kind>_<in widths>_<out width>_<latency>[_<impl>]_<n>[_U<k>], with
# each input width suffixed ``s`` (signed) or ``ns`` (not signed): ``mul_8s_8s_16_1_1``,
# ``fadd_32ns_32ns_32_4_full_dsp_1``. Vivado HLS before 2020 prefixes the top name
# (``myproject_mul_mul_16s_8s_24_1_1``), hence the search for the last word before the widths.
_CORE_NAME = re.compile(
    r"(?:^|_)(?P<kind>[a-z][a-z0-9]*)_(?P<inputs>(?:\d+n?s_)+)(?P<out>\d+)_(?P<latency>\d+)"
    r"(?:_(?P<impl>[a-z][a-z_]*?))?_\d+(?:_U\d+)?$"
)

# Expression tables print the operation as a symbol or a word.
_EXPRESSION_KINDS = {
    "+": "add",
    "-": "sub",
    "*": "mul",
    "/": "div",
    "%": "rem",
    "<<": "shl",
    ">>": "shr",
    "==": "icmp",
}

_UNDEFINED = ("undef", "?", "-", "")


def parse_core_name(name: str) -> tuple[str, tuple[int, ...], int, str | None] | None:
    """Split an operator-core RTL name into (kind, input widths, latency, impl).

    Args:
        name: A module or RTL name such as ``fadd_32ns_32ns_32_4_full_dsp_1_U142``.

    Returns:
        ``(kind, widths, latency, impl)`` or ``None`` if ``name`` is not an operator core.

    Example:
        >>> parse_core_name("fadd_32ns_32ns_32_4_full_dsp_1")
        ('fadd', (32, 32), 4, 'full_dsp')
        >>> parse_core_name("mul_8s_8s_16_1_1")
        ('mul', (8, 8), 1, None)
    """
    match = _CORE_NAME.search(name)
    if match is None:
        return None
    widths = tuple(int(w) for w in re.findall(r"(\d+)n?s_", match["inputs"]))
    return match["kind"], widths, int(match["latency"]), match["impl"]


def expression_kind(operation: str) -> str:
    """Return the operator kind of an Expression-table operation (``+`` -> ``add``)."""
    operation = operation.strip().lower()
    return _EXPRESSION_KINDS.get(operation, operation)


def is_undefined(text: str) -> bool:
    """Tell whether a report cell holds no number on purpose (``undef``, ``?``, ``-``)."""
    return text.strip().lower() in _UNDEFINED


def parse_int(text: str, where: str) -> int:
    """Parse a count, raising ``ValueError("<where>: ...")`` when it is not one.

    Args:
        text: The cell or element text.
        where: Name of the field, for the message.

    Returns:
        The integer.

    Raises:
        ValueError: If ``text`` is not an integer.
    """
    cleaned = text.strip().replace(",", "")
    try:
        return int(cleaned)
    except ValueError:
        raise ValueError(f"{where}: expected an integer, got {text.strip()[:40]!r}") from None


def parse_optional_int(text: str | None, where: str) -> int | None:
    """Like :func:`parse_int`, but ``None`` for a missing or undefined value."""
    if text is None or is_undefined(text):
        return None
    return parse_int(text, where)


def parse_range(text: str | None, where: str) -> CycleRange:
    """Parse a cycle count or a cycle range into ``(min, max)``.

    Vitis HLS 2022.2 to 2024.1 write ``"42 ~ 105"`` where a module's latency or initiation
    interval depends on the data (``PipelineInitiationInterval``, loop ``Latency``); a single
    count ``n`` reads as ``(n, n)`` and ``undef``, ``?``, ``-`` or a missing value as
    ``(None, None)``.

    Args:
        text: The element text or table cell, or ``None``.
        where: Name of the field, for the message.

    Returns:
        ``(min, max)`` in clock cycles.

    Raises:
        ValueError: If ``text`` is neither a count, a range nor undefined, or a range runs
            backwards.

    Example:
        >>> parse_range("42 ~ 105", "II")
        (42, 105)
        >>> parse_range("7", "II"), parse_range("undef", "II")
        ((7, 7), (None, None))
    """
    if text is None or is_undefined(text):
        return None, None
    if "~" not in text:
        value = parse_int(text, where)
        return value, value
    low_text, _, high_text = text.partition("~")
    try:
        low = parse_optional_int(low_text, where)
        high = parse_optional_int(high_text, where)
    except ValueError:
        raise ValueError(
            f"{where}: expected an integer or a range 'min ~ max', got {text.strip()[:40]!r}"
        ) from None
    if low is not None and high is not None and low > high:
        raise ValueError(f"{where}: range runs backwards, got {text.strip()[:40]!r}")
    return low, high


def parse_storage_size(text: str, where: str) -> tuple[int | None, int | None, int | None]:
    """(bits, words, banks) of a Vitis storage size ``"32, 4, 1"`` or ``"32 4 1"``.

    Example:
        >>> parse_storage_size("160, 32, 1", "fifo")
        (160, 32, 1)
    """
    parts = text.replace(",", " ").split()
    if not parts or all(is_undefined(p) for p in parts):
        return None, None, None
    if len(parts) != 3:
        raise ValueError(f"{where}: expected 'bitwidth, depth, banks', got {text.strip()!r}")
    bits, words, banks = (parse_int(p, where) for p in parts)
    return bits, words, banks


def parse_float(text: str, where: str) -> float:
    """Parse a real number, optionally suffixed ``ns``; ``ValueError`` names ``where``."""
    cleaned = text.strip()
    if cleaned.endswith("ns"):
        cleaned = cleaned[:-2].strip()
    try:
        value = float(cleaned)
    except ValueError:
        raise ValueError(f"{where}: expected a number, got {text.strip()[:40]!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{where}: expected a finite number, got {text.strip()[:40]!r}")
    return value


def empty_resources() -> dict[str, int]:
    """Return a fresh resource dictionary with every key of :data:`RESOURCE_KEYS` at 0."""
    return dict.fromkeys(RESOURCE_KEYS, 0)


def resource_key(tag: str) -> str | None:
    """Map a report's resource name to a key of :data:`RESOURCE_KEYS`, or ``None``.

    ``DSP48E`` (Vivado HLS, even on UltraScale+) and ``DSP`` (Vitis HLS) both become ``DSP``.
    """
    tag = tag.strip().upper()
    if tag in ("DSP48E", "DSP48", "DSP", "DSP58"):
        return "DSP"
    if tag in ("BRAM_18K", "BRAM"):
        return "BRAM_18K"
    if tag in ("LUT", "FF", "URAM"):
        return tag
    return None
