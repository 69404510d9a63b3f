"""The accelerator settings a study prices its hardware objectives with, as one value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

STRATEGIES = ("latency", "resource")
"""hls4ml's dense/convolution strategies (`Strategy` in its configuration)."""

IO_TYPES = ("io_parallel", "io_stream")
"""hls4ml's `IOType`: whole arrays between layers, or streams of pixels."""

BASES = ("hls_estimate", "post_synthesis")
"""What resource counts stand for: the HLS report's estimates, or Vivado's counts after
synthesis (through an `HlsCalibration`)."""


@dataclass(frozen=True)
class HardwareSettings:
    """Where and how a study's configurations would be built.

    Attributes:
        part: the FPGA part (a name `get_device` knows).
        clock_mhz: the design's clock (MHz).
        reuse_factor: hls4ml's reuse factor per layer name, as requested (the valid value
            hls4ml uses is derived from it per layer).
        strategy: `latency` or `resource` (hls4ml's `Strategy`).
        io_type: `io_parallel` or `io_stream` (hls4ml's `IOType`).
        input_bits: width of the network's input samples (bits), when fixed.
        activation_bits: width assumed for activations no format sets (bits).
        basis: what LUT/FF/DSP/BRAM objectives count: `hls_estimate` or `post_synthesis`.
    """

    part: str
    clock_mhz: float
    reuse_factor: Mapping[str, int] = field(default_factory=dict)
    strategy: str = "latency"
    io_type: str = "io_parallel"
    input_bits: int | None = 8
    activation_bits: int | None = None
    basis: str = "hls_estimate"
    version: ClassVar[int] = 1

    def __post_init__(self) -> None:
        from hardware_models._errors import HardwareModelError

        for name, value, allowed in (
            ("strategy", self.strategy, STRATEGIES),
            ("io_type", self.io_type, IO_TYPES),
            ("basis", self.basis, BASES),
        ):
            if value not in allowed:
                raise HardwareModelError(
                    f"HardwareSettings.{name}: expected one of {allowed}, got {value!r}"
                )
        object.__setattr__(self, "reuse_factor", MappingProxyType(dict(self.reuse_factor)))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (with `version`)."""
        return {
            "version": self.version,
            "part": self.part,
            "clock_mhz": self.clock_mhz,
            "reuse_factor": dict(self.reuse_factor),
            "strategy": self.strategy,
            "io_type": self.io_type,
            "input_bits": self.input_bits,
            "activation_bits": self.activation_bits,
            "basis": self.basis,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HardwareSettings:
        """Rebuild from `to_dict()` output."""
        fields = {k: v for k, v in data.items() if k != "version"}
        return cls(**fields)
