"""Sensitivity profiling of a study's space: each layer alone over its choices, cached.

`python -m dse sensitivity STUDY.yaml` runs this: every layer's weight (and activation)
choices are applied alone and measured once (accuracy, accuracy drop, KL divergence), the
profile is cached in the study folder so a second run is instant and `sensitivity` proxies
start from it, and a CSV and one plot per layer are written. With a quality gate it also
prunes the space the way the seed work did (see `search_spaces.prune_space`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from dse.study._problem import Problem
from dse.study._profile_store import load_profile, save_profile, sensitivity_dir
from results import write_sensitivity
from search_spaces import gated_points, layer_options, prune_space

if TYPE_CHECKING:
    from collections.abc import Mapping

    from dse.config import StudyConfig
    from evaluators import LayerConfig, LayerSensitivity, Workload
    from search_spaces import SearchSpace

WARM_START_GATES = (0.005, 0.01, 0.02, 0.05)
"""Accuracy drops a new study's warm start builds sensitivity points for (`GatedCandidates`)."""


@dataclass
class SensitivityRun:
    """What a profiling run measured and wrote.

    Attributes:
        entries: every (layer, choice) of the space, measured or read from the cache.
        measured: how many were measured in this run (0 when all came from the cache).
        seconds: wall time of the measuring.
        files: the written files by kind (`profile`, `csv`, `plot:<layer>`, `pruned`).
        pruned: the pruned space, when a gate was given.
        space: the space profiled.
    """

    entries: list[LayerSensitivity]
    measured: int
    seconds: float
    space: SearchSpace
    files: dict[str, Path] = field(default_factory=dict)
    pruned: SearchSpace | None = None


def run_sensitivity(
    config: StudyConfig, path: str | Path, *, gate: float | None = None
) -> SensitivityRun:
    """Profile every layer of the study's space alone; cache, tabulate, plot, maybe prune.

    Args:
        config: the validated study.
        path: the study file.
        gate: when given, the largest accuracy drop a kept choice may cause (e.g. 0.01);
            the pruned space is returned and written to `sensitivity/pruned.json`.

    Raises:
        StudyFileError: the study names a file that is missing or does not fit.
    """
    problem = Problem.from_config(config, path)
    space = problem.space
    assert problem.workload is not None
    profile = load_profile(config, problem.workload)
    started = time.perf_counter()
    choices = [(d.name, option) for d in space.layers for option in layer_options(space, d.name)]
    entries = [
        profile.measure(layer, option)
        for layer, option in tqdm(
            choices, desc="sensitivity", unit="choice", leave=False, disable=None
        )
    ]
    seconds = time.perf_counter() - started
    files = {"profile": save_profile(config, profile)} if profile.measured_ else {}
    folder = sensitivity_dir(config)
    files.setdefault("profile", folder / "profile.json")
    pruned = None
    if gate is not None:
        drops = {(e.layer, e.config): e.accuracy_drop for e in entries}
        pruned = prune_space(space, drops, gate)
    files |= write_sensitivity(folder, entries, pruned=_describe(pruned), gate=gate)
    return SensitivityRun(entries, profile.measured_, seconds, space, files, pruned)


def _describe(space: SearchSpace | None) -> dict[str, Any] | None:
    """A pruned space as JSON: its variables' domains and its constants."""
    if space is None:
        return None
    return {
        "variables": {
            v.name: list(v.choices) if v.kind == "categorical" else [v.low, v.high]
            for v in space.variables
        },
        "constants": dict(space.constants),
        "size": space.size(),
    }


@dataclass(frozen=True)
class GatedCandidates:
    """A measured sensitivity profile as warm-start points: per gate, every layer at its
    cheapest weight format within that accuracy drop (`search_spaces.gated_points`)."""

    drops: Mapping[tuple[str, LayerConfig], float]
    gates: tuple[float, ...] = WARM_START_GATES

    def candidates(self, space: SearchSpace) -> list[dict[str, Any]]:
        return gated_points(space, self.drops, self.gates)


def stored_candidates(config: StudyConfig, workload: Workload) -> GatedCandidates | None:
    """The warm-start candidates of the profile `dse sensitivity` stored for this study, if any
    (and measured on this model and data)."""
    if not (sensitivity_dir(config) / "profile.json").exists():
        return None
    entries = load_profile(config, workload).entries()
    if not entries:
        return None
    return GatedCandidates({(e.layer, e.config): e.accuracy_drop for e in entries})
