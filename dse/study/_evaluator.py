"""Building a study's accuracy evaluator from its `evaluator` section."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from dse.study._profile_store import load_profile
from evaluators import (
    AccuracyEvaluator,
    ProxyEvaluator,
    SensitivityAccuracyProxy,
    SensitivityProxy,
    get_proxy,
)

if TYPE_CHECKING:
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
        workload,
        split=section.split,
        batch_size=section.batch_size,
        max_samples=section.subset,
        cache_mb=section.cache_mb,
        device=section.device,
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
    elif cls.settings_model is not None:
        options = cls.settings_model(**section.options)
        proxy = cls(workload, calibration_samples=section.calibration_samples, options=options)
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
