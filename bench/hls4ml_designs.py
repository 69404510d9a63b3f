"""The cost model against real hls4ml designs: error per resource and latency.

Prices every row of a CSV in the wa-hls4ml format (``model_string``, ``prec``, ``rf``,
``strategy``, ``TargetClockPeriod_hls``, ``WorstLatency_hls``, ``BRAM_18K_hls``, ``DSP_hls``,
``FF_hls``, ``LUT_hls``; see ``hardware_models/_designs.py``) with ``AcceleratorModel`` and
prints, per metric, MAPE, median APE, median ratio (predicted / reported), Spearman and the
share of rows predicted exactly (BRAM_18K to the half block):

* ``shipped``: the shipped coefficients (``hardware_models/data/hls4ml_coefficients.json``);
* ``grouped CV``: coefficients fitted on the same file without the row's network
  (``GroupKFold(5)`` on ``model_string``), so no row is scored by a fit that saw it;
* ``rule4ml`` (with ``--rule4ml VENV``): rule4ml's pre-trained predictors, run in their own
  virtual environment through a subprocess (rule4ml is GPL-3.0 and needs TensorFlow and
  torch-geometric; the project does not depend on it), on the rows inside its stated domain.

``--bram-residual`` asks how much of the BRAM_18K the counting rules miss one learned model
recovers from what a row records: a gradient-boosted classifier of the residual (reported minus
counted, in half blocks) on the layers' shapes, the reuse factors hls4ml uses and the weight
width, scored by ``GroupKFold(5)`` on the network, prints the share of rows then equal.

``--write-coefficients PATH`` fits on every row of ``--rows`` and writes the coefficients with
their provenance (how the shipped file is made). The last line printed is one JSON object of
the error figures.

Usage::

    python bench/hls4ml_designs.py --rows /work/shared/hls4ml_designs/dense2_sample.csv
    python bench/hls4ml_designs.py --rows ROWS.csv --rule4ml /work/venv-rule4ml
    python bench/hls4ml_designs.py --rows /work/shared/hls4ml_designs/dense2_sample.csv \\
        --write-coefficients hardware_models/data/hls4ml_coefficients.json
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hardware_models._designs import (  # noqa: E402
    METRICS,
    DesignRow,
    cross_validate,
    design_model,
    fit_coefficients,
    price_rows,
    read_design_rows,
    summarize,
)

RULE4ML_SCRIPT = r"""
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras
from keras.layers import Input, Dense, Activation
from rule4ml.models.wrappers import MultiModelWrapper

rows = json.load(open(sys.argv[1]))
wrapper = MultiModelWrapper()
wrapper.load_default_models()
out = []
for row in rows:
    widths = row["widths"]
    layers = [Input(shape=(widths[0],))]
    for i, n in enumerate(widths[1:]):
        layers.append(Dense(n))
        if i < len(widths) - 2:
            layers.append(Activation("relu"))
    model = keras.Sequential(layers)
    model.build((None, widths[0]))
    config = {"board": row["board"], "model": {"strategy": row["strategy"],
              "precision": f"ap_fixed<{row['bits']}, 1>", "reuse_factor": row["reuse"]}}
    frame = wrapper.predict([model], hls_configs=[config], hls4ml_versions=["0.8.1"],
                            vivado_versions=["2023.2"])
    first = frame.iloc[0]
    out.append({k: float(first[k]) for k in ("LUT", "FF", "DSP", "BRAM", "CYCLES")})
print(json.dumps(out))
"""

RULE4ML_DOMAIN = {
    "strategy": ("latency", "resource"),
    "board": ("pynq-z2", "zcu102", "alveo-u200", "alveo-u250"),
    "vivado_version": "2019.1 .. 2024.2",
    "hls4ml_version": ("0.8.1", "1.1.0"),
    "layers": ("dense", "conv1d", "conv2d", "pooling", "add", "activations"),
}
"""rule4ml 0.2.0's stated domain, read from its shipped estimators' categorical maps
(``rule4ml/models/weights/v2/gnn/*.config.json``): strategies, boards, tool and hls4ml
versions, layer types. No numeric range (widths, reuse factors) is stated there. The
wa-hls4ml rows (resource, Alveo U250, Vitis 2023.2) are inside it."""


def inside_rule4ml_domain(row: DesignRow) -> bool:
    """Whether a row lies inside rule4ml's stated domain (:data:`RULE4ML_DOMAIN`)."""
    return row.strategy in RULE4ML_DOMAIN["strategy"] and row.part.startswith("xcu2")


def run_rule4ml(venv: Path, rows: list[DesignRow]) -> list[dict[str, float]] | None:
    """rule4ml's predictions of ``rows`` (``LUT``, ``FF``, ``DSP``, ``BRAM_18K``, ``cycles``)."""
    python = venv / "bin" / "python"
    payload = [
        {
            "widths": list(r.widths),
            "strategy": r.strategy,
            "bits": r.weight_bits,
            "reuse": r.reuse,
            "board": "alveo-u250" if r.part.startswith("xcu250") else "alveo-u200",
        }
        for r in rows
    ]
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "rows.json"
        script = Path(folder) / "predict.py"
        data.write_text(json.dumps(payload))
        script.write_text(RULE4ML_SCRIPT)
        done = subprocess.run(
            [str(python), str(script), str(data)],
            capture_output=True,
            text=True,
            check=False,
            env={
                "TF_CPP_MIN_LOG_LEVEL": "3",
                "CUDA_VISIBLE_DEVICES": "",
                "PATH": "/usr/bin",
                "OMP_NUM_THREADS": "1",
            },
        )
    if done.returncode != 0:
        print(f"rule4ml failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    raw = json.loads(done.stdout.strip().splitlines()[-1])
    keys = {"LUT": "LUT", "FF": "FF", "DSP": "DSP", "BRAM_18K": "BRAM", "cycles": "CYCLES"}
    out = []
    for item in raw:
        lowered = {k.upper(): v for k, v in item.items()}
        out.append({m: lowered.get(k, math.nan) for m, k in keys.items()})
    return out


def render(title: str, table: dict[str, dict[str, float]], markdown: bool) -> str:
    columns = ["metric", "rows", "MAPE %", "median APE %", "median ratio", "Spearman", "equal %"]
    lines = [title]
    cells = [
        [
            metric,
            str(v["rows"]),
            f"{v['mape']:.1f}",
            f"{v['median_ape']:.1f}",
            f"{v['median_ratio']:.3f}",
            f"{v['spearman']:.3f}",
            f"{100 * v['equal']:.1f}",
        ]
        for metric, v in table.items()
    ]
    if markdown:
        lines += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(row) + " |" for row in cells]
    else:
        widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
        lines.append("  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True)))
        lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def bootstrap_interval(
    rows: list[DesignRow], predictions: list[dict[str, float]], metric: str, seed: int = 0
) -> tuple[float, float]:
    """95 % interval of the MAPE by resampling networks (2,000 draws)."""
    import numpy as np

    networks = sorted({r.network for r in rows})
    rng = np.random.default_rng(seed)
    by_net: dict[str, list[float]] = {n: [] for n in networks}
    for row, pred in zip(rows, predictions, strict=True):
        y = row.reported[metric]
        if y > 0:
            by_net[row.network].append(abs(pred[metric] - y) / y)
    draws = []
    for _ in range(2000):
        pick = rng.choice(networks, size=len(networks))
        errors = [e for n in pick for e in by_net[n]]
        if errors:
            draws.append(100 * float(np.mean(errors)))
    return float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))


def bram_learned_correction(rows: list[DesignRow]) -> float:
    """Share of rows whose BRAM_18K a learned correction of the counted value makes equal.

    scikit-learn's ``HistGradientBoostingClassifier`` (seed 0) predicts the residual (reported
    minus counted, in half blocks) from what a row records and what the model derives from it:
    weight bits, requested reuse, layer count; for the first and the last layer its inputs,
    outputs, the reuse factor hls4ml uses, weights a ROM word, weights, reuse over inputs,
    ``outidx`` bits, counted BRAM_18K and whether its ROM is wide; the largest and smallest
    weights a word, the counted total and the layers counted in block RAM. Each row is
    predicted by a model fitted without its network (``GroupKFold(5)``). One model's score:
    what it recovers, not a bound on what any model could.
    """
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import GroupKFold

    from hardware_models import DatapathConstants

    wide = DatapathConstants().bram_min_multipliers

    def features(row: DesignRow) -> tuple[list[float], float]:
        model, config = design_model(row)
        per_layer = list(model.cost(config).per_layer.values())
        layers = []
        shapes = zip(row.widths[:-1], row.widths[1:], strict=True)
        for (n_in, n_out), cost in zip(shapes, per_layer, strict=True):
            used, words = cost["reuse_factor"], cost["multipliers"]
            outscale = max(used / n_in, 1.0)
            layers.append(
                [n_in, n_out, used, words, n_in * n_out, used / n_in,
                 math.ceil(math.log2(outscale)), cost["bram"], float(words >= wide)]
            )  # fmt: skip
        counted = sum(layer[7] for layer in layers)
        per_word = [layer[3] for layer in layers]
        in_bram = sum(layer[7] > 0.5 for layer in layers)
        summary = [max(per_word), min(per_word), counted, in_bram]
        return [
            row.weight_bits,
            row.reuse,
            len(layers),
            *layers[0],
            *layers[-1],
            *summary,
        ], counted

    table = [features(row) for row in rows]
    x = np.array([f for f, _ in table])
    reported = np.array([round(2 * row.reported["BRAM_18K"]) for row in rows])
    residual = reported - np.array([round(2 * c) for _, c in table])
    groups = np.unique([r.network for r in rows], return_inverse=True)[1]
    predicted = np.zeros_like(residual)
    for train, test in GroupKFold(5).split(x, residual, groups):
        model = HistGradientBoostingClassifier(max_iter=200, random_state=0)
        predicted[test] = model.fit(x[train], residual[train]).predict(x[test])
    return float(np.mean(predicted == residual))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=Path, required=True, help="CSV in the wa-hls4ml format")
    parser.add_argument("--part", default="xcu250", help="FPGA part of the rows")
    parser.add_argument("--no-cv", action="store_true", help="skip the grouped fits")
    parser.add_argument("--interval", action="store_true", help="95 %% interval of each MAPE")
    parser.add_argument("--rule4ml", type=Path, help="virtual environment with rule4ml")
    parser.add_argument(
        "--rule4ml-rows",
        type=int,
        default=200,
        help="rows (a seeded sample) rule4ml predicts: about 2 s each",
    )
    parser.add_argument("--write-coefficients", type=Path, help="fit on --rows, write here")
    parser.add_argument("--source", help="where the rows come from, for the provenance")
    parser.add_argument(
        "--bram-residual",
        action="store_true",
        help="BRAM_18K equal after a learned correction (grouped CV)",
    )
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)

    rows = read_design_rows(args.rows, part=args.part)
    print(f"{args.rows}: {len(rows)} rows, {len({r.network for r in rows})} networks")
    if args.write_coefficients:
        command = (
            f"python bench/hls4ml_designs.py --rows {args.rows} "
            f"--write-coefficients {args.write_coefficients}"
        )
        source = f"{args.source} ({args.rows})" if args.source else str(args.rows)
        if args.source:
            command += f" --source {args.source!r}"
        fitted = fit_coefficients(rows, source=source, command=command)
        fitted.to_json(args.write_coefficients)
        print(f"wrote {args.write_coefficients}")
    figures: dict[str, dict] = {}
    shipped = price_rows(rows)
    figures["shipped"] = summarize(rows, shipped)
    print(render("\nshipped coefficients", figures["shipped"], args.markdown))
    if args.interval:
        for metric in METRICS:
            lo, hi = bootstrap_interval(rows, shipped, metric)
            figures["shipped"][metric]["mape_95"] = [lo, hi]
            print(f"  {metric}: MAPE 95 % interval {lo:.1f} - {hi:.1f} (networks resampled)")
    if args.bram_residual:
        share = bram_learned_correction(rows)
        figures["bram_learned_correction"] = {"equal": share}
        print(
            f"\nBRAM_18K equal with a learned correction (grouped CV): {100 * share:.1f} % "
            f"(counted alone: {100 * figures['shipped']['BRAM_18K']['equal']:.1f} %)"
        )
    if not args.no_cv and len({r.network for r in rows}) >= 5:
        figures["grouped_cv"] = summarize(rows, cross_validate(rows))
        print(
            render(
                "\ngrouped CV (fitted without the row's network)",
                figures["grouped_cv"],
                args.markdown,
            )
        )
    if args.rule4ml:
        inside = [r for r in rows if inside_rule4ml_domain(r)]
        print(f"\nrule4ml: {len(inside)} of {len(rows)} rows inside its stated domain")
        if len(inside) > args.rule4ml_rows:
            import random

            inside = random.Random(0).sample(inside, args.rule4ml_rows)
            print(f"rule4ml: a seeded sample of {len(inside)} of them")
        if inside:
            predicted = run_rule4ml(args.rule4ml, inside)
            if predicted is not None:
                figures["rule4ml"] = summarize(inside, predicted)
                figures["model_on_rule4ml_rows"] = summarize(inside, price_rows(inside))
                print(render("rule4ml", figures["rule4ml"], args.markdown))
                print(
                    render(
                        "\nshipped model, same rows",
                        figures["model_on_rule4ml_rows"],
                        args.markdown,
                    )
                )
    last = dict(figures.pop("shipped"))
    last.update(figures)
    print(json.dumps(_json_ready(last)))
    return 0


def _json_ready(value: object) -> object:
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, float):
        return round(value, 4)
    return value


if __name__ == "__main__":
    raise SystemExit(main())
