"""The HTML report at scale: build time, file size, and the first draw in headless Chromium.

1. The LeNet example (`examples/lenet_digits.yaml`, 300 trials; run first if its storage
   holds fewer): `write_report` timed (report.html and front_layers.csv), the file's size.
2. The same study grown to N trials (default 10,000) by synthesis from its real space:
   points drawn uniformly from the space and decoded into real configurations; weight bits
   (and any hardware metric) priced exactly by the study's cost model; accuracy from an
   additive model of measured single-layer drops (each (layer, format) the points use is
   applied alone to the float model and scored exactly on the validation split), scaled
   by a factor fitted on the real trials, plus noise. Running 10,000 real trials is what
   this saves. Same measures as 1.
3. Each report opened in a fresh headless Chromium: milliseconds from navigation start to
   the default view's first complete draw (Plotly's draw promise, then the next animation
   frame), cold (first load) and warm (median of the next loads), with WebGL (SwiftShader,
   software) and without (`--disable-3d-apis`: the SVG fallback).

Usage::

    python bench/report.py [--example examples/lenet_digits.yaml] [--trials 10000]
        [--loads 3] [--screenshot docs/report.png] [--keep DIR] [--budget N] [--output DIR]
        [--plotly-js plotly-gl2d.min.js]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import optuna

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dse import load_study, run_study  # noqa: E402
from dse.storage import make_storage, storage_url  # noqa: E402
from dse.study import Problem, collect_result, reference_point  # noqa: E402
from evaluators import AccuracyEvaluator, Configuration, LayerConfig  # noqa: E402
from results import StudyResult, TrialRecord, write_report  # noqa: E402

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)
WEBGL = ("--use-angle=swiftshader", "--enable-unsafe-swiftshader")
NO_WEBGL = ("--disable-3d-apis",)


def load_example(
    path: str, *, budget: int | None = None, output: Path | None = None
) -> tuple[StudyResult, Problem]:
    """The example's study as its storage holds it (run to its budget first if needed).

    Args:
        path: the study file.
        budget: the trials to reach instead of the file's budget.
        output: the folder to run it in instead of the file's `study.output`.
    """
    config = load_study(path)
    study_section = config.study
    if output is not None:
        study_section = study_section.model_copy(update={"output": str(output)})
    optimizer = config.optimizer
    if budget is not None:
        optimizer = optimizer.model_copy(update={"budget": budget})
    config = config.model_copy(update={"study": study_section, "optimizer": optimizer})
    storage = make_storage(storage_url(config))
    names = [s.study_name for s in storage.get_all_studies()]
    done = 0
    if config.study.name in names:
        study = optuna.load_study(study_name=config.study.name, storage=storage)
        done = sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    if done < config.optimizer.budget:
        print(f"running {path} ({done} of {config.optimizer.budget} trials stored)")
        run_study(config, path)
    problem = Problem.from_config(config, path)
    study = optuna.load_study(study_name=config.study.name, storage=storage)
    return collect_result(study, problem, budget=config.optimizer.budget), problem


def _parts(configuration: Configuration) -> list[tuple[str, LayerConfig]]:
    """A configuration's single-tensor pieces: each layer's weights, and its activations
    with their accumulator."""
    parts = []
    for name in configuration:
        layer = configuration[name]
        if layer.weights is not None:
            parts.append((name, LayerConfig(weights=layer.weights)))
        if layer.activations is not None:
            parts.append(
                (name, LayerConfig(activations=layer.activations, accumulator=layer.accumulator))
            )
    return parts


def synthesize(result: StudyResult, problem: Problem, n: int, seed: int = 0) -> StudyResult:
    """`result` grown to `n` evaluated trials drawn from its space (see the module docstring)."""
    space, cost_model = result.space, problem.cost_model
    evaluator = AccuracyEvaluator(problem.workload, split="validation")
    reference = result.reference_accuracy
    drops: dict[tuple[str, LayerConfig], float] = {}

    def additive_drop(configuration: Configuration) -> float:
        total = 0.0
        for part in _parts(configuration):
            if part not in drops:
                alone = Configuration.of({part[0]: part[1]})
                drops[part] = reference - evaluator.score(alone).accuracy
            total += drops[part]
        return total

    started = time.perf_counter()
    real = [r for r in result.records if r.evaluated and r.configuration is not None]
    predicted = np.array([additive_drop(r.configuration) for r in real])
    observed = np.array([reference - r.metrics["accuracy"] for r in real])
    scale = float(predicted @ observed / (predicted @ predicted)) if len(real) else 1.0
    residual = observed - scale * predicted
    noise = float(np.std(residual)) if len(real) > 1 else 0.01
    correlation = float(np.corrcoef(predicted, observed)[0, 1]) if len(real) > 2 else math.nan
    rng = np.random.default_rng(seed)
    floor = 1.0 / 10  # chance on ten classes
    names = result.objective_names
    records: list[TrialRecord] = []
    for number, params in enumerate(space.sample(n, seed)):
        configuration = space.decode(params)
        drop = scale * additive_drop(configuration) + rng.normal(0.0, noise * 0.5)
        accuracy = float(np.clip(reference - max(drop, -0.01), floor, 1.0))
        metrics = {"accuracy": accuracy, "accuracy_drop": reference - accuracy}
        metrics |= {k: float(v) for k, v in cost_model.cost(configuration).values.items()}
        constraints = {}
        for c in result.constraints:
            if c.max is not None:
                constraints[f"{c.name}<={c.max:g}"] = metrics[c.name] - c.max
            if c.min is not None:
                constraints[f"{c.name}>={c.min:g}"] = c.min - metrics[c.name]
        records.append(
            TrialRecord(
                number=number,
                state="COMPLETE",
                params=params,
                configuration=configuration,
                config_hash=configuration.digest(),
                values=tuple(metrics[o] for o in names),
                metrics=metrics,
                constraints=constraints,
                fidelity="exact:validation",
                duration_s=0.0,
                evaluation_s=0.0,
                worker="synthetic:0",
            )
        )
    print(
        f"synthesized {n} trials in {time.perf_counter() - started:.1f} s: {len(drops)} "
        f"single-layer scorings; on the {len(real)} real trials the additive model "
        f"(scale {scale:.2f}) correlates {correlation:.3f} with the measured drop, "
        f"noise sd {noise:.4f}"
    )
    return dataclasses.replace(
        result,
        name=f"{result.name}_synthetic_{n}",
        records=tuple(records),
        reference_point=reference_point(problem),
        rescored={},
        budget=n,
    )


def build(result: StudyResult, folder: Path, study_file: str) -> tuple[float, int, int]:
    """Seconds to write the report, its size in bytes, the front's size."""
    started = time.perf_counter()
    path = write_report(result, folder, study_file=study_file)
    seconds = time.perf_counter() - started
    return seconds, path.stat().st_size, len(result.front)


def start_chromium(flags: tuple[str, ...]) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in (*FLAGS, *flags):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='dse-bench-')}")
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(service=service, options=options)


def chromium_cpu_seconds(driver: Any) -> float:
    """CPU seconds (user + system) used so far by every process of the driven Chromium:
    what a page costs whatever else the machine runs (Linux /proc)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        ticks[pid] = int(fields[11]) + int(fields[12])
    tree, frontier = set(), {driver.service.process.pid}
    while frontier:
        tree |= frontier
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - tree
    return sum(ticks.get(pid, 0) for pid in tree) / os.sysconf("SC_CLK_TCK")


def first_draws(
    path: Path, flags: tuple[str, ...], loads: int
) -> tuple[list[float], list[float], bool]:
    """Per load: milliseconds from navigation to the first complete draw, and the CPU
    seconds Chromium spent on it; whether WebGL drew the trials."""
    driver = start_chromium(flags)
    try:
        driver.get("about:blank")  # the browser's own start is not the page's
        time.sleep(1.0)
        times, cpu, gl = [], [], False
        for _ in range(loads):
            before = chromium_cpu_seconds(driver)
            driver.get(path.resolve().as_uri())
            deadline = time.monotonic() + 120
            while not driver.execute_script(
                "return window.dseReport && window.dseReport.firstDraw"
            ):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{path}: no first draw in 120 s")
                time.sleep(0.02)
            times.append(float(driver.execute_script("return window.dseReport.firstDraw")))
            cpu.append(chromium_cpu_seconds(driver) - before)
            gl = bool(driver.execute_script("return window.dseReport.glScatter"))
            errors = driver.execute_script("return window.dseReport.errors")
            if errors:
                raise RuntimeError(f"{path}: page errors {errors}")
        return times, cpu, gl
    finally:
        driver.quit()


def swap_plotly(path: Path, bundle: Path) -> Path:
    """A copy of a report with another Plotly bundle inlined (measuring a partial bundle;
    views whose traces it lacks do not draw)."""
    from plotly.offline import get_plotlyjs

    html = path.read_text(encoding="utf-8")
    full = get_plotlyjs()
    if full not in html:
        raise RuntimeError(f"{path}: the plotly package's bundle is not inlined")
    copy = path.with_name(f"{path.stem}_{bundle.stem}.html")
    copy.write_text(html.replace(full, bundle.read_text(encoding="utf-8")), encoding="utf-8")
    return copy


def screenshot(path: Path, output: Path) -> None:
    """The report's front with a front point opened, for the README."""
    driver = start_chromium(WEBGL)
    try:
        driver.set_window_size(1400, 1250)
        driver.get(path.resolve().as_uri())
        while not driver.execute_script("return document.body.getAttribute('data-front-drawn')"):
            time.sleep(0.05)
        driver.execute_script(
            "var pts = window.dseReport.info.points; var keys = Object.keys(pts);"
            "keys.sort(function (a, b) {"
            "  return pts[b].values.accuracy - pts[a].values.accuracy; });"
            "window.dseReport.select(Number(keys[Math.min(2, keys.length - 1)]));"
        )
        time.sleep(1.0)
        output.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(output))
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", default="examples/lenet_digits.yaml")
    parser.add_argument("--trials", type=int, default=10_000, help="synthesized trials")
    parser.add_argument("--loads", type=int, default=3, help="page loads per browser mode")
    parser.add_argument("--screenshot", type=Path, default=None, help="PNG of the real report")
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep the reports in")
    parser.add_argument("--budget", type=int, default=None, help="real trials (default: file's)")
    parser.add_argument(
        "--plotly-js",
        type=Path,
        default=None,
        help="also time the first draw with this Plotly bundle inlined instead (WebGL)",
    )
    parser.add_argument(
        "--output", type=Path, default=None, help="run the example here (default: its output)"
    )
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="dse-report-bench-"))
    result, problem = load_example(args.example, budget=args.budget, output=args.output)
    cases = [(f"{result.complete} trials (real)", result)]
    if args.trials:
        cases.append(
            (f"{args.trials} trials (synthesized)", synthesize(result, problem, args.trials))
        )
    rows = []
    for label, case in cases:
        out = folder / case.name
        seconds, size, front = build(case, out, args.example)
        row = {"case": label, "front": front, "build_s": seconds, "size_mb": size / 1e6}
        for mode, flags in (("webgl", WEBGL), ("svg", NO_WEBGL)):
            times, cpu, gl = first_draws(out / "report.html", flags, args.loads)
            row[f"{mode}_cold_ms"] = times[0]
            row[f"{mode}_warm_ms"] = statistics.median(times[1:]) if len(times) > 1 else math.nan
            row[f"{mode}_cold_cpu_s"] = cpu[0]
            row[f"{mode}_warm_cpu_s"] = statistics.median(cpu[1:]) if len(cpu) > 1 else math.nan
            row[f"{mode}_trials_in_gl"] = gl
        if args.plotly_js is not None:
            swapped = swap_plotly(out / "report.html", args.plotly_js)
            times, cpu, gl = first_draws(swapped, WEBGL, args.loads)
            row["other_bundle_cold_ms"] = times[0]
            row["other_bundle_warm_ms"] = (
                statistics.median(times[1:]) if len(times) > 1 else math.nan
            )
        rows.append(row)
        print(row, flush=True)
        if args.screenshot is not None and case is result:
            screenshot(out / "report.html", args.screenshot)
    print()
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        "| case | front points | build (s) | report.html (MB) | first draw, WebGL: cold / "
        "warm, ms (Chromium CPU s) | first draw, no WebGL (SVG): cold / warm, ms (CPU s) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        cells = []
        for mode in ("webgl", "svg"):
            cells.append(
                f"{r[f'{mode}_cold_ms']:.0f} / {r[f'{mode}_warm_ms']:.0f} "
                f"({r[f'{mode}_cold_cpu_s']:.1f} / {r[f'{mode}_warm_cpu_s']:.1f})"
            )
        kind = " scattergl" if r["webgl_trials_in_gl"] else " SVG"
        print(
            f"| {r['case']} | {r['front']} | {r['build_s']:.2f} | {r['size_mb']:.1f} | "
            f"{cells[0]}{kind} | {cells[1]} |"
        )
    if args.plotly_js is not None:
        print(f"with {args.plotly_js.name} inlined instead of the plotly package's bundle:")
        for r in rows:
            print(
                f"  {r['case']}: first draw, WebGL, cold / warm "
                f"{r['other_bundle_cold_ms']:.0f} / {r['other_bundle_warm_ms']:.0f} ms"
            )
    print(f"reports in {folder}")


if __name__ == "__main__":
    main()
