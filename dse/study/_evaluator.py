"""Building a study's accuracy evaluator from its `evaluator` section, and replaying it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from optuna.trial import TrialState

from dse.study._profile_store import load_profile
from evaluators import (
    AccuracyEvaluator,
    Evaluator,
    ProxyEvaluator,
    Score,
    SensitivityAccuracyProxy,
    SensitivityProxy,
    get_proxy,
)

if TYPE_CHECKING:
    import optuna

    from dse.config import StudyConfig
    from evaluators import Workload

logger = logging.getLogger(__name__)


def make_evaluator(config: StudyConfig, workload: Workload) -> AccuracyEvaluator | ProxyEvaluator:
    """The exact evaluator (on `subset` samples when set) or a calibrated proxy over it.

    A sensitivity proxy starts from the profile `dse sensitivity` cached in the study folder,
    when there is one for this model and split.
    """
    section = config.evaluator
    exact = AccuracyEvaluator(
        workload, split=section.split, batch_size=section.batch_size, max_samples=section.subset
    )
    if section.kind == "exact":
        return exact
    cls = get_proxy(section.kind)
    if issubclass(cls, SensitivityProxy | SensitivityAccuracyProxy):
        proxy = cls(
            workload,
            calibration_samples=section.calibration_samples,
            profile=load_profile(config, workload),
        )
    else:
        proxy = cls(workload, calibration_samples=section.calibration_samples)
    return ProxyEvaluator(
        proxy,
        exact,
        calibration_trials=section.calibration_trials,
        refresh_every=section.refresh_every,
        fidelity_threshold=section.fidelity_threshold,
        regression=section.regression,
    )


def replay_calibration(study: optuna.Study, evaluator: Evaluator) -> int:
    """Feed a resumed study's stored trials, in order, to a proxy evaluator's calibration.

    The stored `proxy_value` and `accuracy_exact` metrics rebuild the calibration the first
    run had, without scoring anything again.

    Returns:
        How many trials were replayed (0 for an exact evaluator).
    """
    if not isinstance(evaluator, ProxyEvaluator):
        return 0
    replayed = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        metrics = trial.user_attrs.get("metrics", {})
        digest = trial.user_attrs.get("config_hash")
        if digest is None or "proxy_value" not in metrics:
            continue
        score = Score(
            accuracy=float(metrics["accuracy"]),
            fidelity=str(trial.user_attrs.get("fidelity", "")),
            proxy_value=float(metrics["proxy_value"]),
            exact_accuracy=metrics.get("accuracy_exact"),
        )
        evaluator.record(digest, score)
        replayed += 1
    if replayed:
        logger.info("replayed %d stored trials into the %s calibration", replayed, evaluator)
    return replayed
