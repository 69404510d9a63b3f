"""Models defined in the project (torchvision does not import beside the CPU torch wheel)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from evaluators._mobilenet import MobileNetV2
from evaluators._resnet import CifarResNet, ResNet18


class LeNet5(nn.Module):
    """A LeNet-5-style CNN sized for 8x8 single-channel digits.

    Two 3x3 convolutions with max pooling, then three fully connected layers, as in LeCun et
    al. (1998) but with padding so that the 8x8 digits of scikit-learn keep a 2x2 map.

    Args:
        in_channels: channels of the input images.
        num_classes: outputs of the last layer.
        image_size: side of the square input (divisible by 4).
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, image_size: int = 8) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.relu = nn.ReLU()
        side = image_size // 4
        self.fc1 = nn.Linear(16 * side * side, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.relu(self.conv1(x)))
        x = self.pool(self.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = self.relu(self.fc1(x))
        x = self.relu(self.fc2(x))
        return self.fc3(x)


def _lenet5(in_channels: int, num_classes: int, image_size: int) -> nn.Module:
    return LeNet5(in_channels, num_classes, image_size)


def _resnet(depth: int) -> Callable[[int, int, int], nn.Module]:
    def build(in_channels: int, num_classes: int, image_size: int) -> nn.Module:
        return CifarResNet(depth, in_channels, num_classes)

    return build


def _resnet18(stem: str) -> Callable[[int, int, int], nn.Module]:
    def build(in_channels: int, num_classes: int, image_size: int) -> nn.Module:
        return ResNet18(in_channels, num_classes, stem)

    return build


def _mobilenetv2(in_channels: int, num_classes: int, image_size: int) -> nn.Module:
    return MobileNetV2(in_channels, num_classes)


BUILTIN_MODELS: dict[str, Callable[[int, int, int], nn.Module]] = {
    "lenet5": _lenet5,
    "resnet20": _resnet(20),
    "resnet32": _resnet(32),
    "resnet56": _resnet(56),
    "resnet18": _resnet18("imagenet"),
    "resnet18_cifar": _resnet18("cifar"),
    "mobilenetv2": _mobilenetv2,
}
"""Models a study names directly in `workload.model`: factories of
`(in_channels, num_classes, image_size)`, the shape of the study's data."""
