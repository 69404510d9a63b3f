"""FPGA parts as data records: :class:`Device`, :func:`get_device`, :func:`available_devices`.

Devices are rows of ``data/devices.csv``, not code branches, so adding a part is a one-line
data change. Resource counts are the vendor data-sheet numbers (AMD/Xilinx DS190 Zynq-7000,
DS180 7-series, DS891 Zynq UltraScale+, DS987 Kria K26, DS965 / DS962 Alveo U50 / U250,
DS890 UltraScale+ VU9P), cross-checked against the ``AvailableResources`` the HLS tools print
for the same parts; ``bram_18k`` counts 18 Kb halves (2 x the 36 Kb block RAMs).

``static_power_w`` is a typical device static power in watts (typical process, 25 C ambient)
of the order the Xilinx Power Estimator (XPE) and Vivado ``report_power`` print for a small
design on that part. It is an approximate, rounded figure for relative energy comparisons
between configurations; use the board's own XPE number where absolute energy matters.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

from hardware_models._errors import HardwareModelError

__all__ = ["Device", "available_devices", "get_device"]

_SCHEMA_VERSION = 1
_FAMILIES = ("7series", "ultrascale_plus")
_INT_COLUMNS = ("lut", "ff", "dsp", "bram_18k", "uram")


@dataclass(frozen=True)
class Device:
    """One FPGA part and what it offers.

    Attributes:
        part: Base part name without package and speed grade (``xc7z020``).
        family: ``7series`` or ``ultrascale_plus``.
        lut: 6-input LUTs.
        ff: Flip-flops (CLB registers).
        dsp: DSP slices (DSP48E1 on 7-series, DSP48E2 on UltraScale+).
        bram_18k: 18 Kb block RAMs (2 per 36 Kb block).
        uram: 288 Kb UltraRAMs (0 where the part has none).
        speed_grade_default: Speed grade assumed when a part name gives none (``-1``, ``-2``).
        static_power_w: Typical static power in W (see the module docstring for the source).
    """

    part: str
    family: str
    lut: int
    ff: int
    dsp: int
    bram_18k: int
    uram: int
    speed_grade_default: str
    static_power_w: float

    @property
    def resources(self) -> dict[str, int]:
        """The part's resources keyed like ``HlsReport.available`` (``LUT``, ``FF``...)."""
        return {
            "LUT": self.lut,
            "FF": self.ff,
            "DSP": self.dsp,
            "BRAM_18K": self.bram_18k,
            "URAM": self.uram,
        }

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary that :meth:`from_dict` turns back into this device."""
        return {"version": _SCHEMA_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Device:
        """Rebuild a device from :meth:`to_dict` output.

        Raises:
            HardwareModelError: If ``data`` carries another schema version.
        """
        if data.get("version") != _SCHEMA_VERSION:
            raise HardwareModelError(
                f"Device.from_dict: unsupported version {data.get('version')!r}, "
                f"expected {_SCHEMA_VERSION}"
            )
        return cls(**{key: value for key, value in data.items() if key != "version"})


def available_devices() -> tuple[str, ...]:
    """Return the base names of the known parts, sorted.

    Example:
        >>> "xc7z020" in available_devices()
        True
    """
    return tuple(sorted(_devices()))


def get_device(part: str) -> Device:
    """Return the device record of a part.

    Full part names are accepted in any of the spellings the tools print:
    ``xc7z020clg400-1``, ``xc7z020-clg400-1``, ``7z020clg400-1`` (Vivado's ``Device`` field) and
    ``XCU250-FIGD2104-2L-E``. The automotive (``xa``) and defence (``xq``) variants share the
    die of their ``xc`` part and map to it.

    Args:
        part: A base or full part name.

    Returns:
        The device.

    Raises:
        HardwareModelError: If no known part matches; the message lists the known parts.

    Example:
        >>> get_device("xc7z020clg400-1").dsp
        220
    """
    devices = _devices()
    name = part.strip().lower()
    if re.match(r"^[0-9]", name):
        name = "xc" + name
    name = re.sub(r"^x[aq]", "xc", name)
    best = None
    for base in devices:
        if name.startswith(base) and re.match(r"^(?:$|[-a-z_])", name[len(base) :]):
            if best is None or len(base) > len(best):
                best = base
    if best is None:
        raise HardwareModelError(
            f"unknown part {part!r}; known parts: {', '.join(available_devices())}"
        )
    return devices[best]


@cache
def _devices() -> dict[str, Device]:
    text = resources.files("hardware_models").joinpath("data/devices.csv").read_text("utf-8")
    devices: dict[str, Device] = {}
    for line_number, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        where = f"devices.csv line {line_number}"
        try:
            device = Device(
                part=row["part"].strip().lower(),
                family=row["family"].strip(),
                **{column: int(row[column]) for column in _INT_COLUMNS},
                speed_grade_default=row["speed_grade_default"].strip(),
                static_power_w=float(row["static_power_w"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise HardwareModelError(f"{where}: malformed row: {exc}") from None
        if device.family not in _FAMILIES:
            raise HardwareModelError(
                f"{where}: family must be one of {_FAMILIES}, got {device.family!r}"
            )
        devices[device.part] = device
    return devices
