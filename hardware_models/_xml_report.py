"""Reader for Vivado HLS / Vitis HLS ``csynth.xml`` and ``<module>_csynth.xml`` reports.

The schema drifted from 2018 to 2023: ``DSP48E`` became ``DSP``, ``URAM`` appeared, children
changed order, ``Average-caseLatency`` can be ``undef`` and Vitis 2022+ added a top-level
``ModuleInformation`` with per-module ``BindNodes``. Every value is therefore looked up by tag,
never by position, and optional parts are read only where present.

The bytes are parsed with :mod:`defusedxml` with DTDs forbidden: a tool-generated report never
has one, and refusing them shuts out external entities (a read of another file) and entity
expansion (billion laughs) before they can act.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from hardware_models._errors import ReportError
from hardware_models._report import (
    CycleRange,
    HlsReport,
    MemoryRow,
    ModuleResources,
    OperatorRow,
    empty_resources,
    parse_core_name,
    parse_float,
    parse_int,
    parse_optional_int,
    resource_key,
)

if TYPE_CHECKING:
    from pathlib import Path

Element = Any
"""An element of the parsed tree (xml.etree's type, produced only by defusedxml's parser)."""

__all__ = ["read_xml_report"]

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
    version = _required_text(root, "ReportVersion/Version")
    clock_unit = _text(root, "UserAssignments/unit")
    if clock_unit not in (None, "ns"):
        raise ValueError(f"<UserAssignments/unit>: expected 'ns', got {clock_unit!r}")
    resources_element = _required(root, "AreaEstimates/Resources")
    resources = _resources(resources_element, "AreaEstimates/Resources", required=True)
    available_element = root.find("AreaEstimates/AvailableResources")
    available = (
        empty_resources()
        if available_element is None
        else _resources(available_element, "AreaEstimates/AvailableResources", required=False)
    )
    latency = root.find("PerformanceEstimates/SummaryOfOverallLatency")
    estimated = _text(root, "PerformanceEstimates/SummaryOfTimingAnalysis/EstimatedClockPeriod")
    modules, operators, memories = _module_information(root)
    return HlsReport(
        path=path,
        tool=_tool(root, version, resources_element),
        tool_version=version,
        part=_required_text(root, "UserAssignments/Part"),
        top=_required_text(root, "UserAssignments/TopModelName"),
        target_clock_ns=parse_float(
            _required_text(root, "UserAssignments/TargetClockPeriod"),
            "<UserAssignments/TargetClockPeriod>",
        ),
        estimated_clock_ns=(
            None
            if estimated is None
            else parse_float(estimated, "<SummaryOfTimingAnalysis/EstimatedClockPeriod>")
        ),
        latency_cycles=None if latency is None else _latency(latency),
        interval=None if latency is None else _interval(latency),
        resources=resources,
        available=available,
        modules=modules,
        operators=operators,
        memories=memories,
        utilization_kind="hls_estimate",
    )


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
        _optional_int(best, "Best-caseLatency"),
        _optional_int(worst, "Worst-caseLatency"),
    )


def _interval(summary: Element) -> CycleRange | None:
    low = summary.find("Interval-min")
    high = summary.find("Interval-max")
    if low is not None or high is not None:
        return _optional_int(low, "Interval-min"), _optional_int(high, "Interval-max")
    single = summary.find("PipelineInitiationInterval")
    if single is not None:
        value = _optional_int(single, "PipelineInitiationInterval")
        return value, value
    return None


def _module_information(
    root: Element,
) -> tuple[tuple[ModuleResources, ...], tuple[OperatorRow, ...], tuple[MemoryRow, ...]]:
    """Read the Vitis 2022+ ``ModuleInformation`` and ``BindNodes`` sections, if any."""
    modules: list[ModuleResources] = []
    operators: list[OperatorRow] = []
    memories: list[MemoryRow] = []
    for module in root.iterfind("ModuleInformation/Module"):
        name = _required_text(module, "Name")
        resources = module.find("AreaEstimates/Resources")
        latency = module.find("PerformanceEstimates/SummaryOfOverallLatency")
        modules.append(
            ModuleResources(
                name=name,
                resources=(
                    empty_resources()
                    if resources is None
                    else _resources(resources, f"Module {name}/Resources", required=False)
                ),
                latency_cycles=None if latency is None else _latency(latency),
                interval=None if latency is None else _interval(latency),
            )
        )
        for node in module.iterfind("BindNodes/BindNode"):
            _bind_node(node, name, operators, memories)
    for node in root.iterfind("BindNodes/BindNode"):
        _bind_node(node, None, operators, memories)
    return tuple(modules), tuple(operators), tuple(memories)


def _bind_node(
    node: Element, module: str | None, operators: list[OperatorRow], memories: list[MemoryRow]
) -> None:
    rtl_name = node.get("RTLNAME", "")
    kind = node.get("OPTYPE", "").lower()
    impl = node.get("IMPL") or None
    where = f"BindNode {rtl_name!r}"
    if node.get("BINDTYPE") == "storage":
        memories.append(
            MemoryRow(
                name=rtl_name,
                kind=kind,
                bram_18k=parse_optional_int(node.get("BRAM"), f"{where} BRAM") or 0,
                uram=parse_optional_int(node.get("URAM"), f"{where} URAM") or 0,
                impl=impl,
                module=module,
            )
        )
        return
    core = parse_core_name(rtl_name)
    operators.append(
        OperatorRow(
            name=rtl_name,
            kind=kind or (core[0] if core else ""),
            bit_widths=core[1] if core else (),
            lut=None,
            ff=None,
            dsp=parse_optional_int(node.get("DSP"), f"{where} DSP"),
            latency=parse_optional_int(node.get("LATENCY"), f"{where} LATENCY"),
            impl=impl,
            module=module,
        )
    )


def _optional_int(element: Element | None, tag: str) -> int | None:
    if element is None:
        return None
    return parse_optional_int(element.text or "", f"<{tag}>")


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
