"""Hardware models: HLS/synthesis reports, FPGA devices and calibration of HLS estimates.

The public face of the package; other packages import only from here.
"""

from __future__ import annotations

from hardware_models._accelerator import AcceleratorModel
from hardware_models._calibration import HlsCalibration
from hardware_models._characterize import (
    ReportScan,
    SkippedReport,
    characterize,
    characterize_synthesis,
    rows_from_reports,
    scan_reports,
)
from hardware_models._cost_model import Cost, CostModel, WeightMemoryModel, weight_memory_bits
from hardware_models._datapath import Datapath, DatapathConstants, choose_datapath
from hardware_models._designs import (
    DesignRow,
    cross_validate,
    fit_coefficients,
    price_rows,
    read_design_rows,
)
from hardware_models._devices import Device, available_devices, get_device
from hardware_models._energy import SWITCHING_PJ, EnergyConstants
from hardware_models._errors import HardwareModelError, NotFittedError, ReportError
from hardware_models._fit import Hls4mlCoefficients
from hardware_models._hls4ml import (
    LayerPlan,
    closest_reuse_factor,
    mult_size,
    reuse_factor,
    valid_reuse_factors,
)
from hardware_models._memory import MemoryCost, bram18_blocks, memory_cost
from hardware_models._operator_kinds import (
    FitError,
    Operator,
    OperatorCost,
    OperatorMeasurement,
)
from hardware_models._operators import OperatorLibrary
from hardware_models._read import read_report
from hardware_models._report import (
    RESOURCE_KEYS,
    HlsReport,
    MemoryRow,
    ModuleResources,
    OperatorRow,
)
from hardware_models._settings import BASES, IO_TYPES, STRATEGIES, HardwareSettings
from hardware_models._yosys import SynthesisError, SynthesisResult, synthesize

__all__ = [
    "SWITCHING_PJ",
    "BASES",
    "DesignRow",
    "Hls4mlCoefficients",
    "LayerPlan",
    "closest_reuse_factor",
    "cross_validate",
    "fit_coefficients",
    "mult_size",
    "price_rows",
    "read_design_rows",
    "reuse_factor",
    "valid_reuse_factors",
    "IO_TYPES",
    "STRATEGIES",
    "HardwareSettings",
    "AcceleratorModel",
    "Datapath",
    "DatapathConstants",
    "EnergyConstants",
    "MemoryCost",
    "bram18_blocks",
    "choose_datapath",
    "memory_cost",
    "Cost",
    "CostModel",
    "WeightMemoryModel",
    "weight_memory_bits",
    "RESOURCE_KEYS",
    "Device",
    "HardwareModelError",
    "HlsCalibration",
    "HlsReport",
    "MemoryRow",
    "ModuleResources",
    "NotFittedError",
    "OperatorRow",
    "ReportError",
    "available_devices",
    "get_device",
    "read_report",
    "FitError",
    "Operator",
    "OperatorCost",
    "OperatorLibrary",
    "OperatorMeasurement",
    "SynthesisError",
    "SynthesisResult",
    "characterize",
    "characterize_synthesis",
    "rows_from_reports",
    "scan_reports",
    "ReportScan",
    "SkippedReport",
    "synthesize",
]
