"""The prefix cache: same logits as a plain forward pass, and a sweep in network order runs
each float layer of the prefix once per batch."""

from __future__ import annotations

import torch
from torch import nn

from evaluators import (
    Configuration,
    FixedPoint,
    LayerConfig,
    PrefixCache,
    apply,
)
from evaluators._resnet import CifarResNet


def resnet() -> nn.Module:
    torch.manual_seed(0)
    model = CifarResNet(8, in_channels=1, num_classes=4)  # 2 blocks, residual additions
    model.eval()
    return model


def stored_layers(model: nn.Module) -> list[str]:
    return [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d | nn.Linear)]


def sweep(model: nn.Module) -> list[Configuration]:
    """One layer at a time, in network order, two formats each."""
    return [
        Configuration.of({name: LayerConfig(FixedPoint(bits, 2), FixedPoint(8, 3))})
        for name in stored_layers(model)
        for bits in (3, 5)
    ]


def count_calls(model: nn.Module) -> dict[str, int]:
    calls = dict.fromkeys(stored_layers(model), 0)
    modules = dict(model.named_modules())
    for name in calls:
        original = modules[name]

        def hook(module: nn.Module, *_: object, name: str = name, original=original) -> None:
            if module is original:  # not the approximated copies, which carry the hook too
                calls[name] += 1

        original.register_forward_hook(hook)
    return calls


def test_cached_scores_equal_plain_forward_passes_in_any_order() -> None:
    model = resnet()
    batches = [torch.randn(3, 1, 12, 12) for _ in range(2)]
    configurations = sweep(model)
    order = configurations + configurations[::-1] + configurations[::3]
    cache = PrefixCache(model, max_bytes=1 << 30)
    for configuration in order:
        approximated = apply(model, configuration)
        for key, x in enumerate(batches):
            with torch.no_grad():
                assert torch.equal(cache.run(approximated, configuration, x, key), approximated(x))
    assert cache.hits_ > 0


def test_a_sweep_in_network_order_extends_the_prefix_one_layer_at_a_time() -> None:
    model = resnet()
    calls = count_calls(model)  # the float model's layers: what the prefixes run
    x = torch.randn(2, 1, 12, 12)
    cache = PrefixCache(model, max_bytes=1 << 30)
    with torch.no_grad():
        for configuration in sweep(model):
            cache.run(apply(model, configuration), configuration, x, key=0)
    # each float layer before the last swept one ran once in all (not once per cut)
    assert max(calls.values()) == 1
    assert sum(calls.values()) == len(calls) - 1  # the last layer is never a prefix


def test_a_small_bound_keeps_the_results() -> None:
    model = resnet()
    x = torch.randn(2, 1, 12, 12)
    cache = PrefixCache(model, max_bytes=1)  # nothing fits: every prefix recomputed
    with torch.no_grad():
        for configuration in sweep(model)[::4]:
            approximated = apply(model, configuration)
            assert torch.equal(cache.run(approximated, configuration, x, 0), approximated(x))
    assert len(cache) == 0


class InPlace(nn.Module):
    """A residual addition written in place, and an in-place ReLU module."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.a, self.b, self.c = nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 2)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.a(x)
        out.add_(self.b(x))
        return self.c(self.act(out))


def test_a_model_computing_in_place_runs_without_the_cache() -> None:
    """In-place nodes after a cut would overwrite cached values: such a model is not cached,
    and its scores stay those of plain forward passes."""
    model = InPlace().eval()
    cache = PrefixCache(model, max_bytes=1 << 30)
    assert not cache.enabled
    x = torch.randn(3, 4)
    with torch.no_grad():
        for name in ("b", "c", "b"):
            configuration = Configuration.of({name: LayerConfig(FixedPoint(4, 2))})
            approximated = apply(model, configuration)
            assert torch.equal(cache.run(approximated, configuration, x, 0), approximated(x))
