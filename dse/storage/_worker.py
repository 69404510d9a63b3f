"""Which worker owns a trial: tagged the moment Optuna creates it, before any sampling."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from optuna.samplers import BaseSampler

from dse.storage import _records as records
from dse.storage._liveness import worker_id

if TYPE_CHECKING:
    from optuna import Study
    from optuna.distributions import BaseDistribution
    from optuna.trial import FrozenTrial, TrialState


class WorkerTaggingSampler(BaseSampler):
    """Delegates to `sampler`, and tags each new trial with this worker in `before_trial`.

    Optuna creates a trial RUNNING, then samples its parameters (one commit each). Tagging only
    after `ask` returned would leave most of that time untagged, so a worker killed during it
    would leave a trial no recovery could attribute, and a recovering worker could not tell a
    live worker's trial from a dead one's. `before_trial` runs right after the creation.

    Args:
        sampler: the optimizer's sampler.
    """

    def __init__(self, sampler: BaseSampler) -> None:
        self.sampler = sampler
        self._worker = worker_id()

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        records.tag_worker(study, trial, self._worker)
        self.sampler.before_trial(study, trial)

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return self.sampler.infer_relative_search_space(study, trial)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return self.sampler.sample_relative(study, trial, search_space)

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        return self.sampler.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self.sampler.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self.sampler.reseed_rng()
