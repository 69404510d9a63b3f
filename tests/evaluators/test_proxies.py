"""Proxies against hand-computed values, calibration fidelity, and the fallback to exact."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from torch import nn

from evaluators import (
    AccuracyEvaluator,
    CalibratedProxy,
    Configuration,
    Dataset,
    DataSplit,
    FixedPoint,
    LayerConfig,
    Proxy,
    ProxyError,
    ProxyEvaluator,
    SensitivityProfile,
    WeightSharing,
    Workload,
    available_proxies,
    fidelity_metrics,
    get_proxy,
)

# Two bias-free linear layers with known weights, so every proxy is computable by hand.
W0 = [[1.0, 0.0], [0.0, 3.0]]  # shared k=2, layer: clusters {0, 0, 1} -> 1/3 and {3} -> 3
W1 = [[2.0, -2.0], [1.0, 1.0]]  # fixed <3,2>: step 0.5, range [-2, 1.5]: 2.0 saturates
X = [[1.0, 1.0], [2.0, 0.0]]  # calibration batch (train) and validation inputs
Y = [1, 0]  # the float model's labels for X


@pytest.fixture()
def tiny() -> Workload:
    model = nn.Sequential(nn.Linear(2, 2, bias=False), nn.Linear(2, 2, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(W0))
        model[1].weight.copy_(torch.tensor(W1))
    model.eval()
    split = DataSplit(torch.tensor(X), torch.tensor(Y))
    return Workload(model, Dataset(split, split, split, "tiny"), "tiny")


CONFIG = Configuration.of({"0": LayerConfig(WeightSharing(2)), "1": LayerConfig(FixedPoint(3, 2))})
SSE0 = (1 / 3) ** 2 * 2 + (2 / 3) ** 2  # 0, 0, 1 around 1/3; 3 exact
SSE1 = 0.5**2  # 2.0 -> 1.5


def test_registry_lists_every_proxy_and_rejects_unknown_names() -> None:
    assert set(available_proxies()) >= {
        "inertia",
        "normalized_inertia",
        "output_noise",
        "sensitivity",
        "sensitivity_accuracy",
    }
    with pytest.raises(ProxyError, match="normalized_inertia.*got 'nope'"):
        get_proxy("nope")


def test_inertia_is_the_sum_of_layer_sse(tiny: Workload) -> None:
    assert get_proxy("inertia")(tiny).value(CONFIG) == pytest.approx(SSE0 + SSE1)
    assert get_proxy("inertia")(tiny).value(Configuration()) == 0.0


def test_normalized_inertia_divides_each_layer_by_its_energy(tiny: Workload) -> None:
    expected = SSE0 / 10.0 + SSE1 / 10.0  # ||W0||^2 = ||W1||^2 = 10
    assert get_proxy("normalized_inertia")(tiny).value(CONFIG) == pytest.approx(expected)


def test_output_noise_weighs_errors_by_layer_inputs(tiny: Workload) -> None:
    # Layer 0: dW0 = [[-2/3, 1/3], [1/3, 0]] on x = [1, 1] and [2, 0]:
    # noise [-1/3, 1/3], [-4/3, 2/3] -> 22/9; signal W0 x = [1, 3], [2, 0] -> 14.
    # Layer 1: its float inputs are [1, 3] and [2, 0]; dW1 = [[-0.5, 0], [0, 0]]:
    # noise [-0.5, 0], [-1, 0] -> 1.25; signal [-4, 4], [4, 2] -> 52.
    expected = (22 / 9) / 14 + 1.25 / 52
    proxy = get_proxy("output_noise")(tiny, calibration_samples=2)
    assert proxy.value(CONFIG) == pytest.approx(expected)


def _kl(p_logits: list[float], q_logits: list[float]) -> float:
    def log_softmax(z: list[float]) -> list[float]:
        top = max(z)
        log_sum = top + math.log(sum(math.exp(v - top) for v in z))
        return [v - log_sum for v in z]

    lp, lq = log_softmax(p_logits), log_softmax(q_logits)
    return sum(math.exp(a) * (a - b) for a, b in zip(lp, lq, strict=True))


def test_sensitivity_sums_each_layer_alone(tiny: Workload) -> None:
    # Float logits: x1 -> [-4, 4], x2 -> [4, 2]. Layer 0 alone (Q(W0) = [[1/3, 1/3], [1/3, 3]]):
    # x1 -> [-16/3, 4], x2 -> [0, 4/3] (now wrong: accuracy 1/2). Layer 1 alone (W1[0,0] = 1.5):
    # x1 -> [-4.5, 4], x2 -> [3, 2] (both right).
    kl0 = (_kl([-4, 4], [-16 / 3, 4]) + _kl([4, 2], [0, 4 / 3])) / 2
    kl1 = (_kl([-4, 4], [-4.5, 4]) + _kl([4, 2], [3, 2])) / 2
    profile = SensitivityProfile(tiny)
    assert get_proxy("sensitivity")(tiny, profile=profile).value(CONFIG) == pytest.approx(
        kl0 + kl1
    )
    drop = get_proxy("sensitivity_accuracy")(tiny, profile=profile).value(CONFIG)
    assert drop == pytest.approx(0.5)
    assert profile.measured_ == 2  # the second proxy read the same cached entries


def test_sensitivity_profile_round_trips_and_ignores_another_model(tiny: Workload) -> None:
    profile = SensitivityProfile(tiny)
    profile.measure("0", LayerConfig(WeightSharing(2)))
    data = profile.to_dict()
    again = SensitivityProfile(tiny).load(data)
    assert again.entries() == profile.entries() and again.measured_ == 0
    other = Workload(nn.Sequential(nn.Linear(2, 2, bias=False)), tiny.data, "other")
    assert SensitivityProfile(other).load(data).entries() == []


def test_proxies_are_cached_per_layer_choice(tiny: Workload) -> None:
    proxy = get_proxy("normalized_inertia")(tiny)
    first = proxy.value(CONFIG)
    tiny.model[0].weight.data.mul_(1.0)  # untouched model: the same value from the cache
    assert proxy.value(CONFIG) == first
    assert torch.equal(tiny.model[0].weight, torch.tensor(W0))


def test_fidelity_metrics_hand_values() -> None:
    m = fidelity_metrics([0.9, 0.5, 0.1], [0.95, 0.6, 0.2])
    assert m["spearman"] == pytest.approx(1.0) and m["kendall"] == pytest.approx(1.0)
    assert m["mae"] == pytest.approx((0.05 + 0.1 + 0.1) / 3)
    y = np.array([0.95, 0.6, 0.2])
    r2 = 1 - np.sum((y - [0.9, 0.5, 0.1]) ** 2) / np.sum((y - y.mean()) ** 2)
    assert m["r2"] == pytest.approx(r2)
    reversed_ = fidelity_metrics([0.1, 0.5, 0.9], [0.95, 0.6, 0.2])
    assert reversed_["spearman"] == pytest.approx(-1.0)


def test_calibrated_proxy_is_monotone_and_measures_held_out_fidelity() -> None:
    x = np.linspace(0.0, 2.0, 30)
    y = 0.97 * np.exp(-2 * x)
    cal = CalibratedProxy().fit(x, y)
    # Held out, clipped predictions beyond a fold's range may tie: nearly, not exactly, 1.
    assert cal.spearman_ > 0.99 and cal.kendall_ > 0.98
    assert cal.r2_ > 0.95 and cal.mae_ < 0.05 and cal.n_samples_ == 30
    predicted = cal.predict(np.linspace(0.0, 2.0, 50))
    assert np.all(np.diff(predicted) < 0)  # ties broken: the proxy's order is kept
    linear = CalibratedProxy("linear").fit(x + 0.01, y)
    assert linear.spearman_ > 0.99
    with pytest.raises(NotFittedError):
        CalibratedProxy().predict([0.1])
    with pytest.raises(ProxyError, match="regression.*'isotonic'.*got 'cubic'"):
        CalibratedProxy("cubic").fit(x, y)


def _linear_workload(n: int = 200) -> Workload:
    """One linear layer whose float model labels its own data: accuracy 1.0 in float."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 4)).eval()
    x = torch.randn(n, 8)
    with torch.no_grad():
        y = model(x).argmax(dim=1)
    split = DataSplit(x, y)
    return Workload(model, Dataset(split, split, split, "linear"), "linear")


class _Reversed(Proxy):
    """A proxy that ranks backwards: more bits look worse."""

    def value(self, configuration: Configuration) -> float:
        return float(configuration.get("0").weights.bits)


def _configs() -> list[Configuration]:
    return [
        Configuration.of({"0": LayerConfig(FixedPoint(bits, 1))})
        for bits in [1, 8, 2, 6, 3, 5, 4, 7, 2, 8, 1, 6, 3, 5]
    ]


def test_low_fidelity_falls_back_to_exact_scoring(caplog: pytest.LogCaptureFixture) -> None:
    workload = _linear_workload()
    exact = AccuracyEvaluator(workload)
    evaluator = ProxyEvaluator(
        _Reversed(workload), exact, calibration_trials=6, refresh_every=0, fidelity_threshold=0.5
    )
    with caplog.at_level(logging.WARNING):
        evaluator.fit(_configs())
        scores = [evaluator.score(c) for c in _configs()]
    assert evaluator.fell_back_
    assert "under the threshold" in caplog.text
    assert all(s.fidelity == "exact:validation" for s in scores)
    assert [s.accuracy for s in scores] == [exact.score(c).accuracy for c in _configs()]
    assert evaluator.summary()["fell_back"] is True


def test_scoring_before_fit_is_an_error() -> None:
    workload = _linear_workload()
    evaluator = ProxyEvaluator(_Reversed(workload), AccuracyEvaluator(workload))
    with pytest.raises(NotFittedError, match="fit"):
        evaluator.score(_configs()[0])


def test_good_proxy_is_used_beside_design_points_and_digest_chosen_checks() -> None:
    workload = _linear_workload()
    exact = AccuracyEvaluator(workload)
    settings = {"calibration_trials": 6, "refresh_every": 4, "fidelity_threshold": 0.5}
    proxy = get_proxy("normalized_inertia")(workload)
    design = _configs()[:8]  # 6 distinct: 1, 8, 2, 6, 3, 5 bits
    evaluator = ProxyEvaluator(proxy, exact, **settings).fit(design)
    assert not evaluator.fell_back_ and len(evaluator.design_) == 6
    assert evaluator.exact_scorings_ == 6
    others = [Configuration.of({"0": LayerConfig(FixedPoint(b, 2))}) for b in range(2, 14)]
    for c in design[:6] + others:
        score = evaluator.score(c)
        in_design = c.digest() in evaluator.design_
        check = int(c.digest(), 16) % 4 == 0  # the rule, written out independently
        assert score.fidelity.startswith("exact") == (in_design or check)
        if score.fidelity.startswith("exact"):
            assert score.accuracy == exact.score(c).accuracy == score.exact_accuracy
        else:
            assert score.fidelity == "proxy:normalized_inertia" and score.exact_accuracy is None
    # A second evaluator fitted with the stored exact scores spends none and agrees on all.
    known = dict(evaluator.design_)
    again = ProxyEvaluator(proxy, exact, **settings).fit(design, known)
    assert again.exact_scorings_ == 0
    assert [again.score(c) for c in reversed(others)] == [
        evaluator.score(c) for c in reversed(others)
    ]
