"""CIFAR-10 and CIFAR-100 in their published on-disk forms, read without executing code.

The python version (Krizhevsky, 2009: `cifar-10-batches-py/data_batch_1..5, test_batch`,
`cifar-100-python/train, test`) is a Python 2 pickle of a dict of bytes keys, lists and one
uint8 numpy array. `pickle.load` on such a file would run whatever callable the file names,
so it is read by `SafeUnpickler`, which admits exactly the few classes numpy needs to rebuild
an array and refuses anything else. The binary version of CIFAR-10
(`cifar-10-batches-bin/data_batch_1..5.bin, test_batch.bin`) is 10,000 records of one label
byte and 3,072 pixel bytes (1,024 per channel, row-major).
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from evaluators._errors import WorkloadError

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("_codecs", "encode"),
}
"""The only globals a CIFAR pickle may name: how numpy rebuilds an array and its dtype, and
how protocol-2 pickles written by Python 3 spell bytes (`_codecs.encode(text, 'latin1')`,
which encodes a string and does nothing else)."""

SIDE = 32
"""CIFAR images are 32x32 with 3 channels."""


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that builds only plain data and numpy arrays.

    Dicts, lists, tuples, strings, bytes and numbers need no global; numpy arrays need the
    globals of `_ALLOWED`. Any other global (a function, a class, `os.system`, `builtins.open`)
    is refused before anything is called.
    """

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refused global {module}.{name}")


def read_pickle_batch(path: Path) -> dict[str, Any]:
    """The dict of a CIFAR python batch, keys decoded to str.

    Raises:
        WorkloadError: the file is missing, truncated, not such a pickle, or names any global
            other than numpy's array constructors.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise WorkloadError(f"{path}: CIFAR batch not found") from None
    except OSError as exc:
        raise WorkloadError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = SafeUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except pickle.UnpicklingError as exc:
        raise WorkloadError(f"{path}: not a CIFAR batch: {exc}") from None
    except (EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
        reason = str(exc) or type(exc).__name__
        raise WorkloadError(f"{path}: truncated or malformed pickle: {reason}") from None
    if not isinstance(data, dict):
        raise WorkloadError(f"{path}: expected a dict, got {type(data).__name__}")
    return {k.decode() if isinstance(k, bytes) else str(k): v for k, v in data.items()}


def _images(data: Any, path: Path) -> np.ndarray:
    array = np.asarray(data)
    if array.dtype != np.uint8 or array.ndim != 2 or array.shape[1] != 3 * SIDE * SIDE:
        raise WorkloadError(
            f"{path}: 'data' must be uint8 of shape (N, 3072), got {array.dtype} "
            f"{tuple(array.shape)}"
        )
    return array.reshape(-1, 3, SIDE, SIDE)


def _batch(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    batch = read_pickle_batch(path)
    missing = [k for k in ("data", label_key) if k not in batch]
    if missing:
        raise WorkloadError(f"{path}: missing keys {missing}; found {sorted(batch)}")
    images = _images(batch["data"], path)
    labels = np.asarray(batch[label_key], dtype=np.int64).reshape(-1)
    if len(labels) != len(images):
        raise WorkloadError(f"{path}: {len(images)} images but {len(labels)} labels")
    return images, labels


def _binary(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        raw = np.fromfile(path, dtype=np.uint8)
    except FileNotFoundError:
        raise WorkloadError(f"{path}: CIFAR batch not found") from None
    record = 1 + 3 * SIDE * SIDE
    if raw.size == 0 or raw.size % record:
        raise WorkloadError(
            f"{path}: {raw.size} bytes is not a whole number of {record}-byte CIFAR-10 records"
        )
    rows = raw.reshape(-1, record)
    return rows[:, 1:].reshape(-1, 3, SIDE, SIDE), rows[:, 0].astype(np.int64)


def read_cifar(folder: Path, classes: int) -> tuple[np.ndarray, ...]:
    """(train images, train labels, test images, test labels) of a CIFAR folder.

    Images are uint8 (N, 3, 32, 32); labels int64 (N,). CIFAR-10 folders may hold the python
    or the binary version; CIFAR-100 the python version (fine labels).

    Raises:
        WorkloadError: a file is missing, truncated or malformed.
    """
    if not folder.is_dir():
        raise WorkloadError(f"{folder}: CIFAR-{classes} folder not found")
    if classes == 100:
        train = _batch(folder / "train", "fine_labels")
        test = _batch(folder / "test", "fine_labels")
    elif (folder / "data_batch_1.bin").exists():
        parts = [_binary(folder / f"data_batch_{i}.bin") for i in range(1, 6)]
        train = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
        test = _binary(folder / "test_batch.bin")
    else:
        parts = [_batch(folder / f"data_batch_{i}", "labels") for i in range(1, 6)]
        train = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
        test = _batch(folder / "test_batch", "labels")
    for _, labels in (train, test):
        if labels.min() < 0 or labels.max() >= classes:
            raise WorkloadError(f"{folder}: labels outside 0..{classes - 1}")
    return train[0], train[1], test[0], test[1]
