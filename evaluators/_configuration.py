"""What to apply to which layer: the value every part of a study exchanges."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

from evaluators._errors import FormatError
from evaluators._fixed_point import FixedPoint
from evaluators._float_format import FloatFormat
from evaluators._weight_sharing import WeightSharing

WeightFormat = FixedPoint | FloatFormat | WeightSharing
ActivationFormat = FixedPoint | FloatFormat

_FORMATS: dict[str, type[FixedPoint] | type[FloatFormat] | type[WeightSharing]] = {
    FixedPoint.kind: FixedPoint,
    FloatFormat.kind: FloatFormat,
    WeightSharing.kind: WeightSharing,
}


def available_formats() -> tuple[str, ...]:
    """The format kinds a configuration may hold (`fixed`, `float`, `shared`)."""
    return tuple(sorted(_FORMATS))


def format_from_dict(data: Mapping[str, Any]) -> WeightFormat:
    """Rebuild any number format from its `to_dict()` form.

    Raises:
        FormatError: the `kind` is not one of the known formats.
    """
    kind = data.get("kind")
    if kind not in _FORMATS:
        raise FormatError(f"format kind: expected one of {sorted(_FORMATS)}, got {kind!r}")
    return _FORMATS[kind].from_dict(dict(data))


@dataclass(frozen=True)
class LayerConfig:
    """The formats of one layer; `None` keeps float32 for that part.

    Attributes:
        weights: how the layer's weights are stored (fixed, float or shared).
        activations: the format of the layer's output activations.
        accumulator: word length of the multiply-accumulate register, when bounded.
    """

    weights: WeightFormat | None = None
    activations: ActivationFormat | None = None
    accumulator: FixedPoint | None = None

    @cached_property
    def _json(self) -> str:
        """`to_dict` as canonical JSON (sorted keys, no spaces), computed once."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def to_dict(self) -> dict[str, Any]:
        return {
            name: None if fmt is None else fmt.to_dict()
            for name, fmt in (
                ("weights", self.weights),
                ("activations", self.activations),
                ("accumulator", self.accumulator),
            )
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LayerConfig:
        unknown = set(data) - {"weights", "activations", "accumulator"}
        if unknown:
            raise FormatError(f"layer configuration: unknown keys {sorted(unknown)}")
        parts = {k: None if v is None else format_from_dict(v) for k, v in data.items()}
        return cls(**parts)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Configuration:
    """An approximation of a whole model: one `LayerConfig` per approximated layer.

    Immutable and hashable; equal configurations hash equal and have the same `digest()`, so
    scores and costs can be cached and recorded by it. Layers absent stay float32.

    Example:
        >>> from evaluators import Configuration, FixedPoint, LayerConfig
        >>> c = Configuration.of({"fc1": LayerConfig(weights=FixedPoint(8, 2))})
        >>> Configuration.from_json(c.to_json()) == c
        True
    """

    layers: tuple[tuple[str, LayerConfig], ...] = ()
    version: ClassVar[int] = 1
    _index: dict[str, LayerConfig] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        names = [name for name, _ in self.layers]
        if not all(isinstance(name, str) for name in names):
            raise FormatError(f"configuration: layer names must be strings, got {names!r}")
        ordered = tuple(sorted(self.layers, key=lambda item: item[0]))
        object.__setattr__(self, "layers", ordered)
        index = dict(ordered)
        if len(index) != len(ordered):
            raise FormatError("configuration: a layer name appears twice")
        object.__setattr__(self, "_index", index)

    @classmethod
    def of(cls, layers: Mapping[str, LayerConfig]) -> Configuration:
        """Build from a mapping of layer name to its formats."""
        return cls(tuple(layers.items()))

    def __getitem__(self, name: str) -> LayerConfig:
        return self._index[name]

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def get(self, name: str) -> LayerConfig:
        """The layer's formats, or an all-float32 `LayerConfig` when it is not approximated."""
        return self._index.get(name, _FLOAT32)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "layers": {name: layer.to_dict() for name, layer in self.layers},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Configuration:
        if data.get("version") != cls.version:
            raise FormatError(
                f"configuration version: expected {cls.version}, got {data.get('version')!r}"
            )
        return cls.of({k: LayerConfig.from_dict(v) for k, v in data["layers"].items()})

    def to_json(self) -> str:
        """`to_dict` as canonical JSON (sorted keys, no spaces), from each layer's own text:
        layers are held sorted by name, as `sort_keys` orders them."""
        layers = ",".join(f"{json.dumps(name)}:{layer._json}" for name, layer in self.layers)
        return f'{{"layers":{{{layers}}},"version":{self.version}}}'

    @classmethod
    def from_json(cls, text: str) -> Configuration:
        return cls.from_dict(json.loads(text))

    def digest(self) -> str:
        """A stable 16-hex-digit hash, the same across processes and machines."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]


_FLOAT32 = LayerConfig()
