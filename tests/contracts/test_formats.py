"""The format contract, over every format kind `format_from_dict` knows.

Round trip through the JSON form, storage bits, idempotence of quantization, frozen values,
clear errors on bad input: each checked on several instances of every kind.
"""

from __future__ import annotations

import json

import pytest
import torch

from evaluators import (
    FixedPoint,
    FloatFormat,
    FormatError,
    WeightSharing,
    available_formats,
    format_from_dict,
)

INSTANCES = {
    "fixed": [
        FixedPoint(8, 1),
        FixedPoint(4, 4, signed=False, rounding="truncate", overflow="wrap"),
        FixedPoint(16, 6, rounding="nearest_up"),
    ],
    "float": [
        FloatFormat(4, 3),
        FloatFormat(5, 2, subnormals=False, overflow="saturate"),
        FloatFormat(8, 7, rounding="truncate"),
    ],
    "shared": [
        WeightSharing(4),
        WeightSharing(16, "channel", codebook=FixedPoint(8, 2)),
        WeightSharing(3, "kernel", codebook=FloatFormat(5, 10)),
    ],
}
CASES = [(kind, fmt) for kind in sorted(INSTANCES) for fmt in INSTANCES[kind]]
WEIGHTS = torch.randn(8, 4, 3, 3, generator=torch.Generator().manual_seed(0)) * 0.3


def test_every_registered_format_kind_is_covered() -> None:
    assert set(available_formats()) == set(INSTANCES)


@pytest.mark.parametrize(("kind", "fmt"), CASES, ids=str)
def test_json_round_trip_is_equal_and_hash_equal(kind: str, fmt: object) -> None:
    data = json.loads(json.dumps(fmt.to_dict()))
    assert data["kind"] == kind and data["version"] == 1
    again = format_from_dict(data)
    assert again == fmt and hash(again) == hash(fmt)


@pytest.mark.parametrize(("kind", "fmt"), CASES, ids=str)
def test_quantize_is_idempotent_and_leaves_its_input(kind: str, fmt: object) -> None:
    x = WEIGHTS.clone()
    once = fmt.quantize(x)
    assert torch.equal(x, WEIGHTS)  # input untouched
    assert once.shape == x.shape and once.dtype == torch.float32
    assert torch.equal(fmt.quantize(once), once)


@pytest.mark.parametrize(("kind", "fmt"), CASES, ids=str)
def test_storage_bits_grow_with_the_tensor(kind: str, fmt: object) -> None:
    small, large = fmt.storage_bits((4, 4)), fmt.storage_bits((64, 64))
    assert 0 < small < large
    if kind != "shared":  # one word per element
        assert large == 64 * 64 * fmt.bits


@pytest.mark.parametrize(("kind", "fmt"), CASES, ids=str)
def test_values_are_frozen(kind: str, fmt: object) -> None:
    with pytest.raises(AttributeError):
        fmt.kind = "other"  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):
        setattr(fmt, next(iter(fmt.__dataclass_fields__)), 3)


@pytest.mark.parametrize("kind", sorted(INSTANCES))
def test_unknown_fields_and_versions_are_one_line_errors(kind: str) -> None:
    data = INSTANCES[kind][0].to_dict()
    with pytest.raises(FormatError, match="unknown fields"):
        format_from_dict({**data, "colour": "red"})
    with pytest.raises(FormatError, match="version"):
        format_from_dict({**data, "version": 99})
