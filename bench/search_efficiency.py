"""Search efficiency of every optimizer on a space whose true Pareto front is known.

Run ``python bench/search_efficiency.py`` (``--jobs N`` runs N processes; ``--docs`` writes the
tables into ``docs/benchmarks.md``). The space is the built-in LeNet-5/digits workload with
four layers searched (conv1, conv2, fc1, fc2; fc3 stays float32), each in fixed point of 2-8
bits or shared weights of 2-16 clusters (per layer): 22 distinct formats per layer, 22^4 =
234,256 configurations, enumerated exhaustively for the true front. The samplers see the
study encoding (`SearchSpace.to_optuna()`: kind categorical, bits ordinal, clusters ordinal on
a log2 scale), so 12 variables.

Objectives (all minimized), each a sum of per-layer lookups precomputed once:

* ``noise_db``: the deterministic proxy 10 log10 sum_l ||Q(W_l) - W_l||^2 / ||W_l||^2 over
  the searched layers, with each layer's bit-true quantizer (`FixedPoint` / `WeightSharing`);
  decibels leave the front unchanged but give the accurate end its share of hypervolume;
* ``weight_bits``: `hardware_models.weight_memory_bits`;
* ``lut`` (3-objective variant): `hardware_models.AcceleratorModel` on the xc7z020 with 8-bit
  activations, per layer (additive, checked on random points).

Each run drives a registered sampler through `dse.study.optimize` (warm start on, in-memory
storage, the reference point stored as a study attribute as studies do), with the optimizer
section's defaults for its budget. As in a study, the sampler factory gets the problem's
`exact_values`: weight_bits and lut are computed (the hardware model's objectives), noise_db
stands for accuracy and must be scored; the `cost_aware` Bayesian backend uses that split.
Proposals that decode to a configuration already scored are told its values without an
evaluation and do not count (`dse.study.optimize`), so the curves
are per evaluation. Where no setting depends on the budget (random, tpe, bayesian) one run of
the largest budget gives every budget as a prefix; `population_size: auto` makes nsga2/nsga3
depend on it, so they run once per budget; hybrid, whose GP phase does not depend on it, runs
at 200 and 500, and its 50/100 figures are prefixes of the 200 run. The hypervolume reference
point is the worst corner of the space (each objective's largest value), so ratios are not
inflated by a far reference.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import moocore
import numpy as np
import optuna
import torch
import yaml
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from pydantic import TypeAdapter  # noqa: E402

from dse.config import StudyConfig, resolve_layers  # noqa: E402
from dse.config._schema import OptimizerSection  # noqa: E402
from dse.optimizers import OptimizerSettingsError, available_optimizers, get_optimizer  # noqa: E402
from dse.storage import records  # noqa: E402
from dse.study import Evaluation, optimize  # noqa: E402
from evaluators import Configuration, build_workload, layer_shapes  # noqa: E402
from hardware_models import AcceleratorModel, get_device, weight_memory_bits  # noqa: E402
from search_spaces import SearchSpace  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("conv1", "conv2", "fc1", "fc2")
BUDGETS = (50, 100, 200, 500)
SPACE = {
    "include": list(LAYERS),
    "weights": {"kinds": ["fixed", "shared"], "bits": [2, 8], "clusters": [2, 16]},
}


@dataclass
class Bench:
    """The space, the per-layer lookup tables and the true front of one objective set."""

    space: SearchSpace
    formats: dict[str, list[tuple[Any, ...]]]  # layer -> its distinct choices
    table: dict[str, np.ndarray]  # layer -> (n_choices, n_objectives)
    objectives: tuple[str, ...]
    reference: np.ndarray
    true_hv: float
    front_size: int

    def choice(self, layer: str, params: dict[str, Any]) -> tuple[Any, ...]:
        kind = params[f"{layer}.weights.kind"]
        value = params[f"{layer}.weights.bits" if kind == "fixed" else f"{layer}.weights.clusters"]
        return (kind, value)

    def objectives_of(self, params: dict[str, Any]) -> tuple[float, ...]:
        total = sum(
            self.table[layer][self.formats[layer].index(self.choice(layer, params))]
            for layer in LAYERS
        )
        return tuple(float(v) for v in _to_db(total[np.newaxis])[0])


def build_benches() -> dict[int, Bench]:
    """The 2- and 3-objective problems, with their exhaustive fronts."""
    torch.set_num_threads(1)
    workload = build_workload("lenet5", "digits", seed=0, cache_dir=ROOT / "runs" / ".cache")
    config = StudyConfig.model_validate({"study": {"name": "bench"}, "search_space": SPACE})
    layers = resolve_layers(config.search_space, workload.layers(), "bench")
    space = SearchSpace.from_model(workload.model, layers)
    shapes = layer_shapes(workload.model, workload.data.train.x)
    accel = AcceleratorModel(shapes, device=get_device("xc7z020"), activation_bits=8)
    modules = dict(workload.model.named_modules())
    formats: dict[str, list[tuple[Any, ...]]] = {}
    rows: dict[str, list[list[float]]] = {}
    for layer in LAYERS:
        weight = modules[layer].weight.detach()
        formats[layer] = [("fixed", b) for b in range(2, 9)] + [
            ("shared", k) for k in range(2, 17)
        ]
        rows[layer] = []
        for kind, value in formats[layer]:
            params = _uniform_params(space, kind, value)
            fmt = space.decode(params)[layer].weights
            noise = float(((fmt.quantize(weight) - weight) ** 2).sum() / (weight**2).sum())
            one = Configuration.of({layer: space.decode(params)[layer]})
            bits = weight_memory_bits(shapes, one)[layer]
            lut = accel.cost(one).per_layer[layer]["lut"]
            rows[layer].append([noise, float(bits), float(lut)])
    _check_additive(space, accel, formats, rows)
    benches = {}
    for m in (2, 3):
        table = {layer: np.array(rows[layer])[:, :m] for layer in LAYERS}
        grids = np.meshgrid(*[np.arange(len(formats[layer])) for layer in LAYERS], indexing="ij")
        points = _to_db(
            sum(table[layer][g.ravel()] for layer, g in zip(LAYERS, grids, strict=True))
        )
        reference = points.max(axis=0)
        front = points[moocore.is_nondominated(points)]
        hv = float(moocore.hypervolume(front, ref=reference))
        names = ("noise_db", "weight_bits", "lut")[:m]
        benches[m] = Bench(space, formats, table, names, reference, hv, len(front))
    return benches


def _to_db(points: np.ndarray) -> np.ndarray:
    """The noise column in decibels: the same front, hypervolume weighted toward accuracy."""
    points = points.copy()
    points[:, 0] = 10 * np.log10(points[:, 0])
    return points


def _uniform_params(space: SearchSpace, kind: str, value: int) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for layer in LAYERS:
        params[f"{layer}.weights.kind"] = kind
        params[f"{layer}.weights.bits"] = value if kind == "fixed" else 8
        params[f"{layer}.weights.clusters"] = value if kind == "shared" else 2
    return params


def _check_additive(space, accel, formats, rows) -> None:  # noqa: ANN001 - bench helper
    """The LUT of a whole configuration is the sum of its layers' (activations are fixed)."""
    rng = np.random.default_rng(0)
    for _ in range(5):
        picks = {layer: int(rng.integers(len(formats[layer]))) for layer in LAYERS}
        params = {}
        for layer, i in picks.items():
            kind, value = formats[layer][i]
            params[f"{layer}.weights.kind"] = kind
            params[f"{layer}.weights.bits"] = value if kind == "fixed" else 8
            params[f"{layer}.weights.clusters"] = value if kind == "shared" else 2
        config = space.decode(params)
        total = accel.cost(config).per_layer
        summed = sum(rows[layer][i][2] for layer, i in picks.items())
        assert math.isclose(sum(total[la]["lut"] for la in LAYERS), summed, rel_tol=1e-9)


class LookupProblem:
    """`dse.study.Problem`'s interface over the lookup tables: what `optimize` calls."""

    def __init__(self, bench: Bench) -> None:
        self.space = bench.space
        self.bench = bench
        self.seconds = 0.0

    def evaluate(self, params: dict[str, Any]) -> Evaluation:
        start = time.perf_counter()
        values = self.bench.objectives_of(params)
        evaluation = Evaluation(
            configuration=self.space.decode(params),
            objectives=values,
            constraints={},
            metrics=dict(zip(self.bench.objectives, values, strict=True)),
            fidelity="proxy:lookup",
        )
        self.seconds += time.perf_counter() - start
        return evaluation

    def exact_values(self, configuration: Configuration) -> tuple[tuple[float | None, ...], bool]:
        """The hardware objectives from the tables; noise_db, the accuracy proxy, is scored."""
        rows = []
        for layer in LAYERS:
            fmt = configuration[layer].weights
            value = fmt.word_length if fmt.kind == "fixed" else fmt.clusters
            index = self.bench.formats[layer].index((fmt.kind, value))
            rows.append(self.bench.table[layer][index])
        total = np.sum(rows, axis=0)
        return (None, *(float(v) for v in total[1:])), True


_BENCHES: dict[int, Bench] = {}


def parse_kind(label: str) -> tuple[str, dict[str, Any]]:
    """`hybrid` or `hybrid:switch_after=100,window=10`: a kind and settings to override."""
    kind, _, rest = label.partition(":")
    overrides = {}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        overrides[key] = yaml.safe_load(value)
    return kind, overrides


def run_one(label: str, m: int, seed: int, budget: int) -> dict[str, Any]:
    """One study: the hypervolume ratio after each trial and the time spent outside scoring.

    `label` is an optimizer kind, optionally with overrides of its defaults (`parse_kind`).
    """
    torch.set_num_threads(1)
    threadpool_limits(1)  # one BLAS thread per process: `--jobs` processes share the cores
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore")
    if m not in _BENCHES:
        _BENCHES.update(build_benches())
    bench = _BENCHES[m]
    kind, overrides = parse_kind(label)
    settings = TypeAdapter(OptimizerSection).validate_python(
        {"kind": kind, "budget": budget, **overrides}
    )
    problem = LookupProblem(bench)
    try:
        sampler = get_optimizer(kind)(settings, bench.space, seed, problem)
    except OptimizerSettingsError as exc:
        return {"kind": label, "m": m, "seed": seed, "refused": str(exc)}
    study = optuna.create_study(directions=["minimize"] * m, sampler=sampler)
    records.set_reference_point(study, bench.reference.tolist())
    curve: list[float] = []
    stamps: list[tuple[float, float]] = []  # after each evaluation: clock, scoring time so far
    start = time.perf_counter()
    optimize(
        study,
        problem,  # type: ignore[arg-type]
        budget,
        warm_start=settings.warm_start,
        on_trial=lambda state: (
            curve.append(state.hypervolume / bench.true_hv),
            stamps.append((time.perf_counter(), problem.seconds)),
        ),
    )
    total = time.perf_counter() - start
    proposals = len(study.trials)
    return {
        "kind": label,
        "m": m,
        "seed": seed,
        "budget": budget,
        "curve": curve,
        "overhead_s": (total - problem.seconds) / budget,
        "overhead_last50_s": _last(stamps, 50),
        "duplicates": proposals - len(curve),
    }


def _last(stamps: list[tuple[float, float]], n: int) -> float | None:
    """Seconds outside scoring per evaluation over the last `n` evaluations of a run."""
    if len(stamps) <= n:
        return None
    (t0, s0), (t1, s1) = stamps[-n - 1], stamps[-1]
    return ((t1 - t0) - (s1 - s0)) / n


def _reach(curve: list[float], level: float) -> float:
    for i, ratio in enumerate(curve):
        if ratio >= level - 1e-12:
            return i + 1
    return math.inf


def _runs_for(runs: list[dict[str, Any]], budget: int) -> list[dict[str, Any]]:
    """Per seed, the run of the smallest budget >= `budget` (its prefix is a run of `budget`)."""
    chosen: dict[int, dict[str, Any]] = {}
    for r in runs:
        size = r.get("budget", len(r["curve"]))
        if size < budget or len(r["curve"]) < budget:
            continue
        best = chosen.get(r["seed"])
        if best is None or size < best.get("budget", len(best["curve"])):
            chosen[r["seed"]] = r
    return list(chosen.values())


BUDGET_RUNS = {"nsga2": BUDGETS, "nsga3": BUDGETS, "hybrid": (200,), "bayesian": (200,)}
"""Budgets run separately below the largest: settings depend on the budget (population), or
the largest run is too slow for every seed (`--long-seeds`)."""

SLOW = ("bayesian", "hybrid")
"""Optimizers whose largest budget (`--gp-budget`) runs for the first `--long-seeds` seeds only."""


def tables(results: list[dict[str, Any]], benches_info: dict[int, dict[str, Any]]) -> str:
    """Markdown: HV ratio per optimizer and budget, evaluations to 95 / 99 %, overhead."""
    out = []
    kinds = sorted({r["kind"] for r in results})
    for m in (2, 3):
        info = benches_info[m]
        out.append(
            f"\n**{m} objectives** ({', '.join(info['objectives'])}; true front "
            f"{info['front_size']} points, true hypervolume {info['true_hv']:.6g})\n"
        )
        head = "| optimizer | seeds |" + "".join(f" HV@{b} median / worst |" for b in BUDGETS)
        out.append(head + " evals to 95 % | evals to 99 % | duplicates skipped / longest run |")
        out.append("|---|---|" + "---|" * len(BUDGETS) + "---|---|---|")
        for kind in kinds:
            runs = [r for r in results if r["kind"] == kind and r["m"] == m]
            if not runs:
                continue
            if "refused" in runs[0]:
                out.append(f"| {kind} | - | refused: {runs[0]['refused']} |")
                continue
            cells = []
            for b in BUDGETS:
                vals = [r["curve"][b - 1] for r in _runs_for(runs, b)]
                if vals:
                    cells.append(f"{statistics.median(vals):.3f} / {min(vals):.3f} ({len(vals)})")
                else:
                    cells.append("-")
            per_seed: dict[int, dict[str, Any]] = {}
            for r in runs:  # each seed's longest run
                if r["seed"] not in per_seed or job_budget(r) > job_budget(per_seed[r["seed"]]):
                    per_seed[r["seed"]] = r
            runs = list(per_seed.values())
            seeds = len(runs)
            longest = max(job_budget(r) for r in runs)
            reach = [
                statistics.median([_reach(r["curve"], lv) for r in runs]) for lv in (0.95, 0.99)
            ]
            fmt = [f"{v:.0f}" if math.isfinite(v) else f"> {longest}" for v in reach]
            runs = [r for r in runs if job_budget(r) == longest]
            dup = statistics.median([r.get("duplicates", 0) for r in runs])
            out.append(
                f"| {kind} | {seeds} | " + " | ".join(cells) + f" | {fmt[0]} | {fmt[1]} | "
                f"{dup:.0f} / {longest} |"
            )
    return "\n".join(out)


def job_budget(result: dict[str, Any]) -> int:
    return int(result.get("budget", len(result.get("curve", ()))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--kinds",
        nargs="*",
        default=list(available_optimizers()),
        help="optimizer kinds, each optionally with overrides: hybrid:switch_after=100",
    )
    parser.add_argument("--budget", type=int, default=max(BUDGETS))
    parser.add_argument("--gp-budget", type=int, default=max(BUDGETS))
    parser.add_argument("--long-seeds", type=int, default=None, help="seeds of slow runs at 500")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--save", type=Path, help="a folder for one JSON file per run")
    parser.add_argument("--load", type=Path, nargs="*", help="print tables from saved runs")
    args = parser.parse_args(argv)
    benches = build_benches()
    info = {
        m: {"objectives": b.objectives, "front_size": b.front_size, "true_hv": b.true_hv}
        for m, b in benches.items()
    }
    results: list[dict[str, Any]] = []
    if args.load:
        for folder in args.load:
            results += [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    else:
        jobs = []
        for k in args.kinds:
            kind = parse_kind(k)[0]
            top = args.gp_budget if kind in SLOW else args.budget
            budgets = [b for b in BUDGET_RUNS.get(kind, ()) if b < top] + [top]
            for b in budgets:
                seeds = args.long_seeds if kind in SLOW and b == top and len(budgets) > 1 else None
                jobs += [(k, m, s, b) for m in (2, 3) for s in range(seeds or args.seeds)]
        jobs.sort(key=lambda j: (parse_kind(j[0])[0] in SLOW, -j[3]))  # fast ones first
        with ProcessPoolExecutor(args.jobs) as pool:
            futures = [pool.submit(run_one, *job) for job in jobs]
            for future in as_completed(futures):
                result = future.result()
                results.append(result)
                if args.save:
                    args.save.mkdir(parents=True, exist_ok=True)
                    key = (result["kind"], result["m"], result["seed"], job_budget(result))
                    name = re.sub(r"[^A-Za-z0-9_.-]", "-", "_".join(map(str, key))) + ".json"
                    (args.save / name).write_text(json.dumps(result))
                print(
                    f"done {result['kind']} m={result['m']} seed={result['seed']} "
                    f"budget={job_budget(result)}",
                    flush=True,
                )
    print(tables(results, info))
    print(
        "\n| optimizer | overhead per evaluation, s: mean over the run | over its last 50 "
        "evaluations (2 objectives) |"
    )
    print("|---|---|---|")
    for kind in sorted({r["kind"] for r in results}):
        runs = [r for r in results if r["kind"] == kind and r["m"] == 2 and "overhead_s" in r]
        if runs:
            top = max(job_budget(r) for r in runs)
            runs = [r for r in runs if job_budget(r) == top]
            lengths = sorted({len(r["curve"]) for r in runs})
            mean = statistics.mean(r["overhead_s"] for r in runs)
            last = [r["overhead_last50_s"] for r in runs if r.get("overhead_last50_s") is not None]
            tail = f"{statistics.mean(last):.4f}" if last else "-"
            print(f"| {kind} | {mean:.4f} | {tail} (runs of {lengths} evaluations, {len(runs)}) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
