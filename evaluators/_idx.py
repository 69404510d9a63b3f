"""IDX files, the format of MNIST, Fashion-MNIST and KMNIST (LeCun et al.), plain or gzipped.

Layout (yann.lecun.com/exdb/mnist): two zero bytes, a type code (0x08 = unsigned byte), the
number of dimensions, one big-endian uint32 per dimension, then the data in row-major order.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from evaluators._errors import WorkloadError

_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""IDX type codes and their big-endian element types."""


def read_idx(path: Path) -> np.ndarray:
    """The array an IDX file (`.gz` or not) holds, with the shape its header gives.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> f = Path(tempfile.mkdtemp()) / "x-idx1-ubyte"
        >>> _ = f.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
        >>> read_idx(f).tolist()
        [7, 8, 9]

    Raises:
        WorkloadError: the file is missing, truncated, or not an IDX file.
    """
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except FileNotFoundError:
        raise WorkloadError(f"{path}: IDX file not found") from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise WorkloadError(f"{path}: cannot read IDX file: {exc}".splitlines()[0]) from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPES:
        raise WorkloadError(f"{path}: not an IDX file (bad magic number)")
    dtype, ndim = _TYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise WorkloadError(f"{path}: truncated IDX header")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise WorkloadError(
            f"{path}: IDX data has {len(raw) - header} bytes, its header {shape} needs {expected}"
        )
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))
