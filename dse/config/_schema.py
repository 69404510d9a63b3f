"""The study.yaml schema, version 1: one frozen pydantic model per section.

Every section rejects unknown keys. Defaults are resolved here, once, so nothing downstream
looks up strings with fallbacks. `docs/study-yaml.md` documents every key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializeAsAny,
    TypeAdapter,
    WrapValidator,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from dse.optimizers import (
    NsgaIISettings,
    OptimizerSettings,
    UnknownOptimizerError,
    optimizer_settings,
)
from evaluators import available_proxies, get_proxy

OBJECTIVE_DIRECTIONS: dict[str, Literal["maximize", "minimize"]] = {
    "accuracy": "maximize",
    "weight_bits": "minimize",
    "lut": "minimize",
    "ff": "minimize",
    "dsp": "minimize",
    "bram": "minimize",
    "latency": "minimize",
    "energy": "minimize",
}
"""Every metric a study can optimize, with its natural direction."""

CONSTRAINT_METRICS = (*OBJECTIVE_DIRECTIONS, "accuracy_drop", "utilization")
"""Metrics a constraint can bound (`utilization`: largest used fraction of any resource)."""


class Section(BaseModel):
    """Base of every section: immutable, unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


IntRange = tuple[int, int]
"""An inclusive integer range `[low, high]`."""


def _as_range(value: Any) -> Any:
    """Accept `8` for `[8, 8]`; pydantic validates the rest."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    return value


def _check_range(value: tuple[int, int] | None, low: int, high: int) -> tuple[int, int] | None:
    if value is None:
        return None
    lo, hi = value
    if lo > hi:
        raise ValueError(f"range [{lo}, {hi}] is empty: the first value must be <= the second")
    if lo < low or hi > high:
        raise ValueError(f"range [{lo}, {hi}] must lie within [{low}, {high}]")
    return value


class StudySection(Section):
    """Identity of the study and where it writes."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)]
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    output: str = "runs"


class SplitsSection(Section):
    """Fractions of the dataset for training, validation (search) and test (final report)."""

    train: Annotated[float, Field(gt=0, lt=1)] = 0.6
    validation: Annotated[float, Field(gt=0, lt=1)] = 0.2
    test: Annotated[float, Field(gt=0, lt=1)] = 0.2

    @model_validator(mode="after")
    def _sum_to_one(self) -> SplitsSection:
        total = self.train + self.validation + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"train + validation + test must sum to 1, got {total:g}")
        return self


class TrainingSection(Section):
    """Recipe used when the model has no checkpoint (the built-in one never has)."""

    epochs: Annotated[int, Field(ge=1, le=1000)] = 60
    batch_size: Annotated[int, Field(ge=1)] = 32
    learning_rate: Annotated[float, Field(gt=0)] = 3e-3
    weight_decay: Annotated[float, Field(ge=0)] = 1e-4
    optimizer: Literal["adam", "sgd"] = "adam"
    momentum: Annotated[float, Field(ge=0, lt=1)] = 0.9
    augment: Literal["none", "crop_flip"] = "none"


class DatasetSection(Section):
    """A dataset by its on-disk format (see `evaluators.DatasetSpec`)."""

    format: Literal["digits", "fashion_mnist", "idx", "cifar10", "cifar100", "images", "npz"]
    path: str | None = None

    @model_validator(mode="after")
    def _path_for_files(self) -> DatasetSection:
        if self.format not in ("digits", "fashion_mnist") and not self.path:
            raise ValueError(f"format {self.format!r} needs a 'path'")
        return self


def _validation_size(value: Any) -> Any:
    """An int >= 1 of samples, or a fraction in (0, 1)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a sample count or a fraction, got {value!r}")
    if isinstance(value, int) and value < 1 or isinstance(value, float) and not 0 < value < 1:
        raise ValueError(f"expected a sample count >= 1 or a fraction in (0, 1), got {value}")
    return value


class WorkloadSection(Section):
    """The model to approximate and the data to score it on.

    `dataset` is a built-in name (`digits`, `fashion_mnist`), a .npz/.pt file or image
    folder, or `{format, path}`. Datasets that ship a test split keep it and carve
    `validation` samples (or that fraction) from their training split; the others are split
    by `splits`. `fold_batchnorm` folds every BatchNorm into the layer before it, as hls4ml
    and FINN do, before any format is applied.
    """

    model: str = "lenet5"
    checkpoint: str | None = None
    dataset: str | DatasetSection = "digits"
    splits: SplitsSection = SplitsSection()
    validation: Annotated[int | float, BeforeValidator(_validation_size)] = 5000
    fold_batchnorm: bool = True
    training: TrainingSection = TrainingSection()


Rounding = Literal["nearest_even", "nearest_up", "truncate"]
WeightKind = Literal["fixed", "float", "shared"]
ActivationKind = Literal["fixed", "float"]
GranularityName = Literal["network", "layer", "channel", "kernel"]


class CodebookSection(Section):
    """Format the shared-weight centroids are stored in (absent: float32)."""

    kind: Literal["fixed", "float"]
    bits: Annotated[int, Field(ge=1, le=32)] | None = None
    exponent_bits: Annotated[int, Field(ge=2, le=8)] | None = None
    mantissa_bits: Annotated[int, Field(ge=0, le=23)] | None = None

    @model_validator(mode="after")
    def _fields_of_kind(self) -> CodebookSection:
        if self.kind == "fixed" and self.bits is None:
            raise ValueError("a fixed codebook needs 'bits'")
        if self.kind == "float" and (self.exponent_bits is None or self.mantissa_bits is None):
            raise ValueError("a float codebook needs 'exponent_bits' and 'mantissa_bits'")
        return self


class _RangesMixin(Section):
    """Fields shared by the weight and activation spaces: fixed and float ranges."""

    bits: IntRange | None = (4, 16)
    integer_bits: int | Literal["auto"] = "auto"
    rounding: Rounding = "nearest_even"
    overflow: Literal["saturate", "wrap"] = "saturate"
    exponent_bits: IntRange | None = (2, 8)
    mantissa_bits: IntRange | None = (0, 10)
    subnormals: bool = True
    float_overflow: Literal["inf", "saturate"] = "inf"

    _as_ranges = field_validator("bits", "exponent_bits", "mantissa_bits", mode="before")(
        _as_range
    )

    @field_validator("bits")
    @classmethod
    def _bits_range(cls, v: IntRange | None) -> IntRange | None:
        return _check_range(v, 1, 32)

    @field_validator("exponent_bits")
    @classmethod
    def _exponent_range(cls, v: IntRange | None) -> IntRange | None:
        return _check_range(v, 2, 8)

    @field_validator("mantissa_bits")
    @classmethod
    def _mantissa_range(cls, v: IntRange | None) -> IntRange | None:
        return _check_range(v, 0, 23)


class WeightSpace(_RangesMixin):
    """Choices for one layer's weights: fixed(bits), float(E, M) or shared(k, granularity)."""

    kinds: Annotated[tuple[WeightKind, ...], Field(min_length=1)] = ("fixed",)
    clusters: IntRange | None = (2, 64)
    granularity: Annotated[tuple[GranularityName, ...], Field(min_length=1)] = ("layer",)
    codebook: CodebookSection | None = None

    _clusters_range = field_validator("clusters", mode="before")(_as_range)

    @field_validator("clusters")
    @classmethod
    def _clusters_bounds(cls, v: IntRange | None) -> IntRange | None:
        return _check_range(v, 1, 65536)

    @field_validator("kinds", "granularity")
    @classmethod
    def _unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError(f"values must be unique, got {list(v)}")
        return v


class ActivationSpace(_RangesMixin):
    """Choices for one layer's output activations; ranges calibrated on training data."""

    kinds: Annotated[tuple[ActivationKind, ...], Field(min_length=1)] = ("fixed",)
    calibration: Literal["minmax", "percentile", "mse"] = "minmax"
    percentile: Annotated[float, Field(gt=50, le=100)] = 99.99
    accumulator_bits: IntRange | None = None

    _acc_range = field_validator("accumulator_bits", mode="before")(_as_range)

    @field_validator("accumulator_bits")
    @classmethod
    def _acc_bounds(cls, v: IntRange | None) -> IntRange | None:
        return _check_range(v, 2, 64)


class LayerSettings(Section):
    """Overrides for some layers; only the fields written replace the inherited ones."""

    skip: bool = False
    weights: WeightSpace | None = None
    activations: ActivationSpace | None = None


class LayerRule(LayerSettings):
    """Settings for the layers whose name matches `name` (a glob pattern, e.g. `conv*`)."""

    name: Annotated[str, Field(min_length=1)]


class SearchSpaceSection(Section):
    """Which layers to approximate and how: defaults, then per layer type, then per name."""

    include: Annotated[tuple[str, ...], Field(min_length=1)] = ("*",)
    exclude: tuple[str, ...] = ()
    calibration_samples: Annotated[int, Field(ge=1)] | None = 4096
    weights: WeightSpace = WeightSpace()
    activations: ActivationSpace | None = None
    layer_types: dict[
        Literal[
            "Conv2d",
            "Conv1d",
            "Linear",
            "Add",
            "AvgPool2d",
            "AvgPool1d",
            "AdaptiveAvgPool2d",
            "AdaptiveAvgPool1d",
        ],
        LayerSettings,
    ] = {}
    layers: tuple[LayerRule, ...] = ()


class Objective(Section):
    """One objective; the direction defaults to the metric's natural one."""

    name: str
    direction: Literal["maximize", "minimize"] | None = None

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in OBJECTIVE_DIRECTIONS:
            raise ValueError(
                f"unknown objective {v!r}; expected one of: {', '.join(OBJECTIVE_DIRECTIONS)}"
            )
        return v

    @model_validator(mode="after")
    def _default_direction(self) -> Objective:
        if self.direction is None:
            object.__setattr__(self, "direction", OBJECTIVE_DIRECTIONS[self.name])
        return self


class Constraint(Section):
    """A bound on a metric: feasible when `min <= metric <= max`."""

    name: str
    max: float | None = None
    min: float | None = None

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in CONSTRAINT_METRICS:
            raise ValueError(
                f"unknown constraint metric {v!r}; "
                f"expected one of: {', '.join(CONSTRAINT_METRICS)}"
            )
        return v

    @model_validator(mode="after")
    def _one_bound(self) -> Constraint:
        if self.max is None and self.min is None:
            raise ValueError("a constraint needs 'max' or 'min'")
        if self.max is not None and self.min is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} > max {self.max:g}: no value is feasible")
        return self


def _optimizer_section(value: Any, handler: Any) -> OptimizerSettings:
    """Validate an `optimizer` section by the settings model registered for its `kind`."""
    if isinstance(value, OptimizerSettings):
        return value
    if not isinstance(value, dict):
        raise ValueError(f"expected a mapping with 'kind', got {type(value).__name__}")
    kind = value.get("kind")
    try:
        model = optimizer_settings(str(kind))
    except UnknownOptimizerError as exc:
        raise PydanticCustomError("unknown_optimizer", str(exc)) from None
    return model.model_validate(value)


OptimizerSection = Annotated[SerializeAsAny[OptimizerSettings], WrapValidator(_optimizer_section)]
"""Any registered optimizer's settings, chosen by `kind` (see `dse.optimizers`)."""


def _evaluator_kind(value: Any) -> Any:
    """`exact` or the name of a registered proxy (a plugin's too)."""
    if value != "exact" and value not in available_proxies():
        known = ", ".join(["exact", *available_proxies()])
        raise ValueError(f"unknown evaluator kind {value!r}; expected one of: {known}")
    return value


EvaluatorKind = Annotated[str, AfterValidator(_evaluator_kind)]
"""`exact` scores every trial; the others name a proxy calibrated on a few exact scores."""


class EvaluatorSection(Section):
    """How accuracy is scored: exactly, or by a calibrated proxy with exact checks.

    A proxy (any `kind` but `exact`) is calibrated on the first `calibration_trials` trials,
    scored exactly, and refitted on every `refresh_every`-th trial after them; when its
    held-out Spearman correlation falls under `fidelity_threshold`, the study scores exactly
    from then on. `subset` scores the search on the first samples of the split only. With
    `rescore_front`, the final front is scored again exactly on the full validation and test
    splits (at most `rescore_max_points` of them: the largest accuracies first). `cache_mb`
    bounds the float activations kept between scorings that share a prefix; `device` runs
    training and scoring on a CUDA device (`auto`: when one is present; TF32 off inside dse's
    calls). `options` are a proxy's own settings, validated by the dataclass it registered
    (`evaluators.register_proxy(name, settings_model=...)`).
    """

    kind: EvaluatorKind = "exact"
    split: Literal["validation", "test"] = "validation"
    batch_size: Annotated[int, Field(ge=1)] = 1024
    threads: Annotated[int, Field(ge=1, le=256)] = 1
    subset: Annotated[int, Field(ge=1)] | None = None
    calibration_trials: Annotated[int, Field(ge=3, le=100_000)] = 20
    refresh_every: Annotated[int, Field(ge=0)] = 25
    fidelity_threshold: Annotated[float, Field(ge=-1, le=1)] = 0.8
    regression: Literal["isotonic", "linear"] = "isotonic"
    calibration_samples: Annotated[int, Field(ge=1)] = 256
    rescore_front: bool = True
    rescore_max_points: Annotated[int, Field(ge=1)] | None = None
    cache_mb: Annotated[int, Field(ge=0)] = 1024
    device: Literal["auto", "cpu", "cuda"] = "auto"
    options: dict[str, Any] = {}

    @model_validator(mode="after")
    def _proxy_options(self) -> EvaluatorSection:
        settings = None if self.kind == "exact" else get_proxy(self.kind).settings_model
        if settings is None:
            if self.options:
                raise ValueError(f"evaluator {self.kind!r} takes no options")
            return self
        known = [f.name for f in dataclasses.fields(settings)]
        unknown = sorted(set(self.options) - set(known))
        if unknown:
            raise ValueError(
                f"unknown option {unknown[0]!r} of {self.kind!r}; expected one of: "
                f"{', '.join(known)}"
            )
        validated = TypeAdapter(settings).validate_python(self.options)
        object.__setattr__(self, "options", dataclasses.asdict(validated))
        return self


NonNegative = Annotated[float, Field(ge=0)]


class EnergySection(Section):
    """Overrides of the accelerator model's energy constants (`hardware_models.EnergyConstants`).

    A field left out keeps the default of the part's family; units are pJ, W and a fraction.
    """

    activity: Annotated[float, Field(ge=0, le=1)] | None = None
    lut_pj: NonNegative | None = None
    ff_pj: NonNegative | None = None
    dsp_pj: NonNegative | None = None
    bram_pj_per_bit: NonNegative | None = None
    lutram_pj_per_bit: NonNegative | None = None
    register_pj_per_bit: NonNegative | None = None
    static_power_w: NonNegative | None = None


class DatapathSection(Section):
    """Overrides of the accelerator's architecture constants (`hardware_models.DatapathConstants`).

    A field left out keeps its default; see `docs/study-yaml.md` for each one's meaning.
    """

    mul_lut_max_bits: Annotated[int, Field(ge=0, le=128)] | None = None
    lutram_max_depth: Annotated[int, Field(ge=0)] | None = None
    control_lut: NonNegative | None = None
    control_ff: NonNegative | None = None
    control_cycles: Annotated[int, Field(ge=0)] | None = None


ReuseFactor = Annotated[int, Field(ge=1, le=1_000_000)]


class HardwareSection(Section):
    """The target device, clock and accelerator settings for hardware objectives.

    `reuse_factor` is hls4ml's: how many times each multiplier is used per output position; one
    value for every layer or a mapping of layer-name glob patterns (the last match wins, layers
    matching none take 1). `strategy` and `io_type` are hls4ml's `Strategy` and `IOType`,
    read by the cost model and the export alike. `calibration` and `library` are paths
    relative to the study file.
    """

    part: str = "xc7z020"
    clock_mhz: Annotated[float, Field(gt=0, le=2000)] = 200.0
    reuse_factor: ReuseFactor | dict[str, ReuseFactor] = 1
    strategy: Literal["latency", "resource"] = "latency"
    io_type: Literal["io_parallel", "io_stream"] = "io_parallel"
    input_bits: Annotated[int, Field(ge=1, le=32)] | None = 8
    activation_bits: Annotated[int, Field(ge=1, le=32)] | None = None
    energy: EnergySection = EnergySection()
    datapath: DatapathSection = DatapathSection()
    calibration: str | None = None
    library: str | None = None

    @field_validator("part")
    @classmethod
    def _known_part(cls, v: str) -> str:
        from hardware_models import HardwareModelError, get_device

        try:
            get_device(v)
        except HardwareModelError as exc:
            raise ValueError(str(exc)) from None
        return v


class StorageSection(Section):
    """Where trials live, and how the workers sharing them show they are alive.

    `url` is an SQLAlchemy URL (`sqlite:///`, `postgresql://`, `mysql://`) or a journal file
    (`journal:///shared/path/study.log`); absent means SQLite in the study folder. `${NAME}`
    in it reads the environment variable NAME when connecting (the password), and a password
    written literally is dumped as `***`, so it never reaches study.json or a report.
    """

    url: str | None = None
    heartbeat_s: Annotated[float, Field(gt=0, le=3600)] = 10.0
    grace_s: Annotated[float, Field(gt=0)] = 60.0
    reconnect_s: Annotated[float, Field(ge=0)] = 600.0

    @field_validator("url")
    @classmethod
    def _known_backend(cls, v: str | None) -> str | None:
        from dse._errors import StudyRunError
        from dse.storage import StorageUrl

        if v is not None:
            try:
                StorageUrl.parse(v)
            except StudyRunError as exc:
                reason = str(exc).removeprefix("storage.url: ").rsplit(", got ", 1)[0]
                raise ValueError(reason) from None
        return v

    @model_validator(mode="after")
    def _grace_over_heartbeats(self) -> StorageSection:
        if self.grace_s < 2 * self.heartbeat_s:
            raise ValueError(
                f"grace_s must be at least two heartbeats (2 x heartbeat_s = "
                f"{2 * self.heartbeat_s:g} s), got {self.grace_s:g}"
            )
        return self

    @field_serializer("url")
    def _redacted(self, v: str | None) -> str | None:
        from dse.storage import redact_url

        return None if v is None else redact_url(v)


def _objective_list(value: Any) -> Any:
    """Accept `[accuracy, weight_bits]` as well as mappings."""
    if isinstance(value, list):
        return [{"name": v} if isinstance(v, str) else v for v in value]
    return value


class StudyConfig(Section):
    """A whole study, as validated from study.yaml.

    `plugins` names modules imported before the rest is validated (relative to the study
    file's folder, or installed): they register optimizers and proxies that `optimizer.kind`
    and `evaluator.kind` may then name. Modules of the `dse.plugins` entry-point group are
    imported for every study.
    """

    version: Literal[1] = 1
    plugins: tuple[str, ...] = ()
    study: StudySection
    workload: WorkloadSection = WorkloadSection()
    search_space: SearchSpaceSection = SearchSpaceSection()
    objectives: Annotated[tuple[Objective, ...], Field(min_length=1)] = (
        Objective(name="accuracy"),
        Objective(name="weight_bits"),
    )
    constraints: tuple[Constraint, ...] = ()
    optimizer: OptimizerSection = NsgaIISettings()
    evaluator: EvaluatorSection = EvaluatorSection()
    hardware: HardwareSection = HardwareSection()
    storage: StorageSection = StorageSection()

    _objectives = field_validator("objectives", mode="before")(_objective_list)

    @field_validator("objectives")
    @classmethod
    def _distinct_objectives(cls, v: tuple[Objective, ...]) -> tuple[Objective, ...]:
        names = [o.name for o in v]
        if len(set(names)) != len(names):
            raise ValueError(f"objectives must be distinct, got {names}")
        return v

    @property
    def directions(self) -> tuple[str, ...]:
        """Optuna directions, one per objective."""
        return tuple(str(o.direction) for o in self.objectives)

    @property
    def objective_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.objectives)

    def to_dict(self) -> dict[str, Any]:
        """The resolved configuration as plain JSON data (every default filled in)."""
        return self.model_dump(mode="json")

    def config_hash(self) -> str:
        """Hash of the whole resolved configuration (16 hex digits)."""
        return _digest(self.to_dict())

    def identity_hash(self) -> str:
        """Hash of what makes trials comparable: everything but budget, optimizer and storage.

        A study may be resumed with a larger budget or another optimizer, never with another
        workload, space, objective or seed: its stored trials would no longer mean the same.
        Only values the file sets differently from the defaults count, so a later version of
        dse that adds a key (with a default) still resumes the studies of an earlier one.
        """
        data = self.model_dump(mode="json", exclude_defaults=True)
        for key in ("optimizer", "storage", "version"):
            data.pop(key, None)
        data["study"].pop("output", None)
        data["study"].setdefault("seed", self.study.seed)
        for key in ("threads", "batch_size", "cache_mb", "device"):  # how fast, not what
            data.get("evaluator", {}).pop(key, None)
        return _digest({k: v for k, v in data.items() if v != {}})


def _digest(data: dict[str, Any]) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
