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
test). Losses are paired (each point against the float model on the same images) and given
with their standard errors; a second table chooses with one standard error added to each
validation loss, which discounts the luck of the most compressed of many re-scored points.
Compression is float32 weight bits over the configuration's weight bits. Every
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

import torch  # noqa: E402
import yaml  # noqa: E402

from dse import Problem, minimize  # noqa: E402
from dse.study import warm_start_points  # noqa: E402
from evaluators import AccuracyEvaluator, Configuration  # noqa: E402
from results import FrontPoint  # noqa: E402

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
GUARDS = {0.0: "x", 1.0: "x+1se"}
"""The rules that choose a point within a budget, by the standard errors added to its
validation loss (the JSON keys they write): none, the point's validation loss itself within
the budget; and one. Of many re-scored points, the most compressed one whose noisy loss fell
under the budget is likely to have been lucky (its loss is biased low, the winner's curse);
one standard error discounts that, a heuristic that does not correct for the number of
points compared."""
RULES = {0.0: "the loss within the budget", 1.0: "the loss + 1 standard error within it"}


def _problem(data: dict[str, Any], folder: Path) -> Problem:
    """The problem of a study file written for `data` into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{data['study']['name']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return Problem.from_file(path)


def paired_loss(
    reference: torch.Tensor, predicted: torch.Tensor, labels: torch.Tensor
) -> tuple[float, float]:
    """Top-1 loss of `predicted` against `reference` on the same samples, and its standard
    error, both in points of top-1.

    With d_i = [reference right] - [predicted right] (-1, 0 or 1), the loss is the mean of d
    and its standard error sd(d) / sqrt(n). Only the samples that exactly one of the two gets
    right contribute, so a paired loss is known far better than the difference of two
    separate accuracies (each a binomial of sd 0.34 points on 5,000 samples at 94 %).

    Args:
        reference, predicted: predicted classes, shape (n,); labels: true classes, shape (n,).

    Raises:
        ValueError: fewer than 2 samples (no standard error).
    """
    n = len(labels)
    if n < 2:
        raise ValueError(f"paired_loss: needs at least 2 samples, got {n}")
    d = (reference == labels).double() - (predicted == labels).double()
    return 100 * float(d.mean()), 100 * float(d.std(correction=1)) / n**0.5


def _within(loss: tuple[float, float], budget: float, guard: float) -> bool:
    """Whether a loss (points, with its standard error) plus `guard` standard errors is
    within `budget` points. Losses are multiples of 100 / n points: one equal to the budget
    may be off by an ulp, hence the tolerance."""
    value, error = loss
    return (value + guard * error if guard else value) <= budget + 1e-9


def _best_within(
    points: list, losses: dict[int, tuple[float, float]], budget: float, guard: float
) -> Any:
    """The point of least weight memory whose loss (points, with its standard error, by
    trial number) plus `guard` standard errors is within `budget` points; None if none is."""

    within = [p for p in points if _within(losses[p.number], budget, guard)]
    return min(within, key=lambda p: p.values["weight_bits"], default=None)


def _choices(
    points: list[FrontPoint],
    losses: dict[int, tuple[float, float]],
    test: _Split,
    float_bits: float,
) -> dict[str, dict | None]:
    """A row's cells: under each rule (`GUARDS`) and budget, the most compressed of `points`
    within it (validation losses by trial number), with its compression and both losses;
    None where no point is."""
    cells: dict[str, dict | None] = {}
    for guard, rule in GUARDS.items():
        for budget in BUDGETS:
            point = _best_within(points, losses, 100 * budget, guard)
            cells[f"{rule}@{budget * 100:g}"] = (
                None
                if point is None
                else {
                    "trial": point.number,
                    "x": float_bits / point.values["weight_bits"],
                    "validation": losses[point.number],
                    "test": test.loss(point.configuration),
                }
            )
    return cells


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
    test = _Split(problem, "test")
    points = list(result.front.points)
    if args.choose_on_subset:  # the search's own subset: its losses, paired
        chooser = _Split(problem, "validation", max_samples=args.subset)
    else:  # the search's subset is too small to tell 0.2 points: re-score the front
        # points whose subset loss is beyond the largest budget by more than the margin are
        # left out: the paired loss of a point that disagrees with the float model on a
        # fraction f of the images has a standard error of about sqrt(f / n) (binomial),
        # 0.45 pt for f = 2 % on 1,000 images, so 1 point is about 2 standard errors
        limit = max(BUDGETS) + args.rescore_margin / 100
        points = [p for p in points if problem.reference_accuracy - p.values["accuracy"] <= limit]
        chooser = _Split(problem, "validation")
    losses = {p.number: chooser.loss(p.configuration) for p in points}
    float_bits = problem.cost_model.cost(Configuration()).values["weight_bits"]
    row: dict[str, Any] = {
        "run": label,
        "evaluated": result.complete,
        "seconds": round(seconds),
        "float_test": test.reference_accuracy,
        "front": len(result.front.points),
        "rescored": len(points),
    }
    row |= _choices(points, losses, test, float_bits)
    print(json.dumps(row), flush=True)
    return row


class _Split:
    """Paired losses of configurations against the float model on one split, whole or its
    first `max_samples` (points of top-1, with standard errors; `paired_loss`). The float
    model's predictions are computed once, and every configuration's once."""

    def __init__(self, problem: Problem, split: str, max_samples: int | None = None) -> None:
        assert problem.workload is not None
        self.scorer = AccuracyEvaluator(
            problem.workload, split=split, batch_size=1000, max_samples=max_samples
        )
        self.reference = self.scorer.predictions()
        self.labels = self.scorer.labels
        self.reference_accuracy = float((self.reference == self.labels).double().mean())
        self._losses: dict[Configuration, tuple[float, float]] = {}

    def loss(self, configuration: Configuration) -> tuple[float, float]:
        if configuration not in self._losses:
            predicted = self.scorer.predictions(configuration)
            self._losses[configuration] = paired_loss(self.reference, predicted, self.labels)
        return self._losses[configuration]


class _Single:
    """Scores single configurations of one problem like a chosen point (the whole validation
    split, then test), into a row shaped like a run's: the point under each rule and budget
    its validation loss meets. The float model's predictions and weight bits are computed
    once."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.validation = _Split(problem, "validation")
        self.test = _Split(problem, "test")
        self.float_bits = problem.cost_model.cost(Configuration()).values["weight_bits"]

    def __call__(self, configuration: Configuration, label: str) -> dict:
        bits = self.problem.cost_model.cost(configuration).values["weight_bits"]
        point = FrontPoint(-1, {"weight_bits": bits}, configuration)  # no trial: number -1
        losses = {point.number: self.validation.loss(configuration)}
        row: dict[str, Any] = {"run": label, "evaluated": 1, "front": "-", "seconds": "-"}
        row |= _choices([point], losses, self.test, self.float_bits)
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


def _cell(point: dict | None) -> str:
    """A chosen point as a table cell: compression (validation / test loss +- its error)."""
    if point is None:
        return "none"
    (validation, v_error), (test, t_error) = point["validation"], point["test"]
    return f"{point['x']:.2f}x ({validation:.2f} ± {v_error:.2f} / {test:.2f} ± {t_error:.2f})"


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
    on = "the search subset" if args.choose_on_subset else "the whole validation split"
    for guard, rule in GUARDS.items():
        print(
            f"\nChosen on {on} with {RULES[guard]}; cells: compression (validation / test "
            "loss, points, +- standard error)\n"
            "\n| run | evaluated | front | x at <= 0.5 pt | x at <= 0.2 pt | s |"
            "\n|---|---|---|---|---|---|"
        )
        for row in rows:
            cells = [_cell(row[f"{rule}@{budget * 100:g}"]) for budget in BUDGETS]
            print(
                f"| {row['run']} | {row['evaluated']} | {row['front']} | {cells[0]} "
                f"| {cells[1]} | {row['seconds']} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
