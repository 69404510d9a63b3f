"""MobileNetV2 (Sandler et al., 2018) for 32x32 inputs: inverted residuals, depthwise
convolutions, ReLU6."""

from __future__ import annotations

import torch
from torch import nn

from evaluators._blocks import Add

# (expansion t, output channels c, repeats n, first stride s): the paper's Table 2, with the
# stem and the second stage at stride 1 so that 32x32 inputs end on a 4x4 map, not 1x1.
SMALL_IMAGE_STAGES = (
    (1, 16, 1, 1),
    (6, 24, 2, 1),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def _divisible(channels: float, divisor: int = 8) -> int:
    """Round a scaled channel count to a multiple of 8, never below 90 % of it (the paper's
    reference implementation)."""
    rounded = max(divisor, int(channels + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * channels else rounded


class InvertedResidual(nn.Module):
    """1x1 expansion, 3x3 depthwise convolution, 1x1 linear projection; the input added back
    when shapes agree (`add`).

    Args:
        in_planes: input channels.
        planes: output channels.
        stride: stride of the depthwise convolution.
        expansion: hidden channels per input channel (no expansion convolution when 1).
    """

    def __init__(self, in_planes: int, planes: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = in_planes * expansion
        self.expand: nn.Module = nn.Identity()
        self.bn1: nn.Module = nn.Identity()
        self.relu1: nn.Module = nn.Identity()
        if expansion != 1:
            self.expand = nn.Conv2d(in_planes, hidden, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(hidden)
            self.relu1 = nn.ReLU6()
        self.depthwise = nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False)
        self.bn2 = nn.BatchNorm2d(hidden)
        self.relu2 = nn.ReLU6()
        self.project = nn.Conv2d(hidden, planes, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes)
        self.add: nn.Module | None = Add() if stride == 1 and in_planes == planes else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu1(self.bn1(self.expand(x)))
        out = self.relu2(self.bn2(self.depthwise(out)))
        out = self.bn3(self.project(out))
        return out if self.add is None else self.add(out, x)


class MobileNetV2(nn.Module):
    """MobileNetV2 for small images: 2.2M parameters at width 1.0 with 10 classes.

    Args:
        in_channels: channels of the input images.
        num_classes: outputs of the classifier.
        width_mult: scales every layer's channels (rounded to multiples of 8).
    """

    def __init__(
        self, in_channels: int = 3, num_classes: int = 10, width_mult: float = 1.0
    ) -> None:
        super().__init__()
        planes = _divisible(32 * width_mult)
        self.conv1 = nn.Conv2d(in_channels, planes, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu1 = nn.ReLU6()
        blocks: list[nn.Module] = []
        for t, c, n, s in SMALL_IMAGE_STAGES:
            out = _divisible(c * width_mult)
            for i in range(n):
                blocks.append(InvertedResidual(planes, out, s if i == 0 else 1, t))
                planes = out
        self.blocks = nn.Sequential(*blocks)
        last = _divisible(1280 * max(1.0, width_mult))
        self.conv2 = nn.Conv2d(planes, last, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(last)
        self.relu2 = nn.ReLU6()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(last, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.relu2(self.bn2(self.conv2(self.blocks(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))
