"""Reader for Vivado HLS / Vitis HLS ``csynth.xml`` and ``<module>_csynth.xml`` reports.

The schema drifted from 2018 to 2023: ``DSP48E`` became ``DSP``, ``URAM`` appeared, children
changed order, ``Average-caseLatency`` can be ``undef``, Vitis 2022+ added a top-level
``ModuleInformation`` with per-module ``BindNodes`` and Vitis 2022.2 to 2024.1 write a
data-dependent latency or interval as a range (``<PipelineInitiationInterval>42 ~ 105<``),
read as (min, max). Every value is therefore looked up by tag, never by position, and
optional parts are read only where present; one that cannot be read is left out with a line
in ``HlsReport.warnings``, never at the cost of the required totals.

The bytes are parsed with :mod:`defusedxml` with DTDs forbidden: a tool-generated report never
has one, and refusing them shuts out external entities (a read of another file) and entity
expansion (billion laughs) before they can act.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from hardware_models._cells import (
    empty_resources,
    parse_core_name,
    parse_float,
    parse_int,
    parse_optional_int,
    parse_range,
    parse_storage_size,
    resource_key,
)
from hardware_models._errors import ReportError
from hardware_models._report import CycleRange, HlsReport, MemoryRow, ModuleResources, OperatorRow

if TYPE_CHECKING:
    from pathlib import Path

Element = Any
"""An element of the parsed tree (xml.etree's type, produced only by defusedxml's parser)."""

__all__ = ["read_xml_report"]

_logger = logging.getLogger(__name__)
_T = TypeVar("_T")

# Vivado HLS ended with 2020.1; Vitis HLS writes the same schema from 2020.1 on, with ``DSP``
# instead of ``DSP48E`` and, from 2020.2, a ``FlowTarget``.
_LAST_VIVADO_HLS = (2020, 1)


def read_xml_report(path: Path, data: bytes) -> HlsReport:
    """Parse the bytes of an HLS ``csynth.xml`` report.

    Args:
        path: The file the bytes came from, for messages and for ``HlsReport.path``.
        data: The whole file.

    Returns:
        The report.

    Raises:
        ReportError: If the XML is malformed or hostile, is not a csynth report, or lacks or
            garbles a required field.
    """
    try:
        root = fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise ReportError(
            path,
            f"refused XML with a DTD or entity declaration ({type(exc).__name__}); "
            "tool-generated reports have none",
        ) from None
    except ParseError as exc:
        raise ReportError(path, f"malformed XML: {exc}") from None
    if root.tag != "profile":
        raise ReportError(
            path, f"unknown XML report: root element <{root.tag}>, expected <profile> (csynth.xml)"
        )
    try:
        return _read_profile(path, root)
    except ValueError as exc:
        if isinstance(exc, ReportError):
            raise
        raise ReportError(path, str(exc)) from None


def _read_profile(path: Path, root: Element) -> HlsReport:
    """Read the required totals strictly and every optional detail leniently.

    Version, part, top, target clock and the top ``AreaEstimates/Resources`` are required: a
    report without them is refused. Anything else (available resources, estimated clock,
    latency and interval, per-module records, bind nodes) is a detail: one that cannot be
    read is left out and named in ``HlsReport.warnings`` instead of costing the totals.
    """
    warnings: list[str] = []
    version = _required_text(root, "ReportVersion/Version")
    clock_unit = _text(root, "UserAssignments/unit")
    if clock_unit not in (None, "ns"):
        raise ValueError(f"<UserAssignments/unit>: expected 'ns', got {clock_unit!r}")
    resources_element = _required(root, "AreaEstimates/Resources")
    resources = _resources(resources_element, "AreaEstimates/Resources", required=True)
    part = _required_text(root, "UserAssignments/Part")
    top = _required_text(root, "UserAssignments/TopModelName")
    target = parse_float(
        _required_text(root, "UserAssignments/TargetClockPeriod"),
        "<UserAssignments/TargetClockPeriod>",
    )

    available_element = root.find("AreaEstimates/AvailableResources")
    available = (
        empty_resources()
        if available_element is None
        else _detail(
            warnings,
            lambda: _resources(
                available_element, "AreaEstimates/AvailableResources", required=False
            ),
            empty_resources(),
        )
    )
    estimated_text = _text(
        root, "PerformanceEstimates/SummaryOfTimingAnalysis/EstimatedClockPeriod"
    )
    estimated = (
        None
        if estimated_text is None
        else _detail(
            warnings,
            lambda: parse_float(estimated_text, "<SummaryOfTimingAnalysis/EstimatedClockPeriod>"),
            None,
        )
    )
    summary = root.find("PerformanceEstimates/SummaryOfOverallLatency")
    latency = None if summary is None else _detail(warnings, lambda: _latency(summary), None)
    interval = None if summary is None else _detail(warnings, lambda: _interval(summary), None)
    modules, operators, memories = _module_information(root, warnings)
    if warnings:
        _logger.warning(
            "%s: %d optional detail(s) left out, first: %s", path, len(warnings), warnings[0]
        )
    return HlsReport(
        path=path,
        tool=_tool(root, version, resources_element),
        tool_version=version,
        part=part,
        top=top,
        target_clock_ns=target,
        estimated_clock_ns=estimated,
        latency_cycles=latency,
        interval=interval,
        resources=resources,
        available=available,
        modules=modules,
        operators=operators,
        memories=memories,
        utilization_kind="hls_estimate",
        warnings=tuple(warnings),
    )


def _detail(warnings: list[str], read: Callable[[], _T], default: _T, context: str = "") -> _T:
    """Return ``read()``, or ``default`` with a line in ``warnings`` if it raises ValueError."""
    try:
        return read()
    except ValueError as exc:
        warnings.append(f"{context}{exc}; left out")
        return default


def _tool(root: Element, version: str, resources: Element) -> str:
    if root.find("UserAssignments/FlowTarget") is not None:
        return "vitis_hls"
    if resources.find("DSP") is not None and resources.find("DSP48E") is None:
        return "vitis_hls"
    match = re.match(r"(\d{4})\.(\d+)", version)
    if match is not None and (int(match[1]), int(match[2])) > _LAST_VIVADO_HLS:
        return "vitis_hls"
    return "vivado_hls"


def _resources(element: Element, where: str, *, required: bool) -> dict[str, int]:
    """Read LUT/FF/DSP/BRAM_18K/URAM children by tag, whatever their order."""
    counts = empty_resources()
    found: set[str] = set()
    for child in element:
        key = resource_key(child.tag)
        if key is None:
            continue  # AVAIL_* / UTIL_* columns of Vitis module entries
        counts[key] = parse_int(child.text or "", f"<{where}/{child.tag}>")
        found.add(key)
    if required:
        missing = [key for key in ("LUT", "FF", "DSP", "BRAM_18K") if key not in found]
        if missing:
            raise ValueError(f"missing required field <{where}/{missing[0]}>")
    return counts


def _latency(summary: Element) -> CycleRange | None:
    best = summary.find("Best-caseLatency")
    worst = summary.find("Worst-caseLatency")
    if best is None and worst is None:
        return None
    return (
        _cycles(best, "Best-caseLatency", low=True),
        _cycles(worst, "Worst-caseLatency", low=False),
    )


def _interval(summary: Element) -> CycleRange | None:
    low = summary.find("Interval-min")
    high = summary.find("Interval-max")
    if low is not None or high is not None:
        return _cycles(low, "Interval-min", low=True), _cycles(high, "Interval-max", low=False)
    single = summary.find("PipelineInitiationInterval")
    if single is not None:
        # A data-dependent interval is a range ("42 ~ 105", Vitis 2022.2 to 2024.1).
        return parse_range(single.text, "<PipelineInitiationInterval>")
    return None


def _cycles(element: Element | None, tag: str, *, low: bool) -> int | None:
    """One end of a cycle count that the tool may also write as a range ``"min ~ max"``."""
    if element is None:
        return None
    bounds = parse_range(element.text, f"<{tag}>")
    return bounds[0] if low else bounds[1]


def _module_information(
    root: Element, warnings: list[str]
) -> tuple[tuple[ModuleResources, ...], tuple[OperatorRow, ...], tuple[MemoryRow, ...]]:
    """Read the Vitis 2022+ ``ModuleInformation`` and ``BindNodes`` sections, if any.

    A module whose resources cannot be read is left out; one whose latency or interval
    cannot be read keeps its resources with ``None`` there. Either way a line is added to
    ``warnings``.
    """
    modules: list[ModuleResources] = []
    operators: list[OperatorRow] = []
    memories: list[MemoryRow] = []
    for index, module in enumerate(root.iterfind("ModuleInformation/Module")):
        name = _text(module, "Name")
        if name is None:
            warnings.append(f"ModuleInformation/Module {index}: no <Name>; left out")
            continue
        context = f"module {name!r}: "
        resources = module.find("AreaEstimates/Resources")
        counts = (
            empty_resources()
            if resources is None
            else _detail(
                warnings,
                lambda resources=resources, name=name: _resources(
                    resources, f"Module {name}/Resources", required=False
                ),
                None,
                context,
            )
        )
        if counts is not None:
            latency = module.find("PerformanceEstimates/SummaryOfOverallLatency")
            modules.append(
                ModuleResources(
                    name=name,
                    resources=counts,
                    latency_cycles=(
                        None
                        if latency is None
                        else _detail(warnings, lambda s=latency: _latency(s), None, context)
                    ),
                    interval=(
                        None
                        if latency is None
                        else _detail(warnings, lambda s=latency: _interval(s), None, context)
                    ),
                )
            )
        for node in module.iterfind("BindNodes/BindNode"):
            _detail(
                warnings,
                lambda node=node, name=name: _bind_node(node, name, operators, memories),
                None,
                context,
            )
    for node in root.iterfind("BindNodes/BindNode"):
        _detail(warnings, lambda node=node: _bind_node(node, None, operators, memories), None)
    return tuple(modules), tuple(operators), tuple(memories)


def _bind_node(
    node: Element, module: str | None, operators: list[OperatorRow], memories: list[MemoryRow]
) -> None:
    """Add one ``BindNode`` as an operator (``op``) or a memory (``storage``) row.

    Other bind types are not rows of either kind and are skipped: ``adapter`` nodes are the
    interface adapters (``s_axilite``, ``m_axi``), whose cost is in the module totals and
    whose operator kind is empty. A node without any operator kind is skipped too.
    """
    rtl_name = node.get("RTLNAME", "")
    bind_type = node.get("BINDTYPE", "")
    kind = node.get("OPTYPE", "").strip().lower()
    impl = node.get("IMPL") or None
    where = f"BindNode {rtl_name!r}"
    if bind_type == "storage":
        bits, words, banks = parse_storage_size(node.get("STORAGESIZE", ""), where)
        memories.append(
            MemoryRow(
                name=rtl_name,
                kind=kind,
                bram_18k=parse_optional_int(node.get("BRAM"), f"{where} BRAM") or 0,
                uram=parse_optional_int(node.get("URAM"), f"{where} URAM") or 0,
                words=words,
                bits=bits,
                banks=banks,
                impl=impl,
                module=module,
            )
        )
        return
    if bind_type not in ("op", ""):
        return
    core = parse_core_name(rtl_name)
    kind = kind or (core[0] if core else "")
    if not kind:
        return
    operators.append(
        OperatorRow(
            name=rtl_name,
            kind=kind,
            bit_widths=core[1] if core else (),
            lut=None,
            ff=None,
            dsp=parse_optional_int(node.get("DSP"), f"{where} DSP"),
            latency=parse_optional_int(node.get("LATENCY"), f"{where} LATENCY"),
            impl=impl,
            module=module,
        )
    )


def _required(root: Element, tag_path: str) -> Element:
    element = root.find(tag_path)
    if element is None:
        raise ValueError(f"missing required field <{tag_path}>")
    return element


def _required_text(root: Element, tag_path: str) -> str:
    text = (_required(root, tag_path).text or "").strip()
    if not text:
        raise ValueError(f"empty required field <{tag_path}>")
    return text


def _text(root: Element, tag_path: str) -> str | None:
    element = root.find(tag_path)
    if element is None or element.text is None or not element.text.strip():
        return None
    return element.text.strip()
