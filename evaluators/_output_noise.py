"""Output-noise proxy: the error a layer's approximation adds to its outputs on real inputs.

Weight inertia treats every weight alike; a layer's output weighs each weight by the inputs
it multiplies. With the float model's inputs ``X_l`` of each layer cached on a calibration
batch, the noise of a weight format is ``||dW_l * X_l||^2 / ||W_l * X_l||^2`` (``*`` is the
layer's own operation, convolution or matrix product, without bias): weights on dead or
rare inputs count for nothing. Activation and accumulator formats add the same ratio for
their rounding of the float output. Each term depends on one layer and one format, so it is
cached and a configuration costs a sum of look-ups.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

import torch
from torch import nn

from evaluators._accumulator import accumulate
from evaluators._apply import approximate_weights
from evaluators._configuration import Configuration, LayerConfig
from evaluators._proxy import Proxy, register_proxy
from evaluators._weight_sharing import WeightSharing

if TYPE_CHECKING:
    from evaluators._workload import Workload

__all__ = ["OutputNoiseProxy"]


def _linear_part(module: nn.Module, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """The layer's operation with `weight` and no bias (convolution or matrix product)."""
    if isinstance(module, nn.Linear):
        return nn.functional.linear(x, weight)
    return module._conv_forward(x, weight, None)  # noqa: SLF001 - keeps padding modes exact


@register_proxy("output_noise")
class OutputNoiseProxy(Proxy):
    """Sum over layers of the output noise-to-signal ratio on a cached calibration batch.

    Args:
        workload: the float model and its data; the batch is the first `calibration_samples`
            training samples (never the validation or test split).
        calibration_samples: size of the batch, samples.
    """

    def __init__(self, workload: Workload, *, calibration_samples: int = 256) -> None:
        super().__init__(workload, calibration_samples=calibration_samples)
        self._modules = dict(workload.model.named_modules())
        self._inputs: dict[str, torch.Tensor] | None = None
        self._outputs: dict[str, torch.Tensor] = {}
        self._terms: dict[Hashable, float] = {}

    @torch.inference_mode()
    def _capture(self) -> dict[str, torch.Tensor]:
        """Inputs and outputs of every approximable layer of the float model, once."""
        if self._inputs is None:
            inputs: dict[str, torch.Tensor] = {}
            names = list(self.workload.outputs())  # additions and poolings too
            hooks = []
            for name in names:

                def hook(_m: nn.Module, args: tuple, out: torch.Tensor, name: str = name) -> None:
                    inputs[name] = args[0].detach()
                    self._outputs[name] = out.detach()

                hooks.append(self._modules[name].register_forward_hook(hook))
            try:
                self.workload.model(self.workload.data.train.x[: self.calibration_samples])
            finally:
                for h in hooks:
                    h.remove()
            self._inputs = inputs
        return self._inputs

    def layer_noise(self, layer: str, config: LayerConfig) -> float:
        """Output noise ratio of one layer approximated alone (weights, then outputs)."""
        key = (layer, config)
        hit = self._terms.get(key)
        if hit is not None:
            return hit
        hit = 0.0
        if config.weights is not None:
            approx = self._approx_weight(layer, config)
            hit += self._weight_ratio(layer, approx)
        if config.activations is not None or config.accumulator is not None:
            inputs = self._capture()
            out = self._outputs[layer]
            q = out
            if config.accumulator is not None:
                # As the HLS code sums: every product and the bias in the accumulator type.
                module = self._modules[layer]
                q = accumulate(module, inputs[layer], config.accumulator).to(out.dtype)
            if config.activations is not None:
                q = config.activations.quantize(q)
            hit += _ratio(q - out, out)
        self._terms[key] = hit
        return hit

    def _approx_weight(self, layer: str, config: LayerConfig) -> torch.Tensor:
        return approximate_weights(
            self.workload.model, Configuration.of({layer: LayerConfig(config.weights)})
        )[layer]

    @torch.inference_mode()
    def _weight_ratio(self, layer: str, approx: torch.Tensor) -> float:
        x = self._capture()[layer]
        module = self._modules[layer]
        weight = module.weight.detach()
        noise = _linear_part(module, x, approx - weight)
        return _ratio(noise, _linear_part(module, x, weight))

    def value(self, configuration: Configuration) -> float:
        total = 0.0
        network: dict[WeightSharing, list[str]] = {}
        for name, layer in configuration.layers:
            fmt = layer.weights
            if isinstance(fmt, WeightSharing) and fmt.granularity.name == "network":
                network.setdefault(fmt, []).append(name)
                outputs = LayerConfig(None, layer.activations, layer.accumulator)
                total += self.layer_noise(name, outputs)
            else:
                total += self.layer_noise(name, layer)
        for fmt, names in network.items():
            total += self._network_noise(fmt, tuple(names))
        return float(total)

    def _network_noise(self, fmt: WeightSharing, names: tuple[str, ...]) -> float:
        """Weights shared by several layers at `network` granularity: clustered jointly."""
        key = (names, fmt)
        hit = self._terms.get(key)
        if hit is None:
            config = Configuration.of({n: LayerConfig(fmt) for n in names})
            approx = approximate_weights(self.workload.model, config)
            hit = sum(self._weight_ratio(n, approx[n]) for n in names)
            self._terms[key] = hit
        return hit


def _ratio(noise: torch.Tensor, signal: torch.Tensor) -> float:
    """``||noise||^2 / ||signal||^2`` in float64 (0 when the signal is 0)."""
    energy = float(torch.sum(signal.double() ** 2))
    return float(torch.sum(noise.double() ** 2)) / energy if energy > 0 else 0.0
