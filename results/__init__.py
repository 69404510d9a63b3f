"""Results: Pareto fronts, trial tables, plots, provenance and the files a study writes."""

from dse.results._fidelity import fidelity_info, write_fidelity
from dse.results._hypervolume import (
    HYPERVOLUME_ATTR,
    REFERENCE_ATTR,
    data_reference,
    prefix_hypervolume,
    stored_reference,
)
from dse.results._pareto import DUPLICATE_ATTR, ParetoFront, is_feasible
from dse.results._plots import ParetoDisplay, ParetoInfo
from dse.results._provenance import package_versions, provenance
from dse.results._sensitivity import sensitivity_rows, write_sensitivity
from dse.results._tables import count_state, front_rows, trials_table
from dse.results._writers import write_results

__all__ = [
    "DUPLICATE_ATTR",
    "HYPERVOLUME_ATTR",
    "REFERENCE_ATTR",
    "ParetoDisplay",
    "ParetoFront",
    "ParetoInfo",
    "fidelity_info",
    "package_versions",
    "provenance",
    "sensitivity_rows",
    "count_state",
    "front_rows",
    "is_feasible",
    "trials_table",
    "data_reference",
    "prefix_hypervolume",
    "stored_reference",
    "write_fidelity",
    "write_results",
    "write_sensitivity",
]
