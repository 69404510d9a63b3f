"""The synthesis report as one value: :class:`HlsReport` and its row records.

Vivado HLS, Vitis HLS and Vivado each write their numbers in a different shape (two XML
schemas, two text layouts). Every reader in this package returns the same frozen value instead,
so that a cost model, a calibration or a plot never has to know which tool or version wrote the
file. Resource counts are plain integers in the units the tools count them in: LUTs, flip-flops,
DSP slices (``DSP48E1``/``DSP48E2``/``DSP58``), 18 Kb block RAMs and 288 Kb UltraRAMs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hardware_models._errors import HardwareModelError

__all__ = [
    "RESOURCE_KEYS",
    "CycleRange",
    "HlsReport",
    "MemoryRow",
    "ModuleResources",
    "OperatorRow",
]

#: The resource keys of every ``resources`` / ``available`` dictionary, in report order.
RESOURCE_KEYS: tuple[str, ...] = ("LUT", "FF", "DSP", "BRAM_18K", "URAM")

#: A (best or min, worst or max) pair in clock cycles; an element is ``None`` where the tool
#: printed ``undef`` or ``?`` (data-dependent loop bounds).
CycleRange = tuple[int | None, int | None]

_SCHEMA_VERSION = 1

_TOOLS = ("vivado_hls", "vitis_hls", "vivado")
_UTILIZATION_KINDS = ("hls_estimate", "post_synthesis")


@dataclass(frozen=True)
class OperatorRow:
    """One arithmetic or logic operator the HLS tool bound to hardware.

    Operator rows are the raw material of operator characterization: the cost of an adder or
    multiplier as a function of its input widths, as the tool estimated it.

    Attributes:
        name: RTL name of the operator instance (``add_ln12_fu_100_p2``,
            ``fadd_32ns_32ns_32_4_full_dsp_1_U142``).
        kind: Operation in lower case: ``add``, ``sub``, ``mul``, ``icmp``, ``select``,
            ``fadd``, ``fmul``... (Expression-table symbols ``+ - *`` are spelled out).
        bit_widths: Input operand widths in bits, in port order; empty where the report does
            not give them (Vitis bind nodes of expressions).
        lut: LUTs, or ``None`` where the report does not say (Vitis bind nodes).
        ff: Flip-flops, or ``None`` where the report does not say.
        dsp: DSP slices, or ``None`` where the report does not say.
        latency: Pipeline latency in clock cycles, or ``None`` where unknown.
        impl: Implementation the tool chose (``fabric``, ``dsp``, ``full_dsp``, ``maxdsp``...),
            or ``None``.
        module: Module (function) holding the operator, or ``None`` for the report's top.
    """

    name: str
    kind: str
    bit_widths: tuple[int, ...]
    lut: int | None
    ff: int | None
    dsp: int | None
    latency: int | None
    impl: str | None = None
    module: str | None = None


@dataclass(frozen=True)
class ModuleResources:
    """Resources and latency of one sub-module (an HLS function) of a report.

    Attributes:
        name: Module name as the tool wrote it (a C++ function name, mangled for templates).
        resources: Resource counts keyed by :data:`RESOURCE_KEYS`.
        latency_cycles: (best, worst) latency in clock cycles, or ``None`` if not reported.
        interval: (min, max) initiation interval in clock cycles, or ``None``.
        instance: RTL instance name of the module in its parent, or ``None``.
    """

    name: str
    resources: dict[str, int] = field(hash=False)
    latency_cycles: CycleRange | None = None
    interval: CycleRange | None = None
    instance: str | None = None


@dataclass(frozen=True)
class MemoryRow:
    """One memory or FIFO the HLS tool built (an array or a stream).

    Attributes:
        name: RTL name of the memory instance (``temp_V_U``).
        kind: ``memory`` or ``fifo`` for text reports; the Vitis storage type (``ram_s2p``,
            ``rom_np``, ``fifo``...) for Vitis XML bind nodes.
        bram_18k: 18 Kb block RAMs.
        uram: UltraRAMs.
        lut: LUTs, or ``None`` where the report does not say.
        ff: Flip-flops, or ``None`` where the report does not say.
        words: Depth in words, or ``None``.
        bits: Word width in bits, or ``None``.
        banks: Number of banks, or ``None``.
        impl: Implementation (``bram``, ``lutram``, ``srl``, ``auto``...), or ``None``.
        module: Module holding the memory, or ``None`` for the report's top.
    """

    name: str
    kind: str
    bram_18k: int
    uram: int
    lut: int | None = None
    ff: int | None = None
    words: int | None = None
    bits: int | None = None
    banks: int | None = None
    impl: str | None = None
    module: str | None = None


@dataclass(frozen=True)
class HlsReport:
    """What one HLS or synthesis report says about a design, with units.

    ``resources`` and ``available`` always hold exactly the keys of :data:`RESOURCE_KEYS`.
    ``DSP48E`` and ``DSP`` tags both count as ``DSP``. Reports of 7-series parts and of tool
    versions before UltraRAM existed (2018.x) carry no ``URAM`` entry: it is read as 0, which
    means "none or unknown". An ``available`` count of 0 likewise means "not reported".

    Attributes:
        path: The file the report was read from.
        tool: ``vivado_hls``, ``vitis_hls`` or ``vivado`` (post-synthesis utilization).
        tool_version: Release such as ``2020.1``.
        part: Target part exactly as the report names it (``xc7z020-clg400-1``).
        top: Top function or design name.
        target_clock_ns: Requested clock period in ns, or ``None`` (utilization reports).
        estimated_clock_ns: Clock period the HLS tool estimated in ns, or ``None``.
        latency_cycles: (best, worst) latency in clock cycles, or ``None`` if not reported.
        interval: (min, max) initiation interval in clock cycles, or ``None``.
        resources: Resource counts used by the design.
        available: Resource counts of the part.
        modules: Per-module records where the report has them (Vitis ``ModuleInformation``,
            text Instance tables).
        operators: Operator rows where the report has them (text Expression and operator-core
            Instance rows, Vitis ``BindNode`` entries of type ``op``).
        memories: Memory and FIFO rows where the report has them.
        utilization_kind: ``hls_estimate`` (HLS reports) or ``post_synthesis`` (Vivado).
    """

    path: Path
    tool: str
    tool_version: str
    part: str
    top: str
    target_clock_ns: float | None
    estimated_clock_ns: float | None
    latency_cycles: CycleRange | None
    interval: CycleRange | None
    resources: dict[str, int] = field(hash=False)
    available: dict[str, int] = field(hash=False)
    modules: tuple[ModuleResources, ...] = ()
    operators: tuple[OperatorRow, ...] = ()
    memories: tuple[MemoryRow, ...] = ()
    utilization_kind: str = "hls_estimate"

    def __post_init__(self) -> None:
        if self.tool not in _TOOLS:
            raise HardwareModelError(f"HlsReport.tool must be one of {_TOOLS}, got {self.tool!r}")
        if self.utilization_kind not in _UTILIZATION_KINDS:
            raise HardwareModelError(
                f"HlsReport.utilization_kind must be one of {_UTILIZATION_KINDS}, "
                f"got {self.utilization_kind!r}"
            )
        for name in ("resources", "available"):
            keys = tuple(getattr(self, name))
            if sorted(keys) != sorted(RESOURCE_KEYS):
                raise HardwareModelError(
                    f"HlsReport.{name} must have exactly the keys {RESOURCE_KEYS}, got {keys}"
                )

    def utilization(self) -> dict[str, float | None]:
        """Return the fraction of the part each resource uses.

        Returns:
            Resource key to used / available in [0, 1+]; ``None`` where the available count
            is unknown (0).
        """
        return {
            key: (self.resources[key] / self.available[key] if self.available[key] else None)
            for key in RESOURCE_KEYS
        }

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary that :meth:`from_dict` turns back into this report."""
        return {
            "version": _SCHEMA_VERSION,
            "path": str(self.path),
            "tool": self.tool,
            "tool_version": self.tool_version,
            "part": self.part,
            "top": self.top,
            "target_clock_ns": self.target_clock_ns,
            "estimated_clock_ns": self.estimated_clock_ns,
            "latency_cycles": _range_to_json(self.latency_cycles),
            "interval": _range_to_json(self.interval),
            "resources": dict(self.resources),
            "available": dict(self.available),
            "modules": [
                {
                    "name": m.name,
                    "resources": dict(m.resources),
                    "latency_cycles": _range_to_json(m.latency_cycles),
                    "interval": _range_to_json(m.interval),
                    "instance": m.instance,
                }
                for m in self.modules
            ],
            "operators": [
                {
                    "name": o.name,
                    "kind": o.kind,
                    "bit_widths": list(o.bit_widths),
                    "lut": o.lut,
                    "ff": o.ff,
                    "dsp": o.dsp,
                    "latency": o.latency,
                    "impl": o.impl,
                    "module": o.module,
                }
                for o in self.operators
            ],
            "memories": [dict(vars(m)) for m in self.memories],
            "utilization_kind": self.utilization_kind,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HlsReport:
        """Rebuild a report from :meth:`to_dict` output.

        Args:
            data: A dictionary written by :meth:`to_dict` (possibly through JSON).

        Returns:
            The equal report.

        Raises:
            HardwareModelError: If ``data`` carries another schema version.
        """
        if data.get("version") != _SCHEMA_VERSION:
            raise HardwareModelError(
                f"HlsReport.from_dict: unsupported version {data.get('version')!r}, "
                f"expected {_SCHEMA_VERSION}"
            )
        return cls(
            path=Path(data["path"]),
            tool=data["tool"],
            tool_version=data["tool_version"],
            part=data["part"],
            top=data["top"],
            target_clock_ns=data["target_clock_ns"],
            estimated_clock_ns=data["estimated_clock_ns"],
            latency_cycles=_range_from_json(data["latency_cycles"]),
            interval=_range_from_json(data["interval"]),
            resources=dict(data["resources"]),
            available=dict(data["available"]),
            modules=tuple(
                ModuleResources(
                    name=m["name"],
                    resources=dict(m["resources"]),
                    latency_cycles=_range_from_json(m["latency_cycles"]),
                    interval=_range_from_json(m["interval"]),
                    instance=m["instance"],
                )
                for m in data["modules"]
            ),
            operators=tuple(
                OperatorRow(**{**o, "bit_widths": tuple(o["bit_widths"])})
                for o in data["operators"]
            ),
            memories=tuple(MemoryRow(**m) for m in data["memories"]),
            utilization_kind=data["utilization_kind"],
        )


def _range_to_json(value: CycleRange | None) -> list[int | None] | None:
    return None if value is None else list(value)


def _range_from_json(value: list[int | None] | None) -> CycleRange | None:
    return None if value is None else (value[0], value[1])


# --- helpers shared by the format readers ---------------------------------------------------

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
