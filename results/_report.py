"""The HTML report of a study: one self-contained file, to open offline or mail.

`write_report(result, folder)` writes `report.html` (the page: Plotly and the page's own script
and style inlined, the study's info record embedded as JSON) and `front_layers.csv` (the
per-layer rows the page shows for each front point). The page draws from the info record only
(`report_info`); `render_report` turns a record into the page.
"""

from __future__ import annotations

import json
import logging
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from results._errors import ResultsError
from results._files import atomic_write
from results._layers import front_layers
from results._report_info import report_info

if TYPE_CHECKING:
    from results._result import StudyResult

logger = logging.getLogger(__name__)

REPORT_FILE = "report.html"
LAYERS_FILE = "front_layers.csv"
SENSITIVITY_CSV = Path("sensitivity") / "sensitivity.csv"
"""Where `dse sensitivity` leaves the profile, relative to the study folder."""

APP_PARTS = ("core", "front", "matrix", "table", "detail", "panels", "start")
"""The page's script, `report/report_<part>.js`, concatenated in this order inside one
function (they share its variables)."""

_MARKERS = ("<!--DSE:TITLE-->", "<!--DSE:CSS-->", "<!--DSE:DATA-->", "<!--DSE:PLOTLY-->",
            "<!--DSE:APP-->")  # fmt: skip


@cache
def _asset(name: str) -> str:
    return resources.files("results").joinpath("report", name).read_text(encoding="utf-8")


@cache
def _plotly_js() -> str:
    try:
        from plotly.offline import get_plotlyjs
    except ImportError as exc:  # pragma: no cover - plotly is a dependency
        raise ResultsError(
            "the HTML report needs the plotly package (pip install plotly)"
        ) from exc
    return get_plotlyjs()


def _app_js() -> str:
    parts = "\n".join(_asset(f"report_{part}.js") for part in APP_PARTS)
    return f'(function () {{\n  "use strict";\n\n{parts}}})();\n'


def render_report(info: dict[str, Any]) -> str:
    """The page for an info record (see `report_info`): one HTML document, no external link.

    Every script and style is inlined; the record is embedded as JSON with `<` escaped, so no
    value can end its script element.
    """
    data = json.dumps(info, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")
    title = f"dse report: {info['study']['name']}".replace("&", "&amp;").replace("<", "&lt;")
    values = {
        "<!--DSE:TITLE-->": title,
        "<!--DSE:CSS-->": _asset("report.css"),
        "<!--DSE:DATA-->": data,
        "<!--DSE:PLOTLY-->": _plotly_js(),
        "<!--DSE:APP-->": _app_js(),
    }
    # Split on the markers first, so that no inserted text is searched for markers.
    parts = [_asset("template.html")]
    for marker in _MARKERS:
        head, _, tail = parts.pop().partition(marker)
        parts += [head, values[marker], tail]
    return "".join(parts)


def read_sensitivity(folder: Path) -> pd.DataFrame | None:
    """The study's sensitivity profile (`sensitivity/sensitivity.csv`), if it has one."""
    path = folder / SENSITIVITY_CSV
    if not path.exists():
        return None
    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as exc:
        logger.warning("%s: unreadable, left out of the report: %s", path, exc)
        return None


def write_report(
    result: StudyResult, folder: Path, *, study_file: str | Path | None = None
) -> Path:
    """Write `report.html` and `front_layers.csv` for a study into `folder`.

    The report shows the front on any pair of objectives (baselines marked, proxy-scored
    points apart), a scatter matrix and parallel coordinates for three objectives or more, a
    filterable front table with CSV download, each front point's layers and costs, the
    hypervolume over evaluations, bits per layer across the front, and the sensitivity
    profile and proxy fidelity when the study has them. A study still running is reported as
    such.

    Args:
        result: the study (finished or not).
        folder: its output folder (`runs/<study>/`); its `sensitivity/sensitivity.csv` is
            read when present.
        study_file: the study file, for the `dse export` command shown with each point.

    Returns:
        The path of `report.html`.

    Example:
        >>> write_report(result, Path("runs/lenet_digits"))  # doctest: +SKIP
        PosixPath('runs/lenet_digits/report.html')
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    layers = front_layers(result)
    atomic_write(folder / LAYERS_FILE, layers.to_csv(index=False))
    info = report_info(
        result,
        sensitivity=read_sensitivity(folder),
        study_file=None if study_file is None else str(study_file),
        layers=layers,
    )
    path = folder / REPORT_FILE
    atomic_write(path, render_report(info))
    return path
