"""The cost-model interface, and the simplest cost: bits of weight memory."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from evaluators import WeightSharing

if TYPE_CHECKING:
    from evaluators import Configuration, LayerShape


@dataclass(frozen=True, eq=False)
class Cost:
    """Hardware metrics of one configuration, whole-design and per layer.

    Attributes:
        values: metric name -> value (`weight_bits` in bits, `lut`, `ff`, `dsp`, `bram` in
            units of the part, `latency` in seconds, `energy` in joules per inference).
        per_layer: layer name -> its share of each metric, where the model splits it.
    """

    values: Mapping[str, float]
    per_layer: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def __getitem__(self, metric: str) -> float:
        return self.values[metric]


class CostModel(ABC):
    """Hardware cost of a configuration of one model.

    Contract: `cost` is a pure function of (layer shapes, configuration): the same
    configuration always costs the same, in any process. `metrics` lists the keys of
    `Cost.values` it fills.
    """

    metrics: tuple[str, ...] = ()

    @abstractmethod
    def cost(self, configuration: Configuration) -> Cost:
        """The cost of one configuration."""

    def describe(self) -> dict[str, Any]:
        """What priced a study, for its provenance (plain JSON data)."""
        return {"model": type(self).__name__, "metrics": list(self.metrics)}


FLOAT32_BITS = 32


def weight_memory_bits(
    shapes: Mapping[str, LayerShape], configuration: Configuration
) -> dict[str, int]:
    """Bits to store each layer's weights; layers not configured stay float32.

    Fixed point and float store W bits per weight; shared weights store ceil(log2 k) index bits
    per weight plus k codebook entries per codebook. At `network` granularity the layers that
    share one format share one codebook, counted once (on the first of them).
    """
    bits: dict[str, int] = {}
    seen_network: set[WeightSharing] = set()
    for name, shape in shapes.items():
        fmt = configuration.get(name).weights
        if fmt is None:
            bits[name] = FLOAT32_BITS * shape.weights
        elif isinstance(fmt, WeightSharing) and fmt.granularity.name == "network":
            bits[name] = shape.weights * fmt.index_bits
            if fmt not in seen_network:
                seen_network.add(fmt)
                bits[name] += fmt.clusters * fmt.codebook_bits
        else:
            bits[name] = fmt.storage_bits(shape.weight_shape)
    return bits


class WeightMemoryModel(CostModel):
    """Weight memory in bits: the first-order cost of a compressed model on any device.

    Args:
        shapes: the model's layer shapes (see `evaluators.layer_shapes`).
    """

    metrics = ("weight_bits",)

    def __init__(self, shapes: Mapping[str, LayerShape]) -> None:
        self.shapes = shapes

    def cost(self, configuration: Configuration) -> Cost:
        per_layer = weight_memory_bits(self.shapes, configuration)
        return Cost(
            values={"weight_bits": float(sum(per_layer.values()))},
            per_layer={name: {"weight_bits": float(b)} for name, b in per_layer.items()},
        )
