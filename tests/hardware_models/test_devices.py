"""Tests of the device records: data-sheet numbers, part-name spellings, errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hardware_models import (
    Device,
    HardwareModelError,
    available_devices,
    get_device,
    read_report,
)

SHARED_REPORTS = Path(
    os.environ.get(
        "DSE_HLS_REPORTS", Path(__file__).resolve().parents[3] / "shared" / "hls_reports"
    )
)

# part -> (family, LUT, FF, DSP, BRAM_18K, URAM) from the vendor data sheets.
DATASHEET = {
    "xc7z010": ("7series", 17600, 35200, 80, 120, 0),
    "xc7z020": ("7series", 53200, 106400, 220, 280, 0),
    "xc7a35t": ("7series", 20800, 41600, 90, 100, 0),
    "xc7a100t": ("7series", 63400, 126800, 240, 270, 0),
    "xc7k325t": ("7series", 203800, 407600, 840, 890, 0),
    "xczu3eg": ("ultrascale_plus", 70560, 141120, 360, 432, 0),
    "xczu7ev": ("ultrascale_plus", 230400, 460800, 1728, 624, 96),
    "xczu9eg": ("ultrascale_plus", 274080, 548160, 2520, 1824, 0),
    "xck26": ("ultrascale_plus", 117120, 234240, 1248, 288, 64),
    "xcu50": ("ultrascale_plus", 871680, 1743360, 5952, 2688, 640),
    "xcu250": ("ultrascale_plus", 1728000, 3456000, 12288, 5376, 1280),
    "xcvu9p": ("ultrascale_plus", 1182240, 2364480, 6840, 4320, 960),
}


@pytest.mark.parametrize("part", sorted(DATASHEET))
def test_datasheet_numbers(part: str) -> None:
    device = get_device(part)
    family, lut, ff, dsp, bram, uram = DATASHEET[part]
    assert device.part == part
    assert (device.family, device.lut, device.ff, device.dsp, device.bram_18k, device.uram) == (
        family,
        lut,
        ff,
        dsp,
        bram,
        uram,
    )
    assert device.speed_grade_default.startswith("-")
    assert 0 < device.static_power_w < 20


def test_available_devices() -> None:
    names = available_devices()
    assert isinstance(names, tuple)
    assert names == tuple(sorted(names))
    assert set(DATASHEET) <= set(names)


@pytest.mark.parametrize(
    ("spelling", "part"),
    [
        ("xc7z020clg400-1", "xc7z020"),
        ("xc7z020-clg400-1", "xc7z020"),
        ("7z020clg400-1", "xc7z020"),  # Vivado report_utilization "Device" field
        ("XCU250-FIGD2104-2L-E", "xcu250"),
        ("xck26-sfvc784-2LV-c", "xck26"),
        ("xczu9eg-ffvb1156-2-e", "xczu9eg"),
        ("xa7a12tcsg325-1q", "xc7a12t"),  # automotive variant of the same die
        ("xc7a100tcsg324-1", "xc7a100t"),
        (" xcvu9p-flgb2104-2-i ", "xcvu9p"),
    ],
)
def test_full_part_names(spelling: str, part: str) -> None:
    assert get_device(spelling).part == part


@pytest.mark.parametrize("part", ["xc7z030", "xc7a1000t", "stratix10", ""])
def test_unknown_part_lists_known_parts(part: str) -> None:
    with pytest.raises(HardwareModelError) as info:
        get_device(part)
    message = str(info.value)
    assert f"unknown part {part!r}" in message
    assert "xc7z020" in message and "xcu250" in message


def test_device_value_round_trip() -> None:
    device = get_device("xck26")
    again = Device.from_dict(json.loads(json.dumps(device.to_dict())))
    assert again == device and hash(again) == hash(device)
    assert device.resources == {
        "LUT": 117120,
        "FF": 234240,
        "DSP": 1248,
        "BRAM_18K": 288,
        "URAM": 64,
    }
    with pytest.raises(HardwareModelError):
        Device.from_dict({**device.to_dict(), "version": 99})


@pytest.mark.skipif(not SHARED_REPORTS.is_dir(), reason="shared report folder is absent")
def test_devices_agree_with_hls_available_resources() -> None:
    """The HLS tools print the part's resources; the CSV must agree with every such report."""
    checked = 0
    for path in sorted(SHARED_REPORTS.glob("*.*")):
        if path.suffix not in (".xml", ".rpt"):
            continue
        report = read_report(path)
        device = get_device(report.part)
        for key, value in report.available.items():
            if value:  # 0 means "not reported" (no URAM tag, URAM 0 on 7-series)
                assert device.resources[key] == value, (path.name, key)
        checked += 1
    assert checked > 0
