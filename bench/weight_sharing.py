"""Weight sharing on the shipped ResNet-20 (Fashion-MNIST): optimizers at 500 exact scorings.

    python bench/weight_sharing.py --runs runs/bench_ws            # 3 optimizers x 3 seeds
    python bench/weight_sharing.py --runs runs/bench_ws --mixed    # + fixed/float/shared and
                                                                   #   activations, vs 8-bit PTQ
    python bench/weight_sharing.py --runs runs/bench_ws --mixed --seeds   # only the latter
    python bench/weight_sharing.py --runs runs/bench_ws --seeds --uniform 24 48
                                            # only every layer at 24, then 48 clusters

Every layer's weights are shared (k per layer, layer granularity, float32 codebooks); accuracy
is scored exactly on the first `--subset` validation images, weight memory counts indices and
codebooks. For each run the front is re-scored on the whole validation split (5,000 images; a
1,000-image subset cannot tell 0.2 points apart: its best-looking points are its luckiest;
front points more than `--rescore-margin` points beyond the largest budget are left out), at
each loss budget (0.5 and 0.2 points of top-1) the most compressed front point within it is
scored on the 10,000 test images and reported there (points chosen on validation, reported on
test). Compression is float32 weight bits over the configuration's weight bits. Every
optimizer first scores the warm-start points (`optimizer.warm_start`, on by default): every
layer at 16, 32 and 64 clusters; these uniform baselines are scored alone the same way, first,
as the table's `uniform` rows. Runs are stored in SQLite under `--runs` and resume when the
script is started again.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from dse import Problem, minimize  # noqa: E402
from dse.study import warm_start_points  # noqa: E402
from evaluators import AccuracyEvaluator, Configuration  # noqa: E402

SHARED = {
    "study": {"name": "ws", "seed": 0, "output": "runs"},
    "workload": {
        "model": "resnet20",
        "dataset": "fashion_mnist",
        "checkpoint": "resnet20_fashion_mnist",
    },
    "search_space": {
        "weights": {"kinds": ["shared"], "clusters": [2, 64], "granularity": ["layer"]},
    },
    "objectives": ["accuracy", "weight_bits"],
    "evaluator": {"kind": "exact", "threads": 1, "batch_size": 500, "rescore_front": False},
}
MIXED_SPACE = {
    "weights": {
        "kinds": ["fixed", "float", "shared"],
        "bits": [3, 8],
        "exponent_bits": [3, 5],
        "mantissa_bits": [1, 4],
        "clusters": [4, 64],
    },
    "activations": {"kinds": ["fixed"], "bits": [6, 10]},
}
OPTIMIZERS = {
    "bayesian": {"kind": "bayesian", "n_startup_trials": 20},
    "nsga2": {"kind": "nsga2"},
    "random": {"kind": "random"},
}
BUDGETS = (0.005, 0.002)
"""Loss budgets, as fractions of top-1 (0.5 and 0.2 points)."""


def _problem(data: dict[str, Any], folder: Path) -> Problem:
    """The problem of a study file written for `data` into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{data['study']['name']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return Problem.from_file(path)


def _best_within(points: list, accuracy: dict[int, float], loss: float, reference: float):
    """The point of least weight memory whose validation loss (`reference` minus its
    `accuracy`, by trial number) is within `loss`."""
    within = [p for p in points if reference - accuracy[p.number] <= loss]
    return min(within, key=lambda p: p.values["weight_bits"], default=None)


def run(args: argparse.Namespace, data: dict[str, Any], label: str, optimizer: dict) -> dict:
    folder = Path(args.runs) / label
    data = copy.deepcopy(data)
    data["study"]["name"] = label.replace("/", "_")
    data["evaluator"]["subset"] = args.subset
    problem = _problem(data, folder)
    started = time.perf_counter()
    result = minimize(
        problem, optimizer, budget=args.budget, storage=f"sqlite:///{folder / 'study.db'}"
    )
    seconds = time.perf_counter() - started
    assert problem.workload is not None
    test = AccuracyEvaluator(problem.workload, split="test", batch_size=1000)
    float_test = test.reference().accuracy
    points = list(result.front.points)
    if args.choose_on_subset:
        float_validation = problem.reference_accuracy
        chosen_on = {p.number: p.values["accuracy"] for p in points}
    else:  # the search's subset is too small to tell 0.2 points: re-score the front
        validation = AccuracyEvaluator(problem.workload, split="validation", batch_size=1000)
        float_validation = validation.reference().accuracy
        # points whose subset loss is beyond the largest budget by more than the margin are
        # left out: the paired loss of a point that disagrees with the float model on a
        # fraction d of the images has a standard error of about sqrt(d / n) (binomial),
        # 0.45 pt for d = 2 % on 1,000 images, so 1 point is about 2 standard errors
        limit = max(BUDGETS) + args.rescore_margin / 100
        near = [p for p in points if problem.reference_accuracy - p.values["accuracy"] <= limit]
        chosen_on = {p.number: validation.score(p.configuration).accuracy for p in near}
        points = near
    float_bits = problem.cost_model.cost(Configuration()).values["weight_bits"]
    row: dict[str, Any] = {
        "run": label,
        "evaluated": result.complete,
        "seconds": round(seconds),
        "float_test": float_test,
        "front": len(result.front.points),
        "rescored": len(points),
    }
    for loss in BUDGETS:
        point = _best_within(points, chosen_on, loss, float_validation)
        if point is None:
            row[f"x@{loss * 100:g}"] = None
            continue
        accuracy = test.score(point.configuration).accuracy
        row[f"x@{loss * 100:g}"] = float_bits / point.values["weight_bits"]
        row[f"test_loss@{loss * 100:g}"] = 100 * (float_test - accuracy)
        row[f"trial@{loss * 100:g}"] = point.number
        row[f"validation_loss@{loss * 100:g}"] = 100 * (float_validation - chosen_on[point.number])
    print(json.dumps(row), flush=True)
    return row


class _Single:
    """Scores single configurations of one problem like a chosen point (the whole validation
    split, then test): compression and both losses in points of top-1. The float model's
    accuracies and weight bits are computed once."""

    def __init__(self, problem: Problem) -> None:
        assert problem.workload is not None
        self.problem = problem
        self.scorers = {
            split: AccuracyEvaluator(problem.workload, split=split, batch_size=1000)
            for split in ("validation", "test")
        }
        self.reference = {split: e.reference().accuracy for split, e in self.scorers.items()}
        self.float_bits = problem.cost_model.cost(Configuration()).values["weight_bits"]

    def __call__(self, configuration: Configuration, label: str) -> dict:
        bits = self.problem.cost_model.cost(configuration).values["weight_bits"]
        row: dict[str, Any] = {"run": label, "x": self.float_bits / bits}
        for split, scorer in self.scorers.items():
            loss = self.reference[split] - scorer.score(configuration).accuracy
            row[f"{split}_loss"] = 100 * loss
        print(json.dumps(row), flush=True)
        return row


def uniform(args: argparse.Namespace) -> list[dict]:
    """Every layer's weights shared at one codebook size, for each of `--uniform` (default:
    the sizes of the optimizers' warm start, 16, 32, 64 and 256 clamped into the space's
    range, duplicates dropped): the baselines a per-layer search has to beat."""
    data = copy.deepcopy(SHARED)
    data["study"]["name"] = "uniform"
    problem = _problem(data, Path(args.runs))
    space = problem.space
    names = [v.name for v in space.variables if v.name.endswith(".clusters")]
    if args.uniform:
        allowed = next(v for v in space.variables if v.name == names[0]).values()  # all alike
        if any(k not in allowed for k in args.uniform):
            raise SystemExit(f"--uniform: sizes must be in {allowed[0]}..{allowed[-1]}")
        points = [dict.fromkeys(names, k) for k in args.uniform]
    else:
        points = warm_start_points(space)
    single = _Single(problem)
    rows = []
    for params in points:
        clusters = sorted({params[name] for name in names if name in params})
        label = f"uniform, {'/'.join(map(str, clusters))} clusters"
        rows.append(single(space.decode(space.complete(params)), label))
    return rows


def ptq8(args: argparse.Namespace) -> dict:
    """Uniform 8-bit post-training quantization (weights and activations) of the model."""
    data = copy.deepcopy(SHARED)
    data["search_space"] = copy.deepcopy(MIXED_SPACE)
    data["study"]["name"] = "ptq8"
    problem = _problem(data, Path(args.runs))
    space = problem.space
    point = {}
    for var in space.variables:
        field = var.name.rsplit(".", 1)[1]
        point[var.name] = {"kind": "fixed", "bits": 8}.get(field, var.values()[0])
    return _Single(problem)(space.decode(point), "uniform 8-bit PTQ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="runs/bench_weight_sharing")
    parser.add_argument("--budget", type=int, default=500)
    parser.add_argument("--subset", type=int, default=1000)
    parser.add_argument(
        "--seeds", type=int, nargs="*", default=[0, 1, 2], help="none: only --mixed runs"
    )
    parser.add_argument("--optimizers", nargs="+", default=list(OPTIMIZERS))
    parser.add_argument("--mixed", action="store_true")
    parser.add_argument(
        "--uniform",
        type=int,
        nargs="*",
        help="codebook sizes of the uniform rows (default: the warm start's)",
    )
    parser.add_argument(
        "--rescore-margin",
        type=float,
        default=1.0,
        help="re-score only front points whose subset loss is within the largest budget plus "
        "this many points (default 1.0)",
    )
    parser.add_argument(
        "--choose-on-subset",
        action="store_true",
        help="choose the points on the search's own validation subset (default: re-score the "
        "front on the whole validation split and choose there)",
    )
    args = parser.parse_args(argv)
    if args.rescore_margin < 0:
        parser.error("--rescore-margin: must be >= 0 points")
    rows = uniform(args) if args.seeds or args.uniform else []
    for seed in args.seeds:
        for name in args.optimizers:
            data = copy.deepcopy(SHARED)
            data["study"]["seed"] = seed
            rows.append(run(args, data, f"shared/{name}-{seed}", OPTIMIZERS[name]))
    if args.mixed:
        data = copy.deepcopy(SHARED)
        data["search_space"] = MIXED_SPACE
        rows.append(run(args, data, "mixed/bayesian-0", OPTIMIZERS["bayesian"]))
        rows.append(ptq8(args))
    print(
        "\n| run | evaluated | front | x at <= 0.5 pt (validation / test loss, pt) "
        "| x at <= 0.2 pt (validation / test loss, pt) | s |"
    )
    print("|---|---|---|---|---|---|")
    for row in rows:
        if "x" in row:  # a single point: in the budgets its validation loss is within
            losses = f"{row['validation_loss']:.2f} / {row['test_loss']:.2f}"
            point = f"{row['x']:.2f}x ({losses})"
            cells = [point if row["validation_loss"] <= 100 * b else "none" for b in BUDGETS]
            print(f"| {row['run']} | 1 | - | {cells[0]} | {cells[1]} | - |")
            continue
        cells = []
        for loss in ("0.5", "0.2"):
            x = row.get(f"x@{loss}")
            if x is None:
                cells.append("none")
                continue
            losses = f"{row[f'validation_loss@{loss}']:.2f} / {row[f'test_loss@{loss}']:.2f}"
            cells.append(f"{x:.2f}x ({losses})")
        print(
            f"| {row['run']} | {row['evaluated']} | {row['front']} | {cells[0]} | {cells[1]} "
            f"| {row['seconds']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
