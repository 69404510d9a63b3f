"""Exporting one point: fixed-point, shared-weight and custom-float configurations, the C
header's round trip, a residual network (identities, an addition, adaptive average pooling)
compiled and held against dse, and the points that cannot be exported."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from torch import nn

from evaluators import (
    Add,
    Configuration,
    Dataset,
    DataSplit,
    FixedPoint,
    FloatFormat,
    LayerConfig,
    WeightFormat,
    WeightSharing,
    Workload,
    apply,
    approximate_weights,
)
from hardware_models import HardwareSettings
from results import (
    ApFixed,
    ResultsError,
    StudyResult,
    TrialRecord,
    export_point,
    read_c_header,
    read_manifest,
    verify_export,
)
from search_spaces import LayerChoices, SearchSpace, WeightChoices
from tests.toolchain import require_hls4ml

HARDWARE = HardwareSettings(
    part="xck26", clock_mhz=200.0, reuse_factor={"conv1": 9, "fc1": 64}, strategy="resource"
)
ACTIVATION_RANGE = {"conv1": 8.0, "conv2": 16.0, "fc1": 16.0, "fc2": 16.0, "fc3": 32.0}


def _configuration(workload: Workload, weights: dict[str, WeightFormat]) -> Configuration:
    """Every layer: the given weight format (default 6-bit fixed point), 10-bit truncated
    activations, an 18-bit wrapping accumulator."""
    layers = {}
    for name, module in workload.layers().items():
        peak = float(module.weight.abs().max())
        fmt = weights.get(name, FixedPoint.for_range(peak, 6))
        act = FixedPoint.for_range(ACTIVATION_RANGE[name], 10, rounding="truncate")
        acc = FixedPoint.for_range(
            2 * ACTIVATION_RANGE[name], 18, rounding="truncate", overflow="wrap"
        )
        layers[name] = LayerConfig(weights=fmt, activations=act, accumulator=acc)
    return Configuration.of(layers)


def _result(
    model: nn.Module,
    configuration: Configuration,
    *,
    last: str = "fc3",
    hardware: HardwareSettings = HARDWARE,
) -> StudyResult:
    """A study whose trial 0 is `configuration`; trial 1 failed, trial 2 is infeasible."""
    space = SearchSpace.from_model(model, {last: LayerChoices(weights=WeightChoices(bits=(4, 8)))})
    records = (
        TrialRecord(
            0,
            "COMPLETE",
            configuration=configuration,
            config_hash=configuration.digest(),
            values=(0.95, 1000.0),
            metrics={"accuracy": 0.95, "lut": 1000.0},
        ),
        TrialRecord(1, "FAIL", fail_reason="out of memory"),
        TrialRecord(
            2,
            "COMPLETE",
            configuration=configuration,
            values=(0.9, 10.0),
            constraints={"utilization<=1": 0.5},
        ),
    )
    return StudyResult(
        name="export_test",
        objective_names=("accuracy", "lut"),
        directions=("maximize", "minimize"),
        records=records,
        space=space,
        reference_accuracy=0.97,
        hardware=hardware,
    )


def _export(workload: Workload, configuration: Configuration, folder: Path):
    result = _result(workload.model, configuration)
    return export_point(
        result, 0, workload.model, workload.data, folder, study_file="study.yaml", samples=50
    )


def _header_matches(export, workload: Workload, configuration: Configuration) -> None:
    """weights.h decodes to the approximated weights and the biases as the hardware holds
    them."""
    header = read_c_header(export.files["header"])
    weights = approximate_weights(workload.model, configuration)
    for name, module in workload.layers().items():
        np.testing.assert_array_equal(header[f"{name}.weight"], weights[name].double().numpy())
        acc = configuration[name].accumulator
        bias = module.bias.detach().double()
        if acc is not None:  # every bias on the accumulator's grid, within a step
            assert np.all(np.abs(header[f"{name}.bias"] - bias.numpy()) <= acc.step)
            scaled = header[f"{name}.bias"] / acc.step
            np.testing.assert_array_equal(scaled, np.round(scaled))


def test_fixed_point_export_writes_every_file(lenet_workload: Workload, tmp_path: Path) -> None:
    require_hls4ml()
    configuration = _configuration(lenet_workload, {})
    export = _export(lenet_workload, configuration, tmp_path / "fixed")
    assert export.has_project and export.exact and export.samples == 50
    folder = export.folder
    for name in (
        "configuration.json",
        "state_dict.pt",
        "weights.h",
        "test_vectors.npz",
        "hls4ml_config.yml",
        "hls4ml_model.fml",
        "README.md",
        "export.json",
        "hls4ml/firmware/parameters.h",
        "hls4ml/tb_data/tb_input_features.dat",
        "hls4ml/tb_data/tb_output_predictions.dat",
    ):
        assert (folder / name).exists(), name
    saved = json.loads((folder / "configuration.json").read_text())
    assert Configuration.from_dict(saved) == configuration
    manifest = read_manifest(folder)
    assert manifest["trial"] == 0
    assert manifest["data_fingerprint"] == lenet_workload.data.fingerprint
    assert manifest["study_file"] == str(Path("study.yaml").resolve())
    assert manifest["versions"]["hls4ml"] and manifest["versions"]["dse"]
    assert manifest["normalization"] == lenet_workload.data.normalization.to_dict()
    # hls4ml's configuration carries dse's formats, modes and reuse factors
    config = yaml.safe_load((folder / "hls4ml_config.yml").read_text())
    conv1 = config["HLSConfig"]["LayerName"]["conv1"]
    layer = configuration["conv1"]
    assert conv1["Precision"]["weight"] == str(ApFixed.of(layer.weights))
    assert conv1["Precision"]["accum"] == conv1["Precision"]["bias"]
    assert conv1["Precision"]["accum"].endswith("AP_TRN,AP_WRAP>")
    assert conv1["Precision"]["result"] == str(ApFixed.of(layer.activations))
    assert conv1["ReuseFactor"] == 9
    assert config["HLSConfig"]["Model"]["Strategy"] == "Resource"
    # the ReLU after it keeps its type: it never rounds
    assert config["HLSConfig"]["LayerName"]["relu"]["Precision"]["result"] == str(
        ApFixed.of(layer.activations)
    )
    # the state dict is the approximated model's, the test vectors dse's logits
    state = torch.load(folder / "state_dict.pt", weights_only=True)
    weights = approximate_weights(lenet_workload.model, configuration)
    assert torch.equal(state["conv2.weight"], weights["conv2"])
    with np.load(folder / "test_vectors.npz") as vectors:
        x, logits = vectors["x"], vectors["logits"]
    approx = apply(lenet_workload.model, configuration)
    with torch.no_grad():
        np.testing.assert_array_equal(approx(torch.from_numpy(x)).double().numpy(), logits)
    _header_matches(export, lenet_workload, configuration)


def test_shared_weights_export_as_centroids_and_codebook(
    lenet_workload: Workload, tmp_path: Path
) -> None:
    require_hls4ml()
    fc1 = lenet_workload.layers()["fc1"]
    book = FixedPoint.for_range(float(fc1.weight.abs().max()), 8)
    shared = {
        "fc1": WeightSharing(8, "layer", codebook=book),
        "fc2": WeightSharing(4, "channel", codebook=book),
    }
    configuration = _configuration(lenet_workload, shared)
    export = _export(lenet_workload, configuration, tmp_path / "shared")
    assert export.exact
    config = yaml.safe_load((export.folder / "hls4ml_config.yml").read_text())
    assert config["HLSConfig"]["LayerName"]["fc1"]["Precision"]["weight"] == str(ApFixed.of(book))
    text = (export.folder / "weights.h").read_text()
    assert "fc1_weight_codebook[1][8]" in text and "fc1_weight_indices[2880]" in text
    assert "fc2_weight_codebook[84][4]" in text  # one codebook per output channel
    _header_matches(export, lenet_workload, configuration)


def test_float_point_exports_configuration_and_header_only(
    lenet_workload: Workload, tmp_path: Path
) -> None:
    configuration = _configuration(lenet_workload, {"fc2": FloatFormat(4, 3)})
    export = _export(lenet_workload, configuration, tmp_path / "float")
    assert not export.has_project and not export.exact
    assert export.unsupported == (
        "fc2 weights: custom float E4M3 (hls4ml's ap_float needs E in 4..16 and a Vivado C model)",
    )
    assert not (export.folder / "hls4ml").exists()
    assert read_manifest(export.folder)["hls4ml"] is None
    assert "not verified" in (export.folder / "README.md").read_text()
    _header_matches(export, lenet_workload, configuration)
    assert (
        "kind=float exponent_bits=4 mantissa_bits=3" in (export.folder / "weights.h").read_text()
    )


def test_refused_trials_and_folders(lenet_workload: Workload, tmp_path: Path) -> None:
    result = _result(lenet_workload.model, _configuration(lenet_workload, {}))
    model, data = lenet_workload.model, lenet_workload.data
    with pytest.raises(ResultsError, match=r"--trial 7: .* has no such trial \(trials 0..2\)"):
        export_point(result, 7, model, data, tmp_path / "a")
    with pytest.raises(ResultsError, match="trial is FAIL: out of memory"):
        export_point(result, 1, model, data, tmp_path / "a")
    with pytest.raises(ResultsError, match=r"infeasible \(utilization<=1 violated\)"):
        export_point(result, 2, model, data, tmp_path / "a")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ResultsError, match="not empty and holds no dse export"):
        export_point(result, 0, model, data, tmp_path / "other")
    (tmp_path / "file").write_text("")
    with pytest.raises(ResultsError, match="cannot write there"):
        export_point(result, 0, model, data, tmp_path / "file" / "sub")


class _Residual(nn.Module):
    """A residual block as dse's workloads hold it: a folded BatchNorm and the plain shortcut
    are `nn.Identity` (no hls4ml handler), the sum an `evaluators.Add`, the head an adaptive
    average pooling (no hls4ml handler either)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(2, 2, 3, padding=1)
        self.bn1 = nn.Identity()
        self.relu1 = nn.ReLU()
        self.shortcut = nn.Identity()
        self.add = Add()
        self.relu2 = nn.ReLU()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.relu2(self.add(out, self.shortcut(x)))
        return self.fc(torch.flatten(self.avgpool(out), 1))


def test_residual_network_is_bit_exact_with_hls4ml(tmp_path: Path) -> None:
    """Identities traced through, the addition at its output format, the pooling's mean
    rounded once: hls4ml's C simulation equals dse on every value (io_stream, as the
    ResNet example)."""
    require_hls4ml(compiler=True)
    torch.manual_seed(0)
    model = _Residual().eval().requires_grad_(False)
    x = torch.rand(64, 2, 5, 5) * 2 - 1
    data = Dataset(
        DataSplit(x, torch.randint(0, 3, (64,))),
        DataSplit(x[:32], torch.randint(0, 3, (32,))),
        DataSplit(x[32:], torch.randint(0, 3, (32,))),
        fingerprint="0123456789abcdef",
    )
    wrap = {"rounding": "truncate", "overflow": "wrap"}
    configuration = Configuration.of(
        {
            "conv1": LayerConfig(
                weights=FixedPoint.for_range(float(model.conv1.weight.abs().max()), 6),
                activations=FixedPoint(10, 3, rounding="truncate"),
                accumulator=FixedPoint(20, 5, **wrap),
            ),
            "add": LayerConfig(activations=FixedPoint(9, 3, rounding="nearest_even")),
            "avgpool": LayerConfig(activations=FixedPoint(8, 2, rounding="truncate")),
            "fc": LayerConfig(
                weights=FixedPoint.for_range(float(model.fc.weight.abs().max()), 6),
                activations=FixedPoint(12, 4, rounding="truncate"),
                accumulator=FixedPoint(18, 5, **wrap),
            ),
        }
    )
    hardware = HardwareSettings(
        part="xcu250", clock_mhz=200.0, strategy="resource", io_type="io_stream"
    )
    result = _result(model, configuration, last="fc", hardware=hardware)
    export = export_point(result, 0, model, data, tmp_path / "residual", samples=32)
    assert export.exact, export.notes
    config = yaml.safe_load((export.folder / "hls4ml_config.yml").read_text())
    names = config["HLSConfig"]["LayerName"]
    assert not any("shortcut" in n or "bn1" in n for n in names)  # traced through
    assert names["add"]["Precision"]["result"] == str(ApFixed.of(configuration["add"].activations))
    pool = next(v for k, v in names.items() if k.startswith("avgpool"))
    # the relu keeps the add's ap_fixed<9,3>; the sum of 25 of them in accum_t, 3 + 5 integer
    # and 6 + 5 + 1 fraction bits: the mean's one rounding lands where dse's does
    assert pool["Precision"]["accum"].startswith("ap_fixed<20,8,")
    verification = verify_export(export.folder, model)
    assert verification.bit_exact and verification.top1_agreement == 1.0
    assert all(layer.bit_exact for layer in verification.layers)
