"""Evaluators: number formats and bit-true kernels, configurations, workloads and scoring."""

from evaluators._accumulator import accumulate
from evaluators._accuracy import AccuracyEvaluator, exact_float32, resolve_device
from evaluators._apply import QuantizedOutput, WeightCache, apply, approximate_weights
from evaluators._base import Evaluator, Score
from evaluators._blocks import Add
from evaluators._calibrated import REGRESSIONS, CalibratedProxy, fidelity_metrics
from evaluators._calibration import CALIBRATION_METHODS, calibrate_activations
from evaluators._configuration import (
    ActivationFormat,
    Configuration,
    LayerConfig,
    WeightFormat,
    available_formats,
    format_from_dict,
)
from evaluators._datasets import FORMATS as DATASET_FORMATS
from evaluators._datasets import Dataset, DatasetSpec, DataSplit, load_dataset
from evaluators._errors import (
    EvaluationError,
    EvaluatorError,
    FormatError,
    ProxyError,
    WorkloadError,
)
from evaluators._fixed_point import FixedPoint, quantize_fixed
from evaluators._float_format import FloatFormat, quantize_float
from evaluators._folding import batchnorm_pairs, fold_batchnorm
from evaluators._granularity import (
    PerChannel,
    PerKernel,
    PerLayer,
    PerNetwork,
    granularity_from_name,
)
from evaluators._kmeans import inertia_curve, kmeans_1d
from evaluators._mobilenet import MobileNetV2
from evaluators._models import BUILTIN_MODELS, LeNet5
from evaluators._multifidelity import ProxyEvaluator
from evaluators._normalization import Normalization
from evaluators._output_noise import OutputNoiseProxy
from evaluators._prefix import PrefixCache
from evaluators._proxy import Proxy, available_proxies, get_proxy, register_proxy
from evaluators._resnet import CifarResNet, ResNet18
from evaluators._sensitivity import (
    LayerSensitivity,
    SensitivityAccuracyProxy,
    SensitivityProfile,
    SensitivityProxy,
)
from evaluators._shapes import LayerShape, layer_shapes
from evaluators._training import TrainingRecipe, train_model
from evaluators._weight_noise import InertiaProxy, NormalizedInertiaProxy, WeightNoise
from evaluators._weight_sharing import WeightSharing, share_weights
from evaluators._workload import (
    APPROXIMABLE,
    Checkpoint,
    Workload,
    available_checkpoints,
    build_workload,
    check_fits,
    read_checkpoint,
    save_checkpoint,
)

__all__ = [
    "APPROXIMABLE",
    "DATASET_FORMATS",
    "BUILTIN_MODELS",
    "CALIBRATION_METHODS",
    "REGRESSIONS",
    "AccuracyEvaluator",
    "Add",
    "ActivationFormat",
    "CalibratedProxy",
    "Checkpoint",
    "CifarResNet",
    "Configuration",
    "DataSplit",
    "Dataset",
    "DatasetSpec",
    "EvaluationError",
    "EvaluatorError",
    "Evaluator",
    "FixedPoint",
    "FloatFormat",
    "FormatError",
    "InertiaProxy",
    "LayerConfig",
    "LayerSensitivity",
    "LayerShape",
    "LeNet5",
    "MobileNetV2",
    "Normalization",
    "NormalizedInertiaProxy",
    "OutputNoiseProxy",
    "PerChannel",
    "PerKernel",
    "PerLayer",
    "PerNetwork",
    "PrefixCache",
    "Proxy",
    "ProxyError",
    "ProxyEvaluator",
    "QuantizedOutput",
    "ResNet18",
    "Score",
    "SensitivityAccuracyProxy",
    "SensitivityProfile",
    "SensitivityProxy",
    "TrainingRecipe",
    "WeightCache",
    "WeightFormat",
    "WeightNoise",
    "WeightSharing",
    "Workload",
    "WorkloadError",
    "accumulate",
    "apply",
    "exact_float32",
    "approximate_weights",
    "available_checkpoints",
    "available_formats",
    "available_proxies",
    "batchnorm_pairs",
    "build_workload",
    "check_fits",
    "calibrate_activations",
    "fidelity_metrics",
    "fold_batchnorm",
    "format_from_dict",
    "get_proxy",
    "granularity_from_name",
    "inertia_curve",
    "kmeans_1d",
    "layer_shapes",
    "load_dataset",
    "quantize_fixed",
    "quantize_float",
    "read_checkpoint",
    "register_proxy",
    "resolve_device",
    "save_checkpoint",
    "share_weights",
    "train_model",
]
