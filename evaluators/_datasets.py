"""Datasets from packages or local files, split reproducibly from a seed. No network."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from evaluators._errors import WorkloadError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".pgm", ".ppm")
SPLIT_NAMES = ("train", "validation", "test")


@dataclass(frozen=True, eq=False)
class DataSplit:
    """Inputs `x` (N, C, H, W) or (N, F) float32 and integer labels `y` (N,)."""

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def head(self, n: int | None) -> DataSplit:
        """The first `n` samples (all of them for `None`): a data-subset fidelity level."""
        return self if n is None or n >= len(self) else DataSplit(self.x[:n], self.y[:n])


@dataclass(frozen=True, eq=False)
class Dataset:
    """The three splits of a workload and a fingerprint of their content."""

    train: DataSplit
    validation: DataSplit
    test: DataSplit
    fingerprint: str

    def split(self, name: str) -> DataSplit:
        if name not in SPLIT_NAMES:
            raise WorkloadError(f"split: expected one of {SPLIT_NAMES}, got {name!r}")
        return getattr(self, name)

    @property
    def num_classes(self) -> int:
        return int(torch.cat([self.train.y, self.validation.y, self.test.y]).max()) + 1


def load_dataset(
    source: str, *, fractions: tuple[float, float, float], seed: int, base_dir: Path
) -> Dataset:
    """Load `digits` (scikit-learn's bundled set), a .npz/.pt tensor file, or an image folder.

    A file may hold `x` and `y` (split here by `fractions`, stratified, from `seed`) or the
    splits themselves as `x_train, y_train, x_validation, y_validation, x_test, y_test`. An image
    folder holds one sub-folder per class. Relative paths are taken from `base_dir`.

    Raises:
        WorkloadError: the source is missing or malformed.
    """
    if source == "digits":
        x, y = _digits()
        return _split(x, y, fractions, seed)
    path = Path(source)
    if not path.is_absolute():
        path = base_dir / path
    if not path.exists():
        raise WorkloadError(f"{path}: dataset not found (expected 'digits', a file or a folder)")
    if path.is_dir():
        x, y = _image_folder(path)
        return _split(x, y, fractions, seed)
    arrays = _tensor_file(path)
    if all(f"x_{s}" in arrays and f"y_{s}" in arrays for s in SPLIT_NAMES):
        splits = [_as_split(arrays[f"x_{s}"], arrays[f"y_{s}"], path) for s in SPLIT_NAMES]
        return Dataset(*splits, fingerprint=_fingerprint(*(t for s in splits for t in (s.x, s.y))))
    if "x" in arrays and "y" in arrays:
        split = _as_split(arrays["x"], arrays["y"], path)
        return _split(split.x, split.y, fractions, seed)
    raise WorkloadError(
        f"{path}: expected arrays 'x' and 'y', or x_/y_ train, validation and test; "
        f"found {sorted(arrays)}"
    )


def _digits() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    return x, torch.tensor(digits.target, dtype=torch.int64)


def _tensor_file(path: Path) -> dict[str, np.ndarray | torch.Tensor]:
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        if path.suffix in (".pt", ".pth"):
            data = torch.load(path, map_location="cpu", weights_only=True)
            if not isinstance(data, dict):
                raise WorkloadError(
                    f"{path}: expected a dict of tensors, got {type(data).__name__}"
                )
            return data
    except WorkloadError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file
        raise WorkloadError(f"{path}: cannot read dataset: {exc}".splitlines()[0]) from None
    raise WorkloadError(f"{path}: dataset files must end in .npz, .pt or .pth")


def _as_split(x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor, path: Path) -> DataSplit:
    xt = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    yt = torch.as_tensor(np.asarray(y)).long().reshape(-1)
    if xt.shape[0] != yt.shape[0]:
        raise WorkloadError(f"{path}: x has {xt.shape[0]} samples but y has {yt.shape[0]}")
    if xt.shape[0] == 0:
        raise WorkloadError(f"{path}: the dataset is empty")
    if yt.min() < 0:
        raise WorkloadError(f"{path}: labels must be non-negative class indices")
    return DataSplit(xt, yt)


def _image_folder(root: Path) -> tuple[torch.Tensor, torch.Tensor]:
    from PIL import Image

    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    if not classes:
        raise WorkloadError(f"{root}: an image folder needs one sub-folder per class")
    images: list[np.ndarray] = []
    labels: list[int] = []
    for label, name in enumerate(classes):
        for file in sorted((root / name).iterdir()):
            if file.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                with Image.open(file) as img:
                    array = np.asarray(img.convert("L" if img.mode in ("1", "L", "P") else "RGB"))
            except OSError as exc:
                raise WorkloadError(f"{file}: cannot read image: {exc}") from None
            images.append(array)
            labels.append(label)
    if not images:
        raise WorkloadError(
            f"{root}: no images ({', '.join(IMAGE_SUFFIXES)}) in the class folders"
        )
    shapes = {a.shape for a in images}
    if len(shapes) != 1:
        raise WorkloadError(f"{root}: images must all have one size, found {sorted(shapes)}")
    x = torch.tensor(np.stack(images), dtype=torch.float32) / 255.0
    x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)
    return x.contiguous(), torch.tensor(labels, dtype=torch.int64)


def _split(
    x: torch.Tensor, y: torch.Tensor, fractions: tuple[float, float, float], seed: int
) -> Dataset:
    """Stratified split: every class keeps its share in each split, fixed by the seed."""
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], []]
    labels = y.numpy()
    for cls in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        n_train = int(round(fractions[0] * len(idx)))
        n_val = int(round(fractions[1] * len(idx)))
        for part, chunk in zip(parts, np.split(idx, [n_train, n_train + n_val]), strict=True):
            part.append(chunk)
    order = [np.sort(np.concatenate(p)) for p in parts]
    if any(len(o) == 0 for o in order):
        raise WorkloadError("dataset too small: a split would be empty")
    splits = [DataSplit(x[o].contiguous(), y[o].contiguous()) for o in order]
    return Dataset(*splits, fingerprint=_fingerprint(x, y, torch.tensor([seed, *fractions])))


def _fingerprint(*tensors: torch.Tensor) -> str:
    import hashlib

    h = hashlib.sha256()
    for t in tensors:
        h.update(str(tuple(t.shape)).encode())
        h.update(t.detach().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]
