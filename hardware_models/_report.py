"""The synthesis report as one value: :class:`HlsReport` and its row records.

Vivado HLS, Vitis HLS and Vivado each write their numbers in a different shape (two XML
schemas, two text layouts). Every reader in this package returns the same frozen value instead,
so that a cost model, a calibration or a plot never has to know which tool or version wrote the
file. Resource counts are plain integers in the units the tools count them in: LUTs, flip-flops,
DSP slices (``DSP48E1``/``DSP48E2``/``DSP58``), 18 Kb block RAMs and 288 Kb UltraRAMs.
"""

from __future__ import annotations

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

_SCHEMA_VERSION = 2

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
        target_clock_ns: Requested clock period in ns, or ``None`` (utilization reports and
            the Vitis "Synthesis Summary" ``csynth.rpt``, which print none).
        estimated_clock_ns: Clock period the HLS tool estimated in ns, or ``None``; 0.0 where
            the tool found no logic path (a design synthesized away, Vivado HLS 2018.2).
        latency_cycles: (best, worst) latency in clock cycles, or ``None`` if not reported;
            ``(None, worst)`` from the "Synthesis Summary", which prints the worst case only.
        interval: (min, max) initiation interval in clock cycles, or ``None``; a range the
            tool writes as ``"42 ~ 105"`` reads as ``(42, 105)``.
        resources: Resource counts used by the design.
        available: Resource counts of the part.
        modules: Per-module records where the report has them (Vitis ``ModuleInformation``,
            text Instance tables, the module rows of the "Synthesis Summary").
        operators: Operator rows where the report has them (text Expression and operator-core
            Instance rows, Vitis ``BindNode`` entries of type ``op`` and the Bind Op Report
            of the "Synthesis Summary"). Interface adapters are not operators.
        memories: Memory and FIFO rows where the report has them (interface adapters left
            out).
        utilization_kind: ``hls_estimate`` (HLS reports) or ``post_synthesis`` (Vivado).
        complete: Whether ``resources`` count the whole design. ``False`` where the report
            itself says they leave part of it out (a Vivado utilization report of a design
            with black boxes, or of an out-of-context wrapper with no logic): such counts must
            not be used as the size of the design (``HlsCalibration.fit`` refuses them).
        incomplete_reason: Why the counts are not complete, naming the report section that
            says so; ``None`` where ``complete``.
        warnings: Optional details the reader could not read and left out, one line each
            (a garbled per-module latency, an unparsable detail table...). The required
            totals are never among them: a report without them is refused.
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
    complete: bool = True
    incomplete_reason: str | None = None
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.tool not in _TOOLS:
            raise HardwareModelError(f"HlsReport.tool must be one of {_TOOLS}, got {self.tool!r}")
        if self.utilization_kind not in _UTILIZATION_KINDS:
            raise HardwareModelError(
                f"HlsReport.utilization_kind must be one of {_UTILIZATION_KINDS}, "
                f"got {self.utilization_kind!r}"
            )
        if self.complete != (self.incomplete_reason is None):
            raise HardwareModelError(
                "HlsReport.incomplete_reason must be given exactly when complete is False, got "
                f"complete={self.complete!r}, incomplete_reason={self.incomplete_reason!r}"
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
            "complete": self.complete,
            "incomplete_reason": self.incomplete_reason,
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HlsReport:
        """Rebuild a report from :meth:`to_dict` output.

        Version 1 dictionaries (written before ``complete`` and ``warnings`` existed) read as
        complete reports without warnings.

        Args:
            data: A dictionary written by :meth:`to_dict` (possibly through JSON).

        Returns:
            The equal report.

        Raises:
            HardwareModelError: If ``data`` carries another schema version.
        """
        if data.get("version") not in (1, _SCHEMA_VERSION):
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
            complete=data.get("complete", True),
            incomplete_reason=data.get("incomplete_reason"),
            warnings=tuple(data.get("warnings", ())),
        )


def _range_to_json(value: CycleRange | None) -> list[int | None] | None:
    return None if value is None else list(value)


def _range_from_json(value: list[int | None] | None) -> CycleRange | None:
    return None if value is None else (value[0], value[1])
