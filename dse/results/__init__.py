"""Results: Pareto fronts, trial tables, plots, provenance and the files a study writes."""

from dse.results._pareto import ParetoFront
from dse.results._plots import ParetoDisplay, ParetoInfo
from dse.results._provenance import package_versions, provenance
from dse.results._tables import trials_table
from dse.results._writers import write_results

__all__ = [
    "ParetoDisplay",
    "ParetoFront",
    "ParetoInfo",
    "package_versions",
    "provenance",
    "trials_table",
    "write_results",
]
