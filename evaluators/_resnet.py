"""Residual networks (He et al., 2016): the CIFAR family ResNet-20/32/56 and ResNet-18.

Every residual addition is an `Add` module (`layer1.0.add`), so its output has a name that
study patterns, activation formats and the export share. Shortcuts that change the shape are
1x1 convolutions with BatchNorm (the paper's option B), which hls4ml can express; option A's
zero padding has no HLS layer.
"""

from __future__ import annotations

import torch
from torch import nn

from evaluators._blocks import Add


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with BatchNorm, a shortcut, their sum and a ReLU.

    Args:
        in_planes: input channels.
        planes: output channels.
        stride: stride of the first convolution (and of the projection shortcut).
    """

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )
        self.add = Add()
        self.relu2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu2(self.add(out, self.shortcut(x)))


def _stage(in_planes: int, planes: int, blocks: int, stride: int) -> nn.Sequential:
    layers = [BasicBlock(in_planes, planes, stride)]
    layers += [BasicBlock(planes, planes, 1) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


class CifarResNet(nn.Module):
    """ResNet-(6n+2) for small images: three stages of n blocks, 16/32/64 channels.

    He et al. (2016), section 4.2: ResNet-20 (n=3) has 0.27M parameters and 41M multiply-
    accumulates on a 32x32x3 input; ResNet-32 0.46M, ResNet-56 0.85M. Any input side works
    (28x28 Fashion-MNIST gives 28/14/7 maps).

    Args:
        depth: 20, 32, 56 or any 6n+2.
        in_channels: channels of the input images.
        num_classes: outputs of the classifier.

    Raises:
        ValueError: `depth` is not of the form 6n+2.
    """

    def __init__(self, depth: int = 20, in_channels: int = 3, num_classes: int = 10) -> None:
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"CifarResNet.depth: must be 6n+2 with n >= 1, got {depth}")
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()
        self.layer1 = _stage(16, 16, n, 1)
        self.layer2 = _stage(16, 32, n, 2)
        self.layer3 = _stage(32, 64, n, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class ResNet18(nn.Module):
    """ResNet-18 (He et al., 2016): four stages of two blocks, 64 to 512 channels.

    The ImageNet stem (7x7 stride-2 convolution and max pooling, 11.7M parameters with 1,000
    classes) or the CIFAR stem (one 3x3 stride-1 convolution, no pooling: 11.2M parameters
    with 10 classes), which keeps 32x32 inputs from shrinking to 1x1 too early.

    Args:
        in_channels: channels of the input images.
        num_classes: outputs of the classifier.
        stem: `imagenet` or `cifar`.
    """

    def __init__(
        self, in_channels: int = 3, num_classes: int = 1000, stem: str = "imagenet"
    ) -> None:
        super().__init__()
        if stem not in ("imagenet", "cifar"):
            raise ValueError(f"ResNet18.stem: expected 'imagenet' or 'cifar', got {stem!r}")
        self.stem = stem
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
            self.maxpool: nn.Module = nn.MaxPool2d(3, 2, 1)
        else:
            self.conv1 = nn.Conv2d(in_channels, 64, 3, 1, 1, bias=False)
            self.maxpool = nn.Identity()
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.layer1 = _stage(64, 64, 2, 1)
        self.layer2 = _stage(64, 128, 2, 2)
        self.layer3 = _stage(128, 256, 2, 2)
        self.layer4 = _stage(256, 512, 2, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))
