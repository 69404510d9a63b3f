"""Verilog generators for the arithmetic operators of an approximate CNN accelerator.

Each generator returns one synthesizable :class:`VerilogModule` whose ports are the operands
and the result, so that logic synthesis (see :mod:`hardware_models._yosys`) measures the cost
of the operator alone. By default the operator is purely combinational: its LUT count is the
cost of the arithmetic. With ``registered=True`` the inputs and the output are wrapped in
registers clocked by ``clk``, as an HLS tool places them around an operator at a pipeline
boundary; that form gives the flip-flop count (and lets DSP blocks absorb the registers).

Custom floating-point operators use an IEEE-754-like format with ``E`` exponent bits and ``M``
mantissa bits: bias ``2**(E-1) - 1``, implicit leading one, rounding to nearest even (the
rounding of the project's quantization kernels) or truncation. To keep the hardware small, as
Vitis ``ap_float`` and most ML accelerators do, the format has no subnormals, infinities or
NaNs: an input whose exponent field is 0 is read as zero, a result below the smallest normal
number is flushed to +0, the all-ones exponent field is an ordinary finite exponent, and a
result beyond the largest finite number saturates to it (sign kept). Every zero result is
encoded as +0 (all bits 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "ROUNDINGS",
    "VerilogModule",
    "accumulator",
    "codebook_lookup",
    "comparator",
    "fixed_adder",
    "fixed_multiplier",
    "float_adder",
    "float_multiplier",
    "maximum",
    "relu",
]

ROUNDINGS: tuple[str, ...] = ("nearest_even", "truncate")
"""Rounding modes of the custom floating-point operators."""


@dataclass(frozen=True)
class VerilogModule:
    """Source of one synthesizable Verilog module and a description of its ports.

    Attributes:
        top: Name of the top module in ``source``.
        source: Verilog-2005 source text (may hold helper modules besides ``top``).
        inputs: ``(name, width in bits)`` of each data input, in port order; ``clk`` is not
            listed.
        outputs: ``(name, width in bits)`` of each output.
        registered: True when inputs and outputs are registered on ``clk``.
    """

    top: str
    source: str
    inputs: tuple[tuple[str, int], ...]
    outputs: tuple[tuple[str, int], ...]
    registered: bool = False


def _check_width(name: str, value: int, low: int = 1, high: int = 4096) -> None:
    """Raise ``ValueError`` unless ``low <= value <= high`` and ``value`` is an int."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}] bits, got {value!r}")


def _port_list(ports: tuple[tuple[str, int], ...], direction: str, signed: bool) -> list[str]:
    kind = " signed" if signed else ""
    return [f"{direction}{kind} [{width - 1}:0] {name}" for name, width in ports]


def _module(
    top: str,
    body: str,
    inputs: tuple[tuple[str, int], ...],
    outputs: tuple[tuple[str, int], ...],
    *,
    signed: bool,
    registered: bool,
) -> VerilogModule:
    """Assemble a combinational module and, if asked, its registered wrapper."""
    ports = _port_list(inputs, "input", signed) + _port_list(outputs, "output", signed)
    source = f"module {top}(\n    " + ",\n    ".join(ports) + f"\n);\n{body}endmodule\n"
    comb = VerilogModule(top=top, source=source, inputs=inputs, outputs=outputs)
    return _wrap_registers(comb) if registered else comb


def _wrap_registers(inner: VerilogModule) -> VerilogModule:
    """Wrap every input and output of ``inner`` in a register clocked by ``clk``."""
    top = f"{inner.top}_reg"
    ports = ["input clk"]
    ports += _port_list(inner.inputs, "input", False) + _port_list(inner.outputs, "output", False)
    lines = [f"module {top}(\n    " + ",\n    ".join(ports) + "\n);"]
    for name, width in inner.inputs + inner.outputs:
        lines.append(f"  reg [{width - 1}:0] {name}_q;")
    for name, width in inner.outputs:
        lines.append(f"  wire [{width - 1}:0] {name}_d;")
    connections = [f".{n}({n}_q)" for n, _ in inner.inputs] + [
        f".{n}({n}_d)" for n, _ in inner.outputs
    ]
    lines.append(f"  {inner.top} core({', '.join(connections)});")
    lines.append("  always @(posedge clk) begin")
    lines += [f"    {n}_q <= {n};" for n, _ in inner.inputs]
    lines += [f"    {n}_q <= {n}_d;" for n, _ in inner.outputs]
    lines.append("  end")
    lines += [f"  assign {n} = {n}_q;" for n, _ in inner.outputs]
    lines.append("endmodule\n")
    return VerilogModule(
        top=top,
        source=inner.source + "\n" + "\n".join(lines),
        inputs=inner.inputs,
        outputs=inner.outputs,
        registered=True,
    )


def fixed_multiplier(width_a: int, width_b: int, *, registered: bool = False) -> VerilogModule:
    """Signed fixed-point multiplier ``y = a * b`` with a full-precision product.

    Args:
        width_a: Width of operand ``a`` in bits.
        width_b: Width of operand ``b`` in bits.
        registered: Register inputs and output on ``clk``.

    Returns:
        The module ``mul_s{width_a}x{width_b}`` with output width ``width_a + width_b`` bits.

    Example:
        >>> fixed_multiplier(8, 8).outputs
        (('y', 16),)
    """
    _check_width("width_a", width_a)
    _check_width("width_b", width_b)
    return _module(
        f"mul_s{width_a}x{width_b}",
        "  assign y = a * b;\n",
        (("a", width_a), ("b", width_b)),
        (("y", width_a + width_b),),
        signed=True,
        registered=registered,
    )


def fixed_adder(width: int, *, registered: bool = False) -> VerilogModule:
    """Signed ``width``-bit adder with a ``width + 1``-bit result (no overflow).

    Args:
        width: Width of both operands in bits.
        registered: Register inputs and output on ``clk``.

    Returns:
        The module ``add_s{width}``.
    """
    _check_width("width", width)
    return _module(
        f"add_s{width}",
        "  assign y = a + b;\n",
        (("a", width), ("b", width)),
        (("y", width + 1),),
        signed=True,
        registered=registered,
    )


def accumulator(input_width: int, acc_width: int, *, registered: bool = False) -> VerilogModule:
    """Accumulator adder ``acc + x`` of a narrow product into a wide, wrapping sum.

    Combinational form: ``y = acc + x`` with ``x`` sign-extended and the ``acc_width``-bit
    result wrapping, the adder at the end of a multiply-accumulate. Registered form: a true
    accumulator, ``x`` registered and the sum fed back through an ``acc_width``-bit register
    with synchronous clear ``clr``.

    Args:
        input_width: Width of the addend ``x`` in bits.
        acc_width: Width of the accumulator in bits, at least ``input_width``.
        registered: Build the clocked accumulator instead of the combinational adder.

    Returns:
        The module ``acc_s{input_width}_{acc_width}`` (``..._reg`` when registered).
    """
    _check_width("input_width", input_width)
    _check_width("acc_width", acc_width, low=input_width)
    top = f"acc_s{input_width}_{acc_width}"
    if not registered:
        return _module(
            top,
            "  assign y = acc + x;\n",
            (("acc", acc_width), ("x", input_width)),
            (("y", acc_width),),
            signed=True,
            registered=False,
        )
    source = (
        f"module {top}_reg(\n    input clk,\n    input clr,\n"
        f"    input signed [{input_width - 1}:0] x,\n"
        f"    output signed [{acc_width - 1}:0] y\n);\n"
        f"  reg signed [{input_width - 1}:0] x_q;\n"
        f"  reg signed [{acc_width - 1}:0] acc_q;\n"
        "  always @(posedge clk) begin\n"
        "    x_q <= x;\n"
        "    if (clr) acc_q <= 0; else acc_q <= acc_q + x_q;\n"
        "  end\n"
        "  assign y = acc_q;\nendmodule\n"
    )
    return VerilogModule(
        top=f"{top}_reg",
        source=source,
        inputs=(("clr", 1), ("x", input_width)),
        outputs=(("y", acc_width),),
        registered=True,
    )


def comparator(width: int, *, registered: bool = False) -> VerilogModule:
    """Signed comparison ``y = a > b`` of two ``width``-bit operands (1-bit result)."""
    _check_width("width", width)
    return _module(
        f"cmp_s{width}",
        "  assign y = a > b;\n",
        (("a", width), ("b", width)),
        (("y", 1),),
        signed=True,
        registered=registered,
    )


def relu(width: int, *, registered: bool = False) -> VerilogModule:
    """ReLU ``y = max(a, 0)`` of a signed ``width``-bit operand."""
    _check_width("width", width)
    return _module(
        f"relu_s{width}",
        f"  assign y = a[{width - 1}] ? {width}'d0 : a;\n",
        (("a", width),),
        (("y", width),),
        signed=True,
        registered=registered,
    )


def maximum(width: int, *, registered: bool = False) -> VerilogModule:
    """Signed two-input maximum ``y = max(a, b)``, the element of a max-pooling tree."""
    _check_width("width", width)
    return _module(
        f"max_s{width}",
        "  assign y = (a > b) ? a : b;\n",
        (("a", width), ("b", width)),
        (("y", width),),
        signed=True,
        registered=registered,
    )


def codebook_lookup(entries: int, bits: int, *, registered: bool = False) -> VerilogModule:
    """Weight-sharing codebook read: select one of ``entries`` ``bits``-wide values.

    The codebook is an input port (a register file in the registered form), so synthesis
    builds the LUT multiplexer that a shared-weight layer needs, independent of the values.

    Args:
        entries: Number of codebook entries ``k`` (at least 2).
        bits: Width of one entry ``B`` in bits.
        registered: Register the codebook, the index and the output on ``clk``.

    Returns:
        The module ``lut_k{entries}_b{bits}`` with inputs ``codebook`` (``k * B`` bits) and
        ``index`` (``ceil(log2 k)`` bits).
    """
    _check_width("entries", entries, low=2, high=65536)
    _check_width("bits", bits)
    index_bits = max(1, math.ceil(math.log2(entries)))
    body = f"  assign y = codebook[index * {bits} +: {bits}];\n"
    return _module(
        f"lut_k{entries}_b{bits}",
        body,
        (("codebook", entries * bits), ("index", index_bits)),
        (("y", bits),),
        signed=False,
        registered=registered,
    )


def _check_float(exponent_bits: int, mantissa_bits: int, rounding: str) -> None:
    _check_width("exponent_bits", exponent_bits, low=2, high=15)
    _check_width("mantissa_bits", mantissa_bits, low=1, high=112)
    if rounding not in ROUNDINGS:
        raise ValueError(f"rounding must be one of {ROUNDINGS}, got {rounding!r}")


def _float_fields(e: int, m: int) -> str:
    """Verilog that unpacks operands ``a`` and ``b`` into sign, exponent and fraction."""
    n = 1 + e + m
    return (
        f"  wire sa = a[{n - 1}];\n  wire sb = b[{n - 1}];\n"
        f"  wire [{e - 1}:0] ea = a[{n - 2}:{m}];\n  wire [{e - 1}:0] eb = b[{n - 2}:{m}];\n"
        f"  wire [{m - 1}:0] fa = a[{m - 1}:0];\n  wire [{m - 1}:0] fb = b[{m - 1}:0];\n"
        "  wire za = (ea == 0);\n  wire zb = (eb == 0);\n"
    )


def _float_pack(sign: str, e: int, m: int) -> str:
    """The output of a float unit: zero (flushed), saturated on overflow, or the packed value."""
    return (
        f"  assign y = zero ? {1 + e + m}'d0 : ovf ? {{{sign}, {{{e + m}{{1'b1}}}}}}"
        f" : {{{sign}, eo[{e - 1}:0], mf}};\n"
    )


def _float_module(
    op: str, e: int, m: int, rounding: str, body: str, registered: bool
) -> VerilogModule:
    """A two-operand float unit `{op}_e{E}m{M}[_tr]` with `1 + E + M`-bit ports a, b, y."""
    n = 1 + e + m
    return _module(
        f"{op}_e{e}m{m}" + ("" if rounding == "nearest_even" else "_tr"),
        body,
        (("a", n), ("b", n)),
        (("y", n),),
        signed=False,
        registered=registered,
    )


def float_adder(
    exponent_bits: int,
    mantissa_bits: int,
    *,
    rounding: str = "nearest_even",
    registered: bool = False,
) -> VerilogModule:
    """Custom floating-point adder ``y = a + b`` (format in the module docstring).

    Datapath: order the operands by magnitude, align the smaller mantissa by the exponent
    difference keeping guard, round and sticky bits, add or subtract, normalize (one-bit right
    shift on carry, else a left shift by the leading-zero count), round, flush or saturate,
    pack. The result is the exactly rounded sum.

    Args:
        exponent_bits: Exponent field width ``E`` in bits (2..15).
        mantissa_bits: Stored mantissa width ``M`` in bits, without the implicit one.
        rounding: ``"nearest_even"`` or ``"truncate"`` (toward zero).
        registered: Register inputs and output on ``clk``.

    Returns:
        The module ``fadd_e{E}m{M}`` with ``1 + E + M``-bit ports ``a``, ``b``, ``y``.
    """
    _check_float(exponent_bits, mantissa_bits, rounding)
    e, m = exponent_bits, mantissa_bits
    w = m + 4  # hidden one, M fraction bits, guard, round, sticky
    lzw = max(1, math.ceil(math.log2(w + 1)))  # leading-zero count width
    off = w + 1  # exponent offset that keeps intermediate exponents non-negative
    xw = math.ceil(math.log2(2**e + off + 2)) + 1  # offset-exponent width
    if 2**e - 1 > w:  # an exponent difference beyond w shifts everything out: clamp it
        sw = max(1, math.ceil(math.log2(w + 1)))
        shift = f"  wire [{sw - 1}:0] dc = (d > {w}) ? {w} : d[{sw - 1}:0];\n"
    else:
        shift = f"  wire [{e - 1}:0] dc = d;\n"
    inc = "g & (r | st | lsb)" if rounding == "nearest_even" else "1'b0"
    body = (
        _float_fields(e, m) + f"  wire [{e + m - 1}:0] ka = za ? {e + m}'d0 : a[{e + m - 1}:0];\n"
        f"  wire [{e + m - 1}:0] kb = zb ? {e + m}'d0 : b[{e + m - 1}:0];\n"
        f"  wire [{m}:0] ma = za ? {m + 1}'d0 : {{1'b1, fa}};\n"
        f"  wire [{m}:0] mb = zb ? {m + 1}'d0 : {{1'b1, fb}};\n"
        "  wire swap = kb > ka;\n"
        "  wire sx = swap ? sb : sa;\n  wire sy = swap ? sa : sb;\n"
        f"  wire [{e - 1}:0] ex = swap ? eb : ea;\n  wire [{e - 1}:0] ey = swap ? ea : eb;\n"
        f"  wire [{m}:0] mx = swap ? mb : ma;\n  wire [{m}:0] my = swap ? ma : mb;\n"
        f"  wire [{e - 1}:0] d = ex - ey;\n" + shift + f"  wire [{w - 1}:0] xa = {{mx, 3'b000}};\n"
        f"  wire [{w - 1}:0] y0 = {{my, 3'b000}};\n"
        f"  wire [{w - 1}:0] ysh = y0 >> dc;\n"
        f"  wire sticky_in = |(y0 & ~({{{w}{{1'b1}}}} << dc));\n"
        f"  wire [{w - 1}:0] ya = {{ysh[{w - 1}:1], ysh[0] | sticky_in}};\n"
        f"  wire [{w}:0] s = (sx ^ sy) ? ({{1'b0, xa}} - {{1'b0, ya}})"
        f" : ({{1'b0, xa}} + {{1'b0, ya}});\n"
        f"  reg [{lzw - 1}:0] lz;\n"
        "  integer i;\n"
        "  always @* begin\n"
        f"    lz = {w};\n"
        f"    for (i = 0; i < {w}; i = i + 1) if (s[i]) lz = {w - 1} - i;\n"
        "  end\n"
        f"  wire [{w - 1}:0] nl = s[{w - 1}:0] << lz;\n"
        f"  wire [{w - 1}:0] nv = s[{w}] ? {{s[{w}:2], s[1] | s[0]}} : nl;\n"
        f"  wire [{xw - 1}:0] en = s[{w}] ? ex + {off + 1} : ex + {off} - lz;\n"
        "  wire lsb = nv[3];\n  wire g = nv[2];\n  wire r = nv[1];\n  wire st = nv[0];\n"
        f"  wire inc = {inc};\n"
        f"  wire [{m + 1}:0] mr = {{1'b0, nv[{w - 1}:3]}} + inc;\n"
        f"  wire co = mr[{m + 1}];\n"
        f"  wire [{m - 1}:0] mf = co ? mr[{m}:1] : mr[{m - 1}:0];\n"
        f"  wire [{xw - 1}:0] ef = en + co;\n"
        f"  wire [{xw - 1}:0] eo = ef - {off};\n"
        f"  wire zero = (s == 0) || (ef <= {off});\n"
        f"  wire ovf = ef >= {off + 2**e};\n" + _float_pack("sx", e, m)
    )
    return _float_module("fadd", e, m, rounding, body, registered)


def float_multiplier(
    exponent_bits: int,
    mantissa_bits: int,
    *,
    rounding: str = "nearest_even",
    registered: bool = False,
) -> VerilogModule:
    """Custom floating-point multiplier ``y = a * b`` (format in the module docstring).

    Datapath: multiply the ``M + 1``-bit significands, normalize the product by one bit,
    round with guard and sticky bits, add the exponents and remove the bias, flush or
    saturate, pack. The result is the exactly rounded product.

    Args:
        exponent_bits: Exponent field width ``E`` in bits (2..15).
        mantissa_bits: Stored mantissa width ``M`` in bits, without the implicit one.
        rounding: ``"nearest_even"`` or ``"truncate"`` (toward zero).
        registered: Register inputs and output on ``clk``.

    Returns:
        The module ``fmul_e{E}m{M}`` with ``1 + E + M``-bit ports ``a``, ``b``, ``y``.
    """
    _check_float(exponent_bits, mantissa_bits, rounding)
    e, m = exponent_bits, mantissa_bits
    bias = 2 ** (e - 1) - 1
    pw = 2 * m + 2
    xw = e + 2
    inc = "g & (st | lsb)" if rounding == "nearest_even" else "1'b0"
    body = (
        _float_fields(e, m) + f"  wire [{pw - 1}:0] p = {{1'b1, fa}} * {{1'b1, fb}};\n"
        f"  wire [{pw - 1}:0] pn = p[{pw - 1}] ? p : (p << 1);\n"
        f"  wire lsb = pn[{m + 1}];\n  wire g = pn[{m}];\n  wire st = |pn[{m - 1}:0];\n"
        f"  wire inc = {inc};\n"
        f"  wire [{m}:0] mr = {{1'b0, pn[{2 * m}:{m + 1}]}} + inc;\n"
        f"  wire co = mr[{m}];\n"
        f"  wire [{m - 1}:0] mf = mr[{m - 1}:0];\n"
        f"  wire [{xw - 1}:0] ef = ea + eb + p[{pw - 1}] + co;\n"
        f"  wire [{xw - 1}:0] eo = ef - {bias};\n"
        f"  wire zero = za | zb | (ef <= {bias});\n"
        f"  wire ovf = ef >= {bias + 2**e};\n"
        "  wire sy = sa ^ sb;\n" + _float_pack("sy", e, m)
    )
    return _float_module("fmul", e, m, rounding, body, registered)
