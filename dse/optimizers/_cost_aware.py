"""Bayesian optimization that models accuracy only: hardware objectives are computed, not learned.

In a dse study only accuracy is expensive to know; weight bits, LUTs, latency and energy come
from the hardware model in milliseconds. A Gaussian process over every objective (Optuna's
GPSampler) spends trials learning functions the study can simply compute. This sampler fits
Gaussian processes to the objectives that must be scored, computes the others exactly for each
candidate, and proposes the candidate of largest expected hypervolume improvement (EHVI).

Candidates are configurations, not parameter vectors, so none repeats a scored or running
configuration: random points of the space, single-variable steps from the current front, and
layer-wise crossovers of front points (a network's objectives are close to sums over its
layers, so the layers of two good points often combine into another good point).
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

from dse.optimizers._surrogate import Surrogate, Warp
from dse.results import DUPLICATE_ATTR, data_reference, is_feasible, stored_reference

if TYPE_CHECKING:
    import optuna
    from optuna.distributions import BaseDistribution
    from optuna.trial import FrozenTrial

    from dse.optimizers._registry import ExactObjectives
    from search_spaces import SearchSpace, Variable


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
        self._rng = np.random.default_rng(seed)
        self._random = RandomSampler(seed=seed)
        self._distributions = space.to_optuna()
        self._features = _Features(space.variables)
        self._groups = _groups(space)
        self._digests: dict[tuple[Any, ...], str] = {}
        self._exact_values: dict[str, tuple[tuple[float | None, ...], bool]] = {}
        self._surrogate = Surrogate()

    def reseed_rng(self) -> None:
        self._rng = np.random.default_rng()
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
        trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING))
        done = [
            t
            for t in trials
            if t.state == TrialState.COMPLETE
            and DUPLICATE_ATTR not in t.user_attrs
            and names <= t.params.keys()
        ]
        if len(done) < self.n_startup_trials:
            return {}
        running = [
            t
            for t in trials
            if t.state == TrialState.RUNNING
            and t.number != trial.number
            and names <= t.params.keys()
        ]
        sign = np.array([1.0 if d == StudyDirection.MINIMIZE else -1.0 for d in study.directions])
        directions = [d.name.lower() for d in study.directions]
        values = np.array([t.values for t in done], dtype=float)
        reference = stored_reference(study) or data_reference(values, directions)
        points = [self.space.canonical(t.params) for t in done]
        chosen = self._propose(
            points,
            sign * values,
            np.array([is_feasible(t) for t in done]),
            [self.space.canonical(t.params) for t in running],
            sign * np.asarray(reference, dtype=float),
            sign,
        )
        return {} if chosen is None else chosen

    def _propose(
        self,
        points: list[dict[str, Any]],
        values: np.ndarray,
        feasible: np.ndarray,
        running: list[dict[str, Any]],
        reference: np.ndarray,
        sign: np.ndarray,
    ) -> dict[str, Any] | None:
        """The candidate of largest EHVI; values and reference are in minimization form (the
        study's values times `sign`)."""
        front = values[feasible]
        front_points = [p for p, ok in zip(points, feasible, strict=True) if ok]
        if len(front):
            mask = moocore.is_nondominated(front, keep_weakly=True)
            front, front_points = (
                front[mask],
                [p for p, m in zip(front_points, mask, strict=True) if m],
            )
        excluded = {self._digest(p) for p in points + running}
        candidates = self._candidates(front_points or points, excluded)
        if not candidates:
            return None
        known, ok = self._known(candidates, sign)
        candidates = [c for c, keep in zip(candidates, ok, strict=True) if keep]
        known = known[ok]
        if not candidates:
            return None
        modeled = np.flatnonzero(np.isnan(known[0]))
        x_train = self._features(points)
        x_cand = self._features(candidates)
        mean = known.copy()
        std = np.zeros_like(known)
        running_means = None
        if running:
            running_means, _ = self._known(running, sign)
        warps = {}
        for i in modeled:
            gp, warp = self._surrogate.fit(int(i), x_train, values[:, i], self._rng)
            warps[i] = warp
            mu, sigma = gp.predict(x_cand, return_std=True)
            mean[:, i], std[:, i] = mu, sigma
            if running_means is not None:
                running_means[:, i] = warp.inverse(gp.predict(self._features(running)))
        if running_means is not None:  # kriging believer: running trials count as predicted
            front = np.vstack([front, running_means]) if len(front) else running_means
        best = self._best(front, reference, mean, std, modeled, warps)
        return candidates[best]

    def _best(
        self,
        front: np.ndarray,
        reference: np.ndarray,
        mean: np.ndarray,
        std: np.ndarray,
        modeled: np.ndarray,
        warps: Mapping[int, Warp],
    ) -> int:
        """Index of the candidate of largest EHVI (largest uncertainty when none improves).

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
        bound = _improvements(front, optimistic, reference, base)
        if not np.any(bound > 0):
            return int(np.argmax(std.sum(axis=1)))  # none improves: the most uncertain
        if not len(modeled):  # nothing uncertain: the improvement is exact
            return int(np.argmax(bound))
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
        return int(shortlist[np.argmax(ehvi.mean(axis=1))])

    def _digest(self, point: Mapping[str, Any]) -> str:
        key = tuple(point[v.name] for v in self.space.variables)
        digest = self._digests.get(key)
        if digest is None:
            digest = self._digests[key] = self.space.decode(point).digest()
        return digest

    def _known(
        self, points: Sequence[Mapping[str, Any]], sign: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact objective values (NaN where scored) times `sign`, and feasibility."""
        out = np.full((len(points), len(sign)), np.nan)
        ok = np.ones(len(points), dtype=bool)
        if self.exact is None:
            return out, ok
        for row, point in enumerate(points):
            digest = self._digest(point)
            cached = self._exact_values.get(digest)
            if cached is None:
                cached = self.exact.exact_values(self.space.decode(point))
                self._exact_values[digest] = cached
            values, ok[row] = cached
            out[row] = [np.nan if v is None else v for v in values]
        return out * sign, ok

    def _candidates(self, front: list[dict[str, Any]], excluded: set[str]) -> list[dict[str, Any]]:
        """Unscored configurations: front neighbours, front crossovers and random points."""
        pool: dict[str, dict[str, Any]] = {}

        def add(point: dict[str, Any]) -> None:
            point = self.space.canonical(point)
            digest = self._digest(point)
            if digest not in excluded and digest not in pool:
                pool[digest] = point

        for point in front:
            for neighbour in self._neighbours(point):
                add(neighbour)
        if len(front) > 1:
            for _ in range(self.n_crossover):
                a, b = self._rng.choice(len(front), size=2, replace=False)
                add(self._crossover(front[a], front[b]))
        for _ in range(self.n_random):
            add({v.name: _draw(v, self._rng) for v in self.space.variables})
        return list(pool.values())

    def _neighbours(self, point: dict[str, Any]) -> list[dict[str, Any]]:
        """Points one variable away: an ordinal one step (or a factor 2 on a log scale) up or
        down, a categorical one any other value (a new kind with random fields of its own)."""
        out = []
        for var in self.space.variables:
            value = point[var.name]
            if var.kind == "int":
                steps = {value - 1, value + 1}
                if var.log:
                    steps |= {value * 2, value // 2}
                out += [{**point, var.name: s} for s in steps if var.low <= s <= var.high]
            elif var.name.endswith(".kind"):
                for kind in var.choices:
                    if kind != value:
                        moved = {**point, var.name: kind}
                        prefix = var.name.rpartition(".")[0]
                        for other in self.space.variables:
                            if other.name.startswith(prefix + ".") and other is not var:
                                moved[other.name] = _draw(other, self._rng)
                        out.append(moved)
            else:
                out += [{**point, var.name: c} for c in var.choices if c != value]
        return out

    def _crossover(self, a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
        """Each layer tensor's variables taken together from one parent or the other."""
        child: dict[str, Any] = {}
        for names in self._groups:
            parent = a if self._rng.random() < 0.5 else b
            child.update({n: parent[n] for n in names})
        return child


def _draw(var: Variable, rng: np.random.Generator) -> Any:
    values = var.values()
    return values[int(rng.integers(len(values)))]


def _groups(space: SearchSpace) -> list[tuple[str, ...]]:
    """The variables of each layer tensor (`<layer>.<tensor>`), in space order."""
    groups: dict[str, list[str]] = {}
    for var in space.variables:
        groups.setdefault(var.name.rpartition(".")[0], []).append(var.name)
    return [tuple(names) for names in groups.values()]


class _Features:
    """Points as GP inputs: ordinals on [0, 1] (log scale where marked), categoricals one-hot."""

    def __init__(self, variables: Sequence[Variable]) -> None:
        self.variables = tuple(variables)

    def __call__(self, points: Sequence[Mapping[str, Any]]) -> np.ndarray:
        columns = []
        for var in self.variables:
            if var.kind == "int" or len(var.choices) == 2:
                columns.append([[var.to_unit(p[var.name])] for p in points])
            else:
                columns.append([[float(p[var.name] == c) for c in var.choices] for p in points])
        return np.hstack([np.asarray(c, dtype=float).reshape(len(points), -1) for c in columns])


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
