"""Evaluators: number formats and bit-true kernels, configurations, workloads and scoring."""

from evaluators._accuracy import AccuracyEvaluator
from evaluators._apply import QuantizedOutput, WeightCache, apply, approximate_weights
from evaluators._base import Evaluator, Score
from evaluators._calibrated import REGRESSIONS, CalibratedProxy, fidelity_metrics
from evaluators._calibration import CALIBRATION_METHODS, calibrate_activations
from evaluators._configuration import (
    ActivationFormat,
    Configuration,
    LayerConfig,
    WeightFormat,
    format_from_dict,
)
from evaluators._datasets import Dataset, DataSplit, load_dataset
from evaluators._errors import EvaluationError, FormatError, ProxyError, WorkloadError
from evaluators._fixed_point import FixedPoint, quantize_fixed
from evaluators._float_format import FloatFormat, quantize_float
from evaluators._granularity import (
    PerChannel,
    PerKernel,
    PerLayer,
    PerNetwork,
    granularity_from_name,
)
from evaluators._kmeans import inertia_curve, kmeans_1d
from evaluators._models import BUILTIN_MODELS, LeNet5, ResNet18
from evaluators._multifidelity import ProxyEvaluator
from evaluators._output_noise import OutputNoiseProxy
from evaluators._proxy import Proxy, available_proxies, get_proxy, register_proxy
from evaluators._sensitivity import (
    LayerSensitivity,
    SensitivityAccuracyProxy,
    SensitivityProfile,
    SensitivityProxy,
)
from evaluators._shapes import LayerShape, layer_shapes
from evaluators._weight_noise import InertiaProxy, NormalizedInertiaProxy, WeightNoise
from evaluators._weight_sharing import WeightSharing, share_weights
from evaluators._workload import APPROXIMABLE, TrainingRecipe, Workload, build_workload

__all__ = [
    "APPROXIMABLE",
    "BUILTIN_MODELS",
    "CALIBRATION_METHODS",
    "REGRESSIONS",
    "AccuracyEvaluator",
    "ActivationFormat",
    "CalibratedProxy",
    "Configuration",
    "DataSplit",
    "Dataset",
    "EvaluationError",
    "Evaluator",
    "FixedPoint",
    "FloatFormat",
    "FormatError",
    "InertiaProxy",
    "LayerConfig",
    "LayerSensitivity",
    "LayerShape",
    "LeNet5",
    "NormalizedInertiaProxy",
    "OutputNoiseProxy",
    "PerChannel",
    "PerKernel",
    "PerLayer",
    "PerNetwork",
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
    "apply",
    "approximate_weights",
    "available_proxies",
    "build_workload",
    "calibrate_activations",
    "fidelity_metrics",
    "format_from_dict",
    "get_proxy",
    "granularity_from_name",
    "inertia_curve",
    "kmeans_1d",
    "layer_shapes",
    "load_dataset",
    "quantize_fixed",
    "quantize_float",
    "register_proxy",
    "share_weights",
]
