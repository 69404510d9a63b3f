"""Bayesian optimization that models accuracy only: hardware objectives are computed, not learned.

In a dse study only accuracy is expensive to know; weight bits, LUTs, latency and energy come
from the hardware model in milliseconds. A Gaussian process over every objective (Optuna's
GPSampler) spends trials learning functions the study can simply compute. This sampler fits
Gaussian processes to the objectives that must be scored, computes the others exactly for each
candidate, and proposes the candidate of largest expected hypervolume improvement (EHVI)
times its probability of meeting the constraints on scored metrics.

Candidates are configurations, not parameter vectors, so none repeats a scored, running or
failed configuration: random points of the space, single-variable steps from the current front,
and layer-wise crossovers of front points (a network's objectives are close to sums over its
layers, so the layers of two good points often combine into another good point). When no
candidate is left (a tiny space), the proposal falls back to a random point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import moocore
import numpy as np
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import StudyDirection
from optuna.trial import TrialState
from scipy.stats import norm

from dse.optimizers._candidates import crossover, layer_groups, neighbours, random_point
from dse.optimizers._surrogate import Surrogate, Warp
from dse.storage import records
from results import data_reference

if TYPE_CHECKING:
    import optuna
    from optuna.distributions import BaseDistribution
    from optuna.trial import FrozenTrial

    from dse.optimizers._registry import ExactObjectives
    from search_spaces import SearchSpace, Variable


_CACHE_ENTRIES = 100_000
"""Digests and exact values kept per sampler (then forgotten at once): bounded memory."""


class CostAwareSampler(BaseSampler):
    """GP on the scored objectives, exact values for the computed ones, EHVI over candidates.

    Args:
        space: the study's search space (decodes candidates, knows inactive variables).
        exact: computes the objectives that need no scoring, and the constraints on them;
            `None` models every objective.
        n_startup_trials: evaluated trials (random) before the model proposes.
        seed: fixes candidate draws and the GP's restarts.
        n_random: random candidates per proposal.
        n_crossover: crossover candidates per proposal.
        n_samples: samples of the predictive distribution per EHVI estimate.
        n_shortlist: candidates whose EHVI is estimated (the best by optimistic improvement).
    """

    def __init__(
        self,
        space: SearchSpace,
        exact: ExactObjectives | None,
        *,
        n_startup_trials: int,
        seed: int,
        n_random: int = 256,
        n_crossover: int = 256,
        n_samples: int = 32,
        n_shortlist: int = 128,
    ) -> None:
        self.space = space
        self.exact = exact
        self.n_startup_trials = n_startup_trials
        self.n_random = n_random
        self.n_crossover = n_crossover
        self.n_samples = n_samples
        self.n_shortlist = n_shortlist
        self._seed = seed
        self._rng = np.random.default_rng(seed)
        self._random = RandomSampler(seed=seed)
        self._distributions = space.to_optuna()
        self._features = _Features(space.variables)
        self._groups = layer_groups(space)
        self._digests: dict[tuple[Any, ...], str] = {}
        self._exact_values: dict[str, tuple[tuple[float | None, ...], bool]] = {}
        self._surrogate = Surrogate()

    def reseed_rng(self) -> None:
        self._seed = int(np.random.SeedSequence().generate_state(1)[0])
        self._random.reseed_rng()

    def infer_relative_search_space(
        self, study: optuna.Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return dict(self._distributions)

    def sample_independent(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        return self._random.sample_independent(study, trial, param_name, param_distribution)

    def sample_relative(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        search_space: dict[str, BaseDistribution],
    ) -> dict[str, Any]:
        if not search_space:
            return {}
        names = set(self._distributions)
        trials = study.get_trials(deepcopy=False)
        done = [t for t in trials if records.is_evaluated(t) and names <= t.params.keys()]
        if len(done) < self.n_startup_trials:
            return {}
        # One stream per trial: a run is reproducible, and workers proposing at the same
        # moment from the same seed draw different candidates.
        self._rng = np.random.default_rng([self._seed, trial.number])
        running = [
            t
            for t in trials
            if t.state == TrialState.RUNNING
            and t.number != trial.number
            and names <= t.params.keys()
        ]
        # Never again: scored, running (also those another worker is still proposing, known
        # by the digest it recorded) and failed configurations (a failure does not teach the
        # model anything, so it would win again).
        excluded = {records.config_hash(t) or self._digest(t.params) for t in done}
        for t in trials:
            if t.state in (TrialState.RUNNING, TrialState.FAIL) and names <= t.params.keys():
                excluded.add(self._digest(self.space.canonical(t.params)))
            claimed = records.proposed_digest(t) if t.state == TrialState.RUNNING else None
            if claimed is not None:
                excluded.add(claimed)
        sign = np.array([1.0 if d == StudyDirection.MINIMIZE else -1.0 for d in study.directions])
        directions = [d.name.lower() for d in study.directions]
        values = np.array([t.values for t in done], dtype=float)
        reference = records.reference_point(study) or data_reference(values, directions)
        ranked = self._propose(
            [self.space.canonical(t.params) for t in done],
            sign * values,
            _violations(done),
            [self.space.canonical(t.params) for t in running],
            excluded,
            sign * np.asarray(reference, dtype=float),
            sign,
        )
        if not ranked:
            return {}
        return self._claim(study, trial, ranked)

    def _claim(
        self, study: optuna.Study, trial: FrozenTrial, ranked: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """The best of `ranked` no other trial has claimed or scored, recorded on `trial`.

        Another worker may settle on the same configuration while this one computes. Each
        worker records its choice first, then reads the others' and moves to its next
        candidate on any clash it sees: of two workers that chose alike, the one reading later
        sees the other's record (each reads after its own write), so at most both move on,
        never both keep it.
        """
        states = (TrialState.RUNNING, TrialState.COMPLETE)
        chosen = ranked[0]
        for chosen in ranked:
            digest = self._digest(chosen)
            records.claim(study, trial, digest)
            others = study.get_trials(deepcopy=False, states=states)
            if not any(
                t.number != trial.number
                and digest in (records.proposed_digest(t), records.config_hash(t))
                for t in others
            ):
                return chosen
        return chosen

    def _propose(
        self,
        points: list[dict[str, Any]],
        values: np.ndarray,
        violations: np.ndarray,
        running: list[dict[str, Any]],
        excluded: set[str],
        reference: np.ndarray,
        sign: np.ndarray,
    ) -> list[dict[str, Any]]:
        """The best candidates by EHVI times probability of feasibility, best first.

        Values and reference are in minimization form (the study's values times `sign`);
        `violations` holds each trial's constraint values (<= 0: satisfied).
        """
        feasible = np.all(violations <= 0, axis=1)
        front = values[feasible]
        parents = [p for p, ok in zip(points, feasible, strict=True) if ok]
        if len(front):
            mask = moocore.is_nondominated(front, keep_weakly=True)
            front, parents = front[mask], [p for p, m in zip(parents, mask, strict=True) if m]
        else:  # nothing feasible yet: grow from the least violating trials
            order = np.argsort(np.clip(violations, 0, None).sum(axis=1), kind="stable")
            parents = [points[i] for i in order[:10]]
        candidates = self._candidates(parents, excluded)
        known, modeled, ok = self._known(candidates, sign)
        candidates = [c for c, keep in zip(candidates, ok, strict=True) if keep]
        if not candidates:
            return []
        known = known[ok]
        x_train = self._features(points)
        x_cand = self._features(candidates)
        mean, std = known.copy(), np.zeros_like(known)
        warps = {}
        believed = None
        if running:
            believed, _, running_ok = self._known(running, sign)
            believed, x_running = believed[running_ok], self._features(running)[running_ok]
        for i in np.flatnonzero(modeled):
            gp, warps[i] = self._surrogate.fit(int(i), x_train, values[:, i], self._rng)
            mean[:, i], std[:, i] = gp.predict(x_cand, return_std=True)
            if believed is not None and len(believed):
                believed[:, i] = warps[i].inverse(gp.predict(x_running))
        if believed is not None and len(believed):  # kriging believer: running count as predicted
            front = np.vstack([front, believed])
        feasibility = self._feasibility(x_train, violations, x_cand)
        order = self._ranked(
            front, reference, mean, std, np.flatnonzero(modeled), warps, feasibility
        )
        return [candidates[i] for i in order]

    def _feasibility(
        self, x_train: np.ndarray, violations: np.ndarray, x_cand: np.ndarray
    ) -> np.ndarray:
        """Probability that each candidate satisfies the constraints the trials violated.

        Constraints on computed metrics were checked exactly (violating candidates are gone);
        the others (accuracy_drop <= x) get a GP of their value each, on the scale that
        predicts it best, and independent probabilities multiply.
        """
        probability = np.ones(len(x_cand))
        for j in np.flatnonzero(np.any(violations > 0, axis=0)):
            gp, warp = self._surrogate.fit(-1 - int(j), x_train, violations[:, j], self._rng)
            mu, sigma = gp.predict(x_cand, return_std=True)
            bound = warp.forward(0.0)
            probability *= norm.cdf((bound - mu) / np.maximum(sigma, 1e-12))
        return probability

    def _ranked(
        self,
        front: np.ndarray,
        reference: np.ndarray,
        mean: np.ndarray,
        std: np.ndarray,
        modeled: np.ndarray,
        warps: Mapping[int, Warp],
        feasibility: np.ndarray,
    ) -> int:
        """The best candidates by EHVI, best first (by uncertainty when none improves).

        `mean` and `std` of the modeled objectives are on the scale their GP models (`warps`);
        samples are mapped back to values before their improvement is measured.
        """
        base = _hypervolume(front, reference)

        def unwarp(points: np.ndarray) -> np.ndarray:
            points = points.copy()
            for i in modeled:
                points[:, i] = warps[i].inverse(points[:, i])
            return points

        optimistic = mean.copy()
        optimistic[:, modeled] -= 2.0 * std[:, modeled]
        optimistic = unwarp(optimistic)
        bound = _improvements(front, optimistic, reference, base) * feasibility
        if not np.any(bound > 0):
            return _top(std.sum(axis=1))  # none improves: the most uncertain
        if not len(modeled):  # nothing uncertain: the improvement is exact
            return _top(bound)
        shortlist = np.argsort(-bound)[: self.n_shortlist]
        shortlist = shortlist[bound[shortlist] > 0]
        levels = (np.arange(self.n_samples) + 0.5) / self.n_samples
        z = np.stack(
            [self._rng.permutation(norm.ppf(levels)) for _ in range(len(modeled))], axis=1
        )
        samples = np.repeat(mean[shortlist], self.n_samples, axis=0)
        samples[:, modeled] += np.tile(z, (len(shortlist), 1)) * np.repeat(
            std[shortlist][:, modeled], self.n_samples, axis=0
        )
        samples = unwarp(samples)
        ehvi = _improvements(front, samples, reference, base).reshape(len(shortlist), -1)
        return shortlist[_top(ehvi.mean(axis=1) * feasibility[shortlist])]

    def _digest(self, point: Mapping[str, Any]) -> str:
        key = tuple(point[v.name] for v in self.space.variables)
        digest = self._digests.get(key)
        if digest is None:
            if len(self._digests) >= _CACHE_ENTRIES:
                self._digests.clear()
            digest = self._digests[key] = self.space.decode(point).digest()
        return digest

    def _known(
        self, points: Sequence[Mapping[str, Any]], sign: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exact objective values times `sign` (NaN where scored), which objectives are
        scored, and which points satisfy the computed constraints (and have finite costs)."""
        out = np.full((len(points), len(sign)), np.nan)
        modeled = np.ones(len(sign), dtype=bool)
        ok = np.ones(len(points), dtype=bool)
        if self.exact is None:
            return out, modeled, ok
        for row, point in enumerate(points):
            digest = self._digest(point)
            cached = self._exact_values.get(digest)
            if cached is None:
                if len(self._exact_values) >= _CACHE_ENTRIES:
                    self._exact_values.clear()
                cached = self.exact.exact_values(self.space.decode(point))
                self._exact_values[digest] = cached
            values, feasible = cached
            modeled = np.array([v is None for v in values])
            out[row] = [np.nan if v is None else v for v in values]
            ok[row] = feasible and bool(np.all(np.isfinite(out[row][~modeled])))
        return out * sign, modeled, ok

    def _candidates(self, front: list[dict[str, Any]], excluded: set[str]) -> list[dict[str, Any]]:
        """Unscored configurations: front neighbours, front crossovers and random points."""
        pool: dict[str, dict[str, Any]] = {}

        def add(point: dict[str, Any]) -> None:
            point = self.space.canonical(point)
            digest = self._digest(point)
            if digest not in excluded and digest not in pool:
                pool[digest] = point

        for point in front:
            for neighbour in neighbours(self.space, point, self._rng):
                add(neighbour)
        if len(front) > 1:
            for _ in range(self.n_crossover):
                a, b = self._rng.choice(len(front), size=2, replace=False)
                add(crossover(self._groups, front[a], front[b], self._rng))
        for _ in range(self.n_random):
            add(random_point(self.space, self._rng))
        return list(pool.values())


def _top(scores: np.ndarray, k: int = 8) -> np.ndarray:
    """Indices of the `k` largest scores, largest first (the first of equals first)."""
    return np.argsort(-scores, kind="stable")[:k]


def _violations(trials: Sequence[FrozenTrial]) -> np.ndarray:
    """(trials, constraints) constraint values by name (0 where a trial has none); no column
    when the study has no constraint."""
    names = sorted({name for t in trials for name in t.constraints})
    return np.array(
        [[t.constraints.get(name, 0.0) for name in names] for t in trials], dtype=float
    ).reshape(len(trials), len(names))


class _Features:
    """Points as GP inputs: ordinals on [0, 1] (log scale where marked), categoricals one-hot
    (one 0/1 column for two choices). Each value's columns are computed once, when first seen."""

    def __init__(self, variables: Sequence[Variable]) -> None:
        self.variables = tuple(variables)
        self._tables: tuple[tuple[str, Variable, dict[Any, tuple[float, ...]]], ...] = tuple(
            (var.name, var, {}) for var in self.variables
        )
        self._width = sum(1 if _ordinal(var) else len(var.choices) for var in self.variables)

    def __call__(self, points: Sequence[Mapping[str, Any]]) -> np.ndarray:
        rows = []
        for point in points:
            row: list[float] = []
            for name, var, table in self._tables:
                value = point[name]
                columns = table.get(value)
                if columns is None:
                    columns = table[value] = _columns(var, value)
                row += columns
            rows.append(row)
        return np.asarray(rows, dtype=float).reshape(len(points), self._width)


def _ordinal(var: Variable) -> bool:
    """Whether a variable is one GP column (its unit position) rather than one-hot."""
    return var.kind == "int" or len(var.choices) == 2


def _columns(var: Variable, value: Any) -> tuple[float, ...]:
    """A variable's GP columns for one value: its unit position, or one-hot."""
    if _ordinal(var):
        return (var.to_unit(value),)
    return tuple(float(value == c) for c in var.choices)


def _hypervolume(front: np.ndarray, reference: np.ndarray) -> float:
    if not len(front):
        return 0.0
    return float(moocore.hypervolume(front, ref=reference))


def _improvements(
    front: np.ndarray, points: np.ndarray, reference: np.ndarray, base: float
) -> np.ndarray:
    """Hypervolume gained by adding each of `points` alone to `front` (minimization)."""
    gain = np.zeros(len(points))
    useful = np.all(points < reference, axis=1)
    if len(front):
        covered = np.zeros(len(points), dtype=bool)
        for start in range(0, len(points), 1024):  # bounded memory: chunks x front x m
            chunk = points[start : start + 1024, np.newaxis, :]
            covered[start : start + 1024] = np.all(front <= chunk, axis=2).any(axis=1)
        useful &= ~covered
    for i in np.flatnonzero(useful):
        gain[i] = _hypervolume(np.vstack([front, points[i]]), reference) - base
    return gain
