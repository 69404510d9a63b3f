"""Energy constants of the accelerator model: :class:`EnergyConstants`.

Energy per inference is ``sum(operations x pJ per operation) + sum(bits accessed x pJ per bit)
+ static power x latency`` (see :class:`~hardware_models._accelerator.AcceleratorModel`). The
per-operation energy comes from the operator's resources (LUT, FF, DSP counts of the operator
library) times a switching energy per resource and an activity factor; memory access energy is
per bit read or written, by where the memory lives (block RAM, LUT RAM, registers). All of them
are estimates, good to a factor of about 2, for ranking design points, not for sign-off.

Sources:

* Per-resource switching energy (``lut_pj``, ``ff_pj``, ``dsp_pj``): Xilinx Power Estimator
  (XPE, UG440) typical logic power (:data:`SWITCHING_PJ`):
  7-series (28 nm, 1.0 V) ~0.2 pJ per LUT toggle with its local routing, 0.06 pJ per FF,
  8 pJ per DSP48E1 multiply-add; UltraScale+ (16 nm FinFET, 0.85 V) scaled by ~0.55. They agree
  with Horowitz (ISSCC 2014, "Computing's energy problem", 45 nm table: 8-bit add 0.03 pJ,
  8-bit multiply 0.2 pJ, 32-bit float multiply 3.7 pJ) times the 10-15x overhead of
  programmable logic over an ASIC.
* ``activity``: XPE's default toggle rate, 12.5 %.
* ``bram_pj_per_bit``: XPE's ~16 pJ (7-series) / ~9 pJ (UltraScale+) per 18 Kb block RAM access
  on a 36-bit port, i.e. ~0.44 / ~0.25 pJ per bit. Horowitz's 45 nm table gives 10 pJ per
  64-bit read of an 8 KB SRAM (0.16 pJ/bit), the same order before the FPGA overhead.
* ``lutram_pj_per_bit``: one LUT output (a 64 x 1 distributed RAM, UG474) per bit read,
  toggling with probability 1/2: half of ``lut_pj``.
* ``register_pj_per_bit``: one flip-flop per bit, toggling with probability 1/2: half of
  ``ff_pj``.
* ``static_power_w``: ``None`` takes the device's typical static power
  (:attr:`hardware_models.Device.static_power_w`, XPE / ``report_power`` order of magnitude).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from hardware_models._errors import HardwareModelError

__all__ = ["DEFAULT_ACTIVITY", "SWITCHING_PJ", "EnergyConstants"]

DEFAULT_ACTIVITY = 0.125
"""Default toggle rate (fraction of nets switching per operation), Xilinx XPE's default 12.5 %."""

SWITCHING_PJ: dict[str, dict[str, float]] = {
    "7series": {"lut": 0.20, "ff": 0.06, "dsp": 8.0, "bram_18k": 16.0},
    "ultrascale_plus": {"lut": 0.11, "ff": 0.035, "dsp": 4.5, "bram_18k": 9.0},
}
"""Switching energy in pJ of one resource when all of its nets toggle once (activity 1), per
device family: a LUT with its local routing, an FF, a DSP multiply-add, an 18 Kb block RAM
access on a 36-bit port. Sources in the module docstring (XPE typical logic power at 12.5 %
toggle rate; UltraScale+ scaled by ~0.55 for V^2 and capacitance)."""

_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class EnergyConstants:
    """Energy coefficients of the accelerator model; every field documented with its source.

    The defaults are the 7-series values; :meth:`for_family` returns a family's defaults.
    Override single fields with :meth:`replace` (study.yaml's ``hardware.energy``).

    Attributes:
        activity: Fraction of an operator's nets that toggle per operation (0..1).
        lut_pj: pJ when one LUT (with its local routing) toggles.
        ff_pj: pJ when one flip-flop toggles.
        dsp_pj: pJ when one DSP slice toggles (one multiply-add with all nets switching).
        bram_pj_per_bit: pJ per bit read from or written to block RAM.
        lutram_pj_per_bit: pJ per bit read from or written to distributed (LUT) RAM.
        register_pj_per_bit: pJ per bit read from or written to a register.
        static_power_w: Static power in W; ``None`` takes the device's.

    Raises:
        HardwareModelError: If a field is negative or not finite, or ``activity`` is above 1.

    Example:
        >>> EnergyConstants.for_family("ultrascale_plus").lut_pj
        0.11
    """

    activity: float = DEFAULT_ACTIVITY
    lut_pj: float = SWITCHING_PJ["7series"]["lut"]
    ff_pj: float = SWITCHING_PJ["7series"]["ff"]
    dsp_pj: float = SWITCHING_PJ["7series"]["dsp"]
    bram_pj_per_bit: float = SWITCHING_PJ["7series"]["bram_18k"] / 36
    lutram_pj_per_bit: float = SWITCHING_PJ["7series"]["lut"] / 2
    register_pj_per_bit: float = SWITCHING_PJ["7series"]["ff"] / 2
    static_power_w: float | None = None

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None and item.name == "static_power_w":
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value < 0
            ):
                raise HardwareModelError(
                    f"EnergyConstants.{item.name}: expected a finite number >= 0, got {value!r}"
                )
        if self.activity > 1:
            raise HardwareModelError(
                f"EnergyConstants.activity: expected a fraction in [0, 1], got {self.activity!r}"
            )

    @classmethod
    def for_family(cls, family: str) -> EnergyConstants:
        """Return the default constants of a device family (``7series``, ``ultrascale_plus``).

        Raises:
            HardwareModelError: If the family has no coefficients.
        """
        if family not in SWITCHING_PJ:
            raise HardwareModelError(
                f"no energy constants for family {family!r}; known: {sorted(SWITCHING_PJ)}"
            )
        table = SWITCHING_PJ[family]
        return cls(
            lut_pj=table["lut"],
            ff_pj=table["ff"],
            dsp_pj=table["dsp"],
            bram_pj_per_bit=table["bram_18k"] / 36,
            lutram_pj_per_bit=table["lut"] / 2,
            register_pj_per_bit=table["ff"] / 2,
        )

    def replace(self, **overrides: float | None) -> EnergyConstants:
        """Return a copy with some fields replaced; ``None`` values keep the current field.

        Raises:
            HardwareModelError: On an unknown field name or an invalid value.
        """
        names = {item.name for item in fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise HardwareModelError(
                f"EnergyConstants: unknown fields {unknown}; known: {sorted(names)}"
            )
        data = asdict(self)
        data.update({key: value for key, value in overrides.items() if value is not None})
        return EnergyConstants(**data)

    def operation_pj(self, lut: float, ff: float, dsp: float) -> float:
        """Dynamic energy of one operation of an operator with these resources, in pJ.

        Example:
            >>> round(EnergyConstants().operation_pj(lut=100, ff=0, dsp=0), 3)
            2.5
        """
        return self.activity * (lut * self.lut_pj + ff * self.ff_pj + dsp * self.dsp_pj)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary that :meth:`from_dict` reads back."""
        return {"version": _SCHEMA_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EnergyConstants:
        """Rebuild constants from :meth:`to_dict` output.

        Raises:
            HardwareModelError: On another schema version or an unknown field.
        """
        if data.get("version") != _SCHEMA_VERSION:
            raise HardwareModelError(
                f"EnergyConstants.from_dict: unsupported version {data.get('version')!r}, "
                f"expected {_SCHEMA_VERSION}"
            )
        values = {key: value for key, value in data.items() if key != "version"}
        return cls().replace(**values)
