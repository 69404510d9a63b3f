"""The README.md of an export folder: what was exported, and what has no hls4ml equivalent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from results._hls_types import QUANTIZATION

__all__ = ["render_readme"]


def render_readme(manifest: Mapping[str, Any]) -> str:
    """Markdown describing an export, from its `export.json` content."""
    hls = manifest.get("hls4ml")
    objectives = ", ".join(f"{k} = {v:.6g}" for k, v in manifest["objectives"].items())
    vectors = manifest["test_vectors"]
    accuracy = vectors.get("dse_accuracy")
    fmt = manifest["input_format"]
    lines = [
        f"# Trial {manifest['trial']} of study `{manifest['study']}`",
        "",
        f"Exported by dse {manifest['versions'].get('dse')} "
        f"(hls4ml {manifest['versions'].get('hls4ml') or 'not installed'}) from "
        f"`{manifest.get('study_file')}`, data fingerprint `{manifest['data_fingerprint']}`, "
        f"configuration `{manifest['config_hash']}`. Objectives: {objectives}.",
        "",
        "| file | what |",
        "|---|---|",
        "| `configuration.json` | the per-layer formats (`evaluators.Configuration.from_dict`) |",
        "| `state_dict.pt` | the approximated weights, float biases (load into the study's "
        "model; `torch.load(weights_only=True)`) |",
        "| `weights.h` | every layer's weights and biases as integers of their formats; shared "
        "weights as codebooks and packed indices (shapes and scales in the tag comments) |",
        f"| `test_vectors.npz` | {vectors['samples']} samples of the {vectors['split']} split: "
        "`x` (cast to the input type), `y`, dse's `logits` |",
    ]
    if hls is not None:
        lines += [
            "| `hls4ml/` | the hls4ml project (Vivado backend), testbench data in "
            "`hls4ml/tb_data/` |",
            "| `hls4ml_model.fml` | hls4ml's own serialization of that project "
            "(`hls4ml.utils.serialization.deserialize_model`) |",
            "| `hls4ml_config.yml` | hls4ml's configuration, to rebuild the project by hand |",
        ]
    lines += [
        "| `export.json` | all of the above as data (formats, types, versions) |",
        "",
        "## Input",
        "",
        f"The network input is cast to `ap_fixed<{fmt['word_length']},{fmt['integer_bits']},"
        f"{QUANTIZATION[fmt['rounding']]},AP_SAT>` ({manifest['input_bits_from']}), after the "
        f"normalization `{_normalization(manifest['normalization'])}`. The test vectors are "
        "already cast; dse's accuracy on them"
        + (f" is {accuracy:.4f}." if accuracy is not None else " is not known (no samples)."),
        "",
    ]
    lines += _formats_section(manifest)
    if hls is not None:
        lines += _project_section(manifest, hls)
    else:
        lines += [
            "## No hls4ml project",
            "",
            "Some format has no type an hls4ml C simulation computes, so this export holds the "
            "configuration, the weights and the C header only; it is **not verified**:",
            "",
            *[f"- {reason}" for reason in manifest["unsupported"]],
            "",
        ]
    return "\n".join(lines)


def _normalization(rule: Mapping[str, Any]) -> str:
    if not rule.get("mean"):
        return "none"
    return f"(x - {rule['mean']}) / {rule['std']} per channel"


def _formats_section(manifest: Mapping[str, Any]) -> list[str]:
    return [
        "## Formats without an hls4ml equivalent",
        "",
        "- Fixed point is `ap_fixed<W,I,Q,O>` with dse's modes: `nearest_even` = `AP_RND_CONV`, "
        "`nearest_up` = `AP_RND`, `truncate` = `AP_TRN`; `saturate` = `AP_SAT`, "
        "`wrap` = `AP_WRAP`.",
        "- Shared weights have no hls4ml type: the project holds every weight expanded to its "
        "centroid at the codebook's `ap_fixed` width (the same products); `weights.h` keeps "
        "the codebooks and the packed indices a weight-sharing datapath reads.",
        "- Custom floats: hls4ml's `ap_float` needs 4..16 exponent bits and a Vivado C model, "
        "so a point with one is exported as configuration, weights and C header only, marked "
        "unverified.",
        "- A layer with an accumulator format sums in it (`accum_t`), its biases cast to it "
        "(`bias_t` = `accum_t`); without one, `bias_t` holds the float32 biases and `accum_t` "
        "every product and sum exactly: the exact sum dse casts (`evaluators.QuantizedOutput`). "
        "Exact can be wide (a decayed bias of 1e-31 takes 100+ fraction bits): give every "
        "layer an accumulator format for a design to build.",
        "- A layer without an output format keeps float32 outputs in dse; the project stands "
        "for them with a 32-bit `ap_fixed`, which is close but not bit-exact.",
        "- A residual addition takes its output format (without one, a type holding the exact "
        "sum); an average pooling sums its window in an `accum_t` with `F + ceil(log2 N) + 1` "
        "fraction bits (`F` its input's, `N` the window), so hls4ml's truncating division "
        "never moves the one rounding to its output format. `nn.Identity` (a folded "
        "BatchNorm, a plain shortcut) is traced through and an adaptive average pooling is "
        "exported as the plain pooling it equals: hls4ml has no handler for either.",
        "",
    ]


def _project_section(manifest: Mapping[str, Any], hls: Mapping[str, Any]) -> list[str]:
    settings = hls["settings"]
    lines = [
        "## The hls4ml project",
        "",
        f"Part `{settings['Part']}` (add the package and speed grade before synthesis), clock "
        f"period {settings['ClockPeriod']} ns, `{settings['IOType']}`, strategy "
        f"`{manifest['hardware']['strategy']}`, input `{hls['input_type']}`.",
        "",
        "| layer | weight_t | bias_t | accum_t | result_t | reuse factor |",
        "|---|---|---|---|---|---|",
    ]
    for name, layer in hls["layers"].items():
        lines.append(
            f"| {name} | `{layer['weight']}` | `{layer['bias']}` | `{layer['accum']}` | "
            f"`{layer['result']}` | {layer['reuse_factor']} |"
        )
    lines += [
        "",
        "ReLU, max pooling and flatten keep their input's type (they select values and never "
        "round). hls4ml's `RemoveTransposeBeforeFlatten` reorders the first dense layer's "
        "weights to its channels-last input: the sum is the same in any order with `AP_WRAP` "
        "accumulators.",
        "",
    ]
    if hls["exact"]:
        lines += [
            "Every format is expressed exactly: the C simulation must match dse bit for bit. "
            "Check it with",
            "",
            "    python -m dse verify <this folder>",
            "",
        ]
    else:
        lines += [
            "Not bit-exact with dse (verification reports the differences):",
            "",
            *[f"- {note}" for note in hls["notes"]],
            "",
        ]
    lines += [
        "To rebuild the project by hand (`hls4ml_config.yml` holds the same settings):",
        "",
        "```python",
        "import hls4ml",
        "from hls4ml.utils.serialization import deserialize_model",
        "",
        'graph = deserialize_model("hls4ml_model.fml", output_dir=".")',
        "graph.compile()  # g++ C simulation; graph.build() runs Vivado HLS",
        "```",
        "",
    ]
    return lines
