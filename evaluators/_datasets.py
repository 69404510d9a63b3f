"""Datasets from packages or local files, split reproducibly from a seed. No network."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from evaluators._cifar import read_cifar
from evaluators._errors import WorkloadError
from evaluators._idx import read_idx
from evaluators._normalization import Normalization

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
    """The splits of a workload and a fingerprint of their content.

    Attributes:
        train: fits the float model and calibrates activation ranges.
        validation: what a search scores configurations on.
        test: the final report's split; `None` when a user gives none (re-scoring then
            reports validation only).
        fingerprint: 16 hex digits identifying the data (and how it was split).
        normalization: the rule applied to the inputs (a model trained on them expects it).
    """

    train: DataSplit
    validation: DataSplit
    test: DataSplit | None
    fingerprint: str
    normalization: Normalization = Normalization()

    def normalized(self, rule: Normalization) -> Dataset:
        """The same splits with `rule` applied to their inputs (recorded on the result)."""
        if rule.identity:
            return replace(self, normalization=rule)
        splits = [
            None if s is None else DataSplit(rule.apply(s.x), s.y)
            for s in (self.train, self.validation, self.test)
        ]
        return Dataset(*splits, fingerprint=self.fingerprint, normalization=rule)

    def split(self, name: str) -> DataSplit:
        """The split called `name` (`train`, `validation` or `test`).

        Raises:
            WorkloadError: an unknown name, or `test` when there is none.
        """
        if name not in SPLIT_NAMES:
            raise WorkloadError(f"split: expected one of {SPLIT_NAMES}, got {name!r}")
        split = getattr(self, name)
        if split is None:
            raise WorkloadError(f"split: this workload has no {name} split")
        return split

    @property
    def num_classes(self) -> int:
        """1 + the largest label of any split."""
        splits = (self.train, self.validation, self.test)
        return int(torch.cat([s.y for s in splits if s is not None]).max()) + 1

    @classmethod
    def of(cls, train: DataSplit, validation: DataSplit, test: DataSplit | None = None) -> Dataset:
        """Splits a caller already holds, fingerprinted from their content."""
        splits = [s for s in (train, validation, test) if s is not None]
        return cls(train, validation, test, _fingerprint(*(t for s in splits for t in (s.x, s.y))))


FORMATS = ("digits", "fashion_mnist", "idx", "cifar10", "cifar100", "images", "npz")
"""Dataset kinds: two built-in names, then on-disk formats that need a `path`."""

OFFICIAL_TEST = ("fashion_mnist", "idx", "cifar10", "cifar100")
"""Formats that ship a test split: it is the test split, and validation is carved from train."""


@dataclass(frozen=True)
class DatasetSpec:
    """What data a workload reads: a `format` of `FORMATS` and, for files, its `path`.

    `npz` also reads `.pt`/`.pth` tensor files; `images` is a folder with one sub-folder per
    class; `idx` a folder with `train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`,
    `t10k-images-idx3-ubyte[.gz]`, `t10k-labels-idx1-ubyte[.gz]` (MNIST, Fashion-MNIST, KMNIST);
    `cifar10` the python (`data_batch_1..5`, `test_batch`) or binary (`*.bin`) batches;
    `cifar100` the python `train` and `test` files.
    """

    format: str
    path: str | None = None

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise WorkloadError(
                f"dataset.format: expected one of {', '.join(FORMATS)}, got {self.format!r}"
            )
        if self.format not in ("digits", "fashion_mnist") and not self.path:
            raise WorkloadError(f"dataset.path: format {self.format!r} needs a path")

    @classmethod
    def parse(cls, source: str | DatasetSpec) -> DatasetSpec:
        """A spec from study.yaml's plain string form: a built-in name, a folder of images,
        or a .npz/.pt file."""
        if isinstance(source, DatasetSpec):
            return source
        if source in ("digits", "fashion_mnist"):
            return cls(source)
        if Path(source).suffix in (".npz", ".pt", ".pth"):
            return cls("npz", source)
        return cls("images", source)


def load_dataset(
    source: str | DatasetSpec,
    *,
    fractions: tuple[float, float, float],
    seed: int,
    base_dir: Path,
    validation: int | float = 5000,
    normalization: Normalization | None = None,
) -> Dataset:
    """Load a dataset, split it reproducibly from `seed` and normalize its inputs.

    Datasets with an official test split (`OFFICIAL_TEST`) keep it as the test split and
    carve `validation` samples (an int, or a fraction of train) from the training split,
    stratified by class; the others are split by `fractions` (train, validation, test),
    stratified. A `.npz`/`.pt` file may hold `x` and `y`, or the splits themselves as
    `x_train, y_train, x_validation, y_validation, x_test, y_test`. Relative paths are taken
    from `base_dir`.

    Inputs are normalized by `normalization` when given (the rule a checkpoint was trained
    with); otherwise by the training split's per-channel mean and standard deviation for the
    `OFFICIAL_TEST` formats, and not at all for the others (their values are kept as read:
    digits in [0, 1], a user's arrays as given).

    Raises:
        WorkloadError: the source is missing, truncated or malformed; one line naming the file.
    """
    spec = DatasetSpec.parse(source)
    path = None if spec.path is None else Path(spec.path)
    if path is not None and not path.is_absolute():
        path = base_dir / path
    if path is not None and not path.exists():
        raise WorkloadError(f"{path}: dataset not found (format {spec.format})")
    if spec.format in OFFICIAL_TEST:
        x, y, x_test, y_test = _official(spec.format, path)
        data = _carve_validation(x, y, x_test, y_test, validation, seed)
        rule = normalization or Normalization.of(data.train.x)
    else:
        assert spec.format == "digits" or path is not None
        data = _split_source(spec.format, path, fractions, seed)
        rule = normalization or Normalization()
    return data.normalized(rule)


def _split_source(
    kind: str, path: Path | None, fractions: tuple[float, float, float], seed: int
) -> Dataset:
    if kind == "digits":
        x, y = _digits()
        return _split(x, y, fractions, seed)
    assert path is not None
    if kind == "images":
        if not path.is_dir():
            raise WorkloadError(f"{path}: an image dataset is a folder of class folders")
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


FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
"""Where Debian's `dataset-fashion-mnist` installs the real Fashion-MNIST (IDX, gzipped)."""

IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def _official(kind: str, path: Path | None) -> tuple[torch.Tensor, ...]:
    """(x_train, y_train, x_test, y_test): images as float32 in [0, 1], labels int64."""
    if kind == "fashion_mnist":
        path = FASHION_MNIST_DIR
        if not path.is_dir():
            raise WorkloadError(
                f"{path}: Fashion-MNIST is not installed; install the Debian package "
                "dataset-fashion-mnist (apt-get install dataset-fashion-mnist), or name its "
                "IDX files with workload.dataset: {format: idx, path: FOLDER}"
            )
    assert path is not None
    if kind in ("cifar10", "cifar100"):
        arrays = list(read_cifar(path, 10 if kind == "cifar10" else 100))
    else:
        arrays = [read_idx(_idx_file(path, name)) for name in IDX_FILES]
        for i in (0, 2):
            if arrays[i].ndim != 3:
                raise WorkloadError(
                    f"{path}: {IDX_FILES[i]} must hold (N, H, W) images, got shape "
                    f"{arrays[i].shape}"
                )
            arrays[i] = arrays[i][:, None]
    for i in (0, 2):
        if len(arrays[i]) != len(arrays[i + 1]):
            raise WorkloadError(f"{path}: {len(arrays[i])} images but {len(arrays[i + 1])} labels")
    x_train, y_train, x_test, y_test = (torch.from_numpy(np.ascontiguousarray(a)) for a in arrays)
    return x_train.float() / 255.0, y_train.long(), x_test.float() / 255.0, y_test.long()


def _idx_file(folder: Path, name: str) -> Path:
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.exists():
            return candidate
    raise WorkloadError(f"{folder}: {name}[.gz] not found (an IDX dataset folder)")


def _carve_validation(
    x: torch.Tensor,
    y: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    size: int | float,
    seed: int,
) -> Dataset:
    """The official test split kept; `size` validation samples (or that fraction) carved from
    the training split, stratified by class, chosen by `seed`."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    try:
        keep, held = train_test_split(idx, test_size=size, stratify=y.numpy(), random_state=seed)
    except ValueError as exc:
        raise WorkloadError(
            f"validation: cannot carve {size} of {len(y)} samples: {exc}"
        ) from None
    keep, held = np.sort(keep), np.sort(held)
    splits = (
        DataSplit(x[keep].contiguous(), y[keep].contiguous()),
        DataSplit(x[held].contiguous(), y[held].contiguous()),
        DataSplit(x_test.contiguous(), y_test.contiguous()),
    )
    return Dataset(
        *splits, fingerprint=_fingerprint(x, y, x_test, y_test, torch.tensor([seed, size]))
    )


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
