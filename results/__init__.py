"""Results: what a study gives its user.

`StudyResult` (every trial as a `TrialRecord`, the search space, the hardware settings and a
`ParetoFront` whose points carry their configurations), hypervolume, tables, plots, exact
re-scoring of the front, the files of a study's output folder, the HTML report
(`write_report`), figures to publish (`TradeoffDisplay`) and one filter grammar for picking
points (`select_points`, `PointQuery`), and the export of a point to hls4ml and a C header
with its bit-exact check against hls4ml's C simulation (`export_point`, `verify_export`). This
package reads no storage and never imports `optuna` or `dse`: a result is a value, built by
whoever ran the study.
"""

from results._baselines import Baseline, baselines, float_metrics, with_relative_columns
from results._c_header import HeaderTensor, read_c_header, render_c_header
from results._errors import ResultsError
from results._export import Export, export_point, exportable_record, read_manifest
from results._fidelity import fidelity_info, json_safe, write_fidelity
from results._figures import FIGURE_FORMATS, StudySeries, TradeoffDisplay, TradeoffInfo
from results._files import atomic_write
from results._filters import (
    Condition,
    PointQuery,
    filter_names,
    parse_where,
    points_table,
    select_points,
)
from results._hls_types import ApFixed
from results._hypervolume import data_reference, hypervolume_curve, prefix_hypervolume
from results._layers import front_layers, layer_rows, storage_bits
from results._metrics import MetricInfo, metric_direction, metric_info
from results._pareto import FrontPoint, ParetoFront
from results._plots import ParetoDisplay, ParetoInfo
from results._provenance import package_versions, provenance
from results._record import STATES, TrialRecord
from results._report import render_report, write_report
from results._report_info import report_info, scrub
from results._rescore import EXACT_VALIDATION, Bound, rescore, rescored_table
from results._result import StudyResult
from results._sensitivity import sensitivity_rows, write_sensitivity
from results._tables import count_state, front_rows, trials_table
from results._verify import Agreement, Verification, verify_export
from results._writers import study_record, write_fidelity_report, write_results

__all__ = [
    "Agreement",
    "ApFixed",
    "Export",
    "HeaderTensor",
    "Verification",
    "export_point",
    "exportable_record",
    "read_c_header",
    "read_manifest",
    "render_c_header",
    "verify_export",
    "EXACT_VALIDATION",
    "FIGURE_FORMATS",
    "STATES",
    "Baseline",
    "Bound",
    "Condition",
    "FrontPoint",
    "MetricInfo",
    "ParetoDisplay",
    "ParetoFront",
    "ParetoInfo",
    "PointQuery",
    "ResultsError",
    "StudyResult",
    "StudySeries",
    "TradeoffDisplay",
    "TradeoffInfo",
    "TrialRecord",
    "atomic_write",
    "baselines",
    "count_state",
    "data_reference",
    "fidelity_info",
    "filter_names",
    "float_metrics",
    "front_layers",
    "front_rows",
    "hypervolume_curve",
    "json_safe",
    "layer_rows",
    "metric_direction",
    "metric_info",
    "package_versions",
    "parse_where",
    "points_table",
    "prefix_hypervolume",
    "provenance",
    "render_report",
    "report_info",
    "rescore",
    "rescored_table",
    "scrub",
    "select_points",
    "sensitivity_rows",
    "storage_bits",
    "study_record",
    "trials_table",
    "write_fidelity",
    "with_relative_columns",
    "write_fidelity_report",
    "write_report",
    "write_results",
    "write_sensitivity",
]
