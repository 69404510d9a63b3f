"""The evaluator contract, over the exact evaluator and every registered proxy.

Contract (`evaluators.Evaluator`, `evaluators.Proxy`): a pure function of (workload,
configuration). The same configuration gets the same value whatever was scored before it, and
in a fresh process; the workload's model is never modified.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from evaluators import (
    AccuracyEvaluator,
    Configuration,
    FixedPoint,
    FloatFormat,
    LayerConfig,
    ProxyEvaluator,
    WeightSharing,
    Workload,
    available_proxies,
    get_proxy,
)
from tests.conftest import ROOT

CONFIGURATIONS = [
    Configuration.of(
        {"fc1": LayerConfig(FixedPoint(4, 1)), "conv2": LayerConfig(FloatFormat(4, 2))}
    ),
    Configuration.of(
        {"fc2": LayerConfig(WeightSharing(4)), "conv1": LayerConfig(FixedPoint(6, 2))}
    ),
    Configuration.of({"fc3": LayerConfig(WeightSharing(3, "channel"))}),
    Configuration.of({}),
]
KINDS = ["exact", *available_proxies()]


def _evaluator(kind: str, workload: Workload):
    if kind == "exact":
        return AccuracyEvaluator(workload, max_samples=200)
    return get_proxy(kind)(workload, calibration_samples=64)


def _value(evaluator, configuration: Configuration) -> float:
    if isinstance(evaluator, AccuracyEvaluator):
        return evaluator.score(configuration).accuracy
    return float(evaluator.value(configuration))


def test_every_registered_proxy_is_covered() -> None:
    assert set(KINDS) == {"exact", *available_proxies()} and len(KINDS) >= 6


@pytest.mark.parametrize("kind", KINDS)
def test_same_value_in_any_order_and_model_untouched(kind: str, lenet_workload: Workload) -> None:
    before = {k: v.clone() for k, v in lenet_workload.model.state_dict().items()}
    forward = [_value(_evaluator(kind, lenet_workload), c) for c in CONFIGURATIONS]
    evaluator = _evaluator(kind, lenet_workload)
    backward = [_value(evaluator, c) for c in reversed(CONFIGURATIONS)][::-1]
    assert forward == backward
    again = [_value(evaluator, c) for c in CONFIGURATIONS]
    assert again == forward
    after = lenet_workload.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


FRESH = """
import json, sys
from pathlib import Path
import torch
torch.set_num_threads(1)
sys.path.insert(0, {root!r})
from evaluators import build_workload, Configuration
from tests.contracts.test_evaluators import _evaluator, _value
workload = build_workload("lenet5", "digits", seed=0, cache_dir=Path({cache!r}))
configurations = [Configuration.from_json(t) for t in json.loads(sys.argv[1])]
print(json.dumps({{kind: [_value(_evaluator(kind, workload), c) for c in configurations]
                   for kind in json.loads(sys.argv[2])}}))
"""


def test_same_values_in_a_fresh_process(lenet_workload: Workload, model_cache: Path) -> None:
    here = {k: [_value(_evaluator(k, lenet_workload), c) for c in CONFIGURATIONS] for k in KINDS}
    script = FRESH.format(root=str(ROOT), cache=str(model_cache))
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            json.dumps([c.to_json() for c in CONFIGURATIONS]),
            json.dumps(KINDS),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == here


def test_proxy_evaluator_scores_a_configuration_alike_in_any_order(
    lenet_workload: Workload,
) -> None:
    """The calibrated proxy evaluator is pure too: which configurations are scored exactly,
    and the calibration, do not depend on what was asked before."""
    proxy = get_proxy("normalized_inertia")
    calibration = [
        Configuration.of(
            {"fc1": LayerConfig(FixedPoint(b, 2)), "fc2": LayerConfig(WeightSharing(k))}
        )
        for b, k in ((2, 2), (3, 4), (4, 8), (6, 16), (8, 32))
    ]

    def build() -> ProxyEvaluator:
        return ProxyEvaluator(
            proxy(lenet_workload),
            AccuracyEvaluator(lenet_workload),
            calibration_trials=len(calibration),
            refresh_every=3,
            fidelity_threshold=-1,
        ).fit(calibration)

    first, second = build(), build()
    forward = [first.score(c) for c in CONFIGURATIONS]
    backward = [second.score(c) for c in reversed(CONFIGURATIONS)][::-1]
    assert forward == backward
