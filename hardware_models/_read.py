"""One entry point for every report flavour: :func:`read_report`.

The flavour is chosen from the content, never from the file name, because tools and users
rename reports (``csynth.xml``, ``myproject_csynth.xml``, ``vivado_synth.rpt``...). The file is
read once, as bytes, with a size cap, and nothing else is ever opened: XML entities that point
at other files are refused by the XML reader.
"""

from __future__ import annotations

import os
from pathlib import Path

from hardware_models._errors import ReportError
from hardware_models._report import HlsReport
from hardware_models._summary_report import is_summary_rpt, read_summary_rpt
from hardware_models._text_report import is_csynth_rpt, read_csynth_rpt
from hardware_models._utilization_report import (
    is_utilization_rpt,
    read_utilization_rpt,
    vivado_command,
)
from hardware_models._xml_report import read_xml_report

__all__ = ["MAX_REPORT_BYTES", "read_report"]

#: Largest report read, in bytes. The biggest real top-level Vitis csynth.xml seen is ~0.3 MB;
#: the cap keeps a wrong path (a bitstream, a log) from being loaded whole.
MAX_REPORT_BYTES = 64 * 1024 * 1024

_BOM = b"\xef\xbb\xbf"


def read_report(path: str | os.PathLike[str]) -> HlsReport:
    """Read an HLS or synthesis report into an :class:`HlsReport`.

    Accepted, chosen by content: Vivado HLS / Vitis HLS ``csynth.xml`` and
    ``<module>_csynth.xml`` (2018.x to 2024.1), the text ``<module>_csynth.rpt`` (the
    2018.x/2019.x layout with ``+ Timing (ns):`` and the 2020.1+ layout), the top-level
    Vitis ``csynth.rpt`` ("Synthesis Summary", 2020.2+), and Vivado ``report_utilization``
    output (post-synthesis numbers). Required totals (part, top, resources, and the target
    clock where the layout prints one) must be readable; an optional detail that is not
    (a module's latency, a row of a detail table) is left out and named in
    ``HlsReport.warnings``. A utilization report that does not count the whole design
    (black boxes) reads with ``complete=False``.

    Args:
        path: The report file.

    Returns:
        The report's numbers with units.

    Raises:
        ReportError: If the file is missing, empty, binary, too large, malformed or hostile
            XML, of an unknown kind, or lacks or garbles a required field. The message is one
            line ``"<path>: <reason>"``.

    Example:
        >>> report = read_report("myproject_csynth.xml")  # doctest: +SKIP
        >>> report.resources["DSP"], report.latency_cycles  # doctest: +SKIP
        (73, (10, 10))
    """
    file = Path(path)
    data = _read_bytes(file)
    body = data[len(_BOM) :] if data.startswith(_BOM) else data
    if not body.strip():
        raise ReportError(file, "empty file")
    if b"\x00" in body:
        raise ReportError(file, "binary file (NUL bytes), not a text or XML report")
    if body.lstrip().startswith(b"<"):
        return read_xml_report(file, body)
    text = body.decode("utf-8", errors="replace")
    if is_csynth_rpt(text):
        return read_csynth_rpt(file, text)
    if is_summary_rpt(text):
        return read_summary_rpt(file, text)
    if is_utilization_rpt(text):
        return read_utilization_rpt(file, text)
    command = vivado_command(text)
    if command is not None:
        raise ReportError(
            file,
            f"a Vivado {command} report, not a report_utilization one: it holds no resource "
            "counts of the design",
        )
    raise ReportError(
        file,
        "unknown report kind: expected an HLS csynth.xml, an HLS csynth.rpt or *_csynth.rpt, "
        "or a Vivado report_utilization file",
    )


def _read_bytes(file: Path) -> bytes:
    if not file.exists():
        raise ReportError(file, "no such file")
    if not file.is_file():
        raise ReportError(file, "not a regular file")
    try:
        with file.open("rb") as stream:
            data = stream.read(MAX_REPORT_BYTES + 1)
    except OSError as exc:
        raise ReportError(file, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_REPORT_BYTES:
        raise ReportError(file, f"larger than {MAX_REPORT_BYTES} bytes; not a report")
    return data
