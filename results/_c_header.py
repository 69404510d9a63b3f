"""A C header of a point's weights as the integers of their formats, and its reader.

Every array is preceded by a tag comment a person and `read_c_header` both read:
``/* @dse conv1.weight part=values kind=fixed shape=6,1,3,3 format=ap_fixed<6,1,...>
scale=2^-5 */`` -- a value is ``q * scale``, the array in PyTorch's C order. Shared weights
store their codebooks (one row per group: per layer, channel or kernel) and the indices packed
``index_bits`` to a weight, least significant bit first. Custom floats store their bit
patterns (``sign | exponent | mantissa``, IEEE-style with ``bias = 2**(E-1) - 1``). Values no
format describes (float32 weights, a float32 codebook) are written as ``float`` literals.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evaluators import FloatFormat, WeightSharing
from results._errors import ResultsError
from results._hls_types import ApFixed

__all__ = ["HeaderTensor", "read_c_header", "render_c_header"]

_TAG = re.compile(r"/\* @dse (?P<name>\S+) (?P<fields>[^*]*)\*/\s*(?P<decl>[^=;]*)=\s*\{")
_FIELD = re.compile(r"(\w+)=(\S+)")
_NUMBER = re.compile(r"[-+]?(?:0x[0-9a-fA-F]+|\d+\.?\d*(?:[eE][-+]?\d+)?)")
_PER_LINE = 12


@dataclass(frozen=True)
class HeaderTensor:
    """One tensor of a header.

    Attributes:
        name: ``<layer>.weight`` or ``<layer>.bias``.
        values: the tensor's values (any float array; float64 is exact for every format).
        fmt: its format: an `ApFixed` (fixed point), a `FloatFormat` (bit patterns), a
            `WeightSharing` (codebooks and packed indices) or None (float32 literals).
        table: for shared weights at network granularity, the network's one codebook
            (sorted distinct values); None derives each group's codebook from `values`.
    """

    name: str
    values: np.ndarray
    fmt: ApFixed | FloatFormat | WeightSharing | None
    table: np.ndarray | None = None


def render_c_header(tensors: Sequence[HeaderTensor], guard: str, title: str) -> str:
    """The text of a header holding `tensors` (see the module docstring for the layout).

    Args:
        tensors: the tensors, in the order to write them.
        guard: the include guard's macro name.
        title: one line said first (what the header holds).

    Raises:
        ResultsError: a value its format does not hold exactly.
    """
    lines = [
        f"/* {title}",
        " * Each array follows a tag comment: '@dse <tensor> part=... kind=... shape=...'.",
        " * kind=fixed: a value is q * scale. kind=float: IEEE-style bit patterns",
        " * (sign | exponent | mantissa, bias 2^(E-1)-1). kind=shared: codebooks (one row per",
        " * group) and indices packed index_bits per weight, LSB first, in C order.",
        " * Arrays are in PyTorch's layout: Conv (out, in, kh, kw), Linear (out, in). */",
        f"#ifndef {guard}",
        f"#define {guard}",
        "",
        "#include <stdint.h>",
        "",
    ]
    for tensor in tensors:
        lines += _render_tensor(tensor)
    lines += [f"#endif /* {guard} */", ""]
    return "\n".join(lines)


def read_c_header(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a header written by `render_c_header`, decoded to float64 values.

    Raises:
        ResultsError: the file cannot be read or holds no tagged array.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read the C header: {exc.strerror}") from None
    parts: dict[str, dict[str, tuple[dict[str, str], list[str]]]] = {}
    for match in _TAG.finditer(text):
        fields = dict(_FIELD.findall(match["fields"]))
        body = text[match.end() : text.index("}", match.end())]
        parts.setdefault(match["name"], {})[fields["part"]] = (fields, _NUMBER.findall(body))
    if not parts:
        raise ResultsError(f"{path}: no '@dse' array in the C header")
    return {name: _decode(name, tensor) for name, tensor in parts.items()}


# -- writing ----------------------------------------------------------------------------------


def _render_tensor(tensor: HeaderTensor) -> list[str]:
    values = np.asarray(tensor.values, dtype=np.float64)
    shape = ",".join(str(s) for s in values.shape) or "1"
    ident = tensor.name.replace(".", "_").replace(":", "_")
    fmt = tensor.fmt
    if isinstance(fmt, WeightSharing):
        return _render_shared(tensor, values, shape, ident, fmt)
    head = f"/* @dse {tensor.name} part=values shape={shape} "
    if isinstance(fmt, ApFixed):
        ints = _fixed_integers(values.reshape(-1), fmt, tensor.name)
        ctype = _int_type(fmt.width, fmt.signed)
        tag = f"kind=fixed format={fmt} scale=2^{-fmt.fraction_bits} */"
        return [head + tag, *_array(ctype, ident, [str(q) for q in ints])]
    if isinstance(fmt, FloatFormat):
        bits = [_float_bits(v, fmt) for v in values.reshape(-1).tolist()]
        tag = (
            f"kind=float exponent_bits={fmt.exponent_bits} mantissa_bits={fmt.mantissa_bits}"
            f" subnormals={int(fmt.subnormals)} */"
        )
        return [head + tag, *_array(_int_type(fmt.bits, False), ident, [hex(b) for b in bits])]
    return [head + "kind=float32 */", *_array("float", ident, _float_literals(values))]


def _render_shared(
    tensor: HeaderTensor, values: np.ndarray, shape: str, ident: str, fmt: WeightSharing
) -> list[str]:
    groups = fmt.codebooks(tuple(values.shape)) if values.ndim else 1
    rows = values.reshape(groups, -1)
    tables = (
        [np.unique(row) for row in rows]
        if tensor.table is None
        else [np.asarray(tensor.table, dtype=np.float64)] * groups
    )
    entries = max(len(t) for t in tables)
    padded = np.stack([np.pad(t, (0, entries - len(t)), mode="edge") for t in tables])
    indices = []
    for row, table in zip(rows, tables, strict=True):
        position = np.searchsorted(table, row)
        position = np.minimum(position, len(table) - 1)
        if not np.array_equal(table[position], row):
            raise ResultsError(f"{tensor.name}: a weight is not in its codebook")
        indices.append(position)
    index_bits = max(fmt.index_bits, (entries - 1).bit_length())
    book = fmt.codebook
    common = (
        f"shape={shape} clusters={fmt.clusters} groups={groups} entries={entries} "
        f"granularity={fmt.granularity.name} index_bits={index_bits}"
    )
    head = f"/* @dse {tensor.name} part=codebook {common} "
    if book is None:
        lines = [head + "kind=float32 */"]
        lines += _array("float", f"{ident}_codebook", _float_literals(padded), (groups, entries))
    elif isinstance(book, FloatFormat):
        bits = [hex(_float_bits(v, book)) for v in padded.reshape(-1).tolist()]
        tag = (
            f"kind=float exponent_bits={book.exponent_bits} mantissa_bits={book.mantissa_bits}"
            f" subnormals={int(book.subnormals)} */"
        )
        ctype = _int_type(book.bits, False)
        lines = [head + tag, *_array(ctype, f"{ident}_codebook", bits, (groups, entries))]
    else:
        ap = ApFixed.of(book)
        ints = [str(q) for q in _fixed_integers(padded.reshape(-1), ap, tensor.name)]
        tag = f"kind=fixed format={ap} scale=2^{-ap.fraction_bits} */"
        ctype = _int_type(ap.width, ap.signed)
        lines = [head + tag, *_array(ctype, f"{ident}_codebook", ints, (groups, entries))]
    packed = _pack(np.concatenate(indices) if indices else np.zeros(0, int), index_bits)
    lines.append(f"/* @dse {tensor.name} part=indices {common} kind=packed */")
    lines += _array("uint8_t", f"{ident}_indices", [f"0x{b:02x}" for b in packed])
    return lines


def _array(
    ctype: str, ident: str, items: Sequence[str], dims: tuple[int, ...] | None = None
) -> list[str]:
    sizes = "".join(f"[{d}]" for d in (dims or (max(len(items), 1),)))
    body = [
        "    " + ", ".join(items[i : i + _PER_LINE]) + "," for i in range(0, len(items), _PER_LINE)
    ] or ["    0,"]
    return [f"static const {ctype} {ident}{sizes} = {{", *body, "};", ""]


def _int_type(width: int, signed: bool) -> str:
    for size in (8, 16, 32, 64):
        if width <= size:
            return f"{'' if signed else 'u'}int{size}_t"
    raise ResultsError(f"C header: a {width}-bit integer has no C type (at most 64 bits)")


def _fixed_integers(values: np.ndarray, fmt: ApFixed, name: str) -> list[int]:
    scale = math.ldexp(1.0, fmt.fraction_bits)
    ints = []
    low = -(1 << (fmt.width - 1)) if fmt.signed else 0
    high = (1 << (fmt.width - 1)) - 1 if fmt.signed else (1 << fmt.width) - 1
    for value in values.tolist():
        scaled = value * scale
        if not (math.isfinite(scaled) and scaled == math.floor(scaled) and low <= scaled <= high):
            raise ResultsError(f"{name}: {value!r} is not a value of {fmt}")
        ints.append(int(scaled))
    return ints


def _float_literals(values: np.ndarray) -> list[str]:
    return [f"{float(np.float32(v))!r}f" for v in np.asarray(values).reshape(-1)]


def _float_bits(value: float, fmt: FloatFormat) -> int:
    """The bit pattern of `value` (a value of `fmt`) in `fmt`."""
    sign = 1 if math.copysign(1.0, value) < 0 else 0
    magnitude = abs(value)
    top = (1 << fmt.exponent_bits) - 1
    if math.isinf(magnitude):
        code, fraction = top, 0
    elif magnitude == 0:
        code, fraction = 0, 0
    else:
        exponent = math.frexp(magnitude)[1] - 1
        if exponent + fmt.bias >= 1:
            code = exponent + fmt.bias
            fraction = (magnitude / math.ldexp(1.0, exponent) - 1.0) * (1 << fmt.mantissa_bits)
        else:
            code = 0
            fraction = magnitude / math.ldexp(1.0, 1 - fmt.bias - fmt.mantissa_bits)
        if fraction != int(fraction) or not 0 <= code < top:
            raise ResultsError(f"custom float: {value!r} is not a value of {fmt}")
    width = fmt.exponent_bits + fmt.mantissa_bits
    return (sign << width) | (code << fmt.mantissa_bits) | int(fraction)


def _pack(indices: np.ndarray, bits: int) -> list[int]:
    """Indices of `bits` bits each as bytes, least significant bit first."""
    if bits == 0:
        return []
    values = np.asarray(indices, dtype=np.int64).reshape(-1)
    stream = ((values[:, None] >> np.arange(bits)) & 1).astype(np.uint8)  # (n, bits), LSB first
    return np.packbits(stream.reshape(-1), bitorder="little").tolist()


# -- reading ----------------------------------------------------------------------------------


def _decode(name: str, parts: Mapping[str, tuple[dict[str, str], list[str]]]) -> np.ndarray:
    if "values" in parts:
        fields, numbers = parts["values"]
        shape = _shape(fields)
        return _scalars(fields, numbers).reshape(shape)
    if "codebook" not in parts:
        raise ResultsError(f"C header: {name} has indices but no codebook")
    fields, numbers = parts["codebook"]
    groups, entries = int(fields["groups"]), int(fields["entries"])
    table = _scalars(fields, numbers).reshape(groups, entries)
    shape = _shape(fields)
    count = math.prod(shape)
    bits = int(fields["index_bits"])
    index = np.zeros(count, dtype=np.int64)
    if bits and "indices" in parts:
        data = np.array([int(b, 0) for b in parts["indices"][1]], dtype=np.uint8)
        stream = np.unpackbits(data, bitorder="little")[: count * bits]
        if stream.size < count * bits:
            raise ResultsError(f"C header: {name} has fewer index bytes than its shape needs")
        index = stream.reshape(count, bits).astype(np.int64) @ (1 << np.arange(bits))
    rows = index.reshape(groups, -1)
    return np.take_along_axis(table, rows, axis=1).reshape(shape)


def _shape(fields: Mapping[str, str]) -> tuple[int, ...]:
    return tuple(int(s) for s in fields["shape"].split(","))


def _scalars(fields: Mapping[str, str], numbers: list[str]) -> np.ndarray:
    kind = fields["kind"]
    if kind == "fixed":
        exponent = int(fields["scale"].removeprefix("2^"))
        return np.array([math.ldexp(float(int(q)), exponent) for q in numbers])
    if kind == "float":
        fmt = FloatFormat(int(fields["exponent_bits"]), int(fields["mantissa_bits"]))
        return np.array([_float_value(int(b, 0), fmt) for b in numbers])
    return np.array([float(v) for v in numbers], dtype=np.float64)


def _float_value(bits: int, fmt: FloatFormat) -> float:
    width = fmt.exponent_bits + fmt.mantissa_bits
    sign = -1.0 if bits >> width else 1.0
    code = (bits >> fmt.mantissa_bits) & ((1 << fmt.exponent_bits) - 1)
    fraction = bits & ((1 << fmt.mantissa_bits) - 1)
    if code == (1 << fmt.exponent_bits) - 1:
        return sign * math.inf
    if code == 0:
        return sign * math.ldexp(float(fraction), 1 - fmt.bias - fmt.mantissa_bits)
    return sign * math.ldexp(1.0 + fraction / (1 << fmt.mantissa_bits), code - fmt.bias)
