"""What `status`, `pareto` and later commands share: a study's records and a text table."""

from __future__ import annotations

import optuna

from dse._errors import StudyRunError
from dse.config import StudyConfig
from dse.storage import make_storage, read_records, redact_url, storage_url
from results import TrialRecord


def load_stored_study(config: StudyConfig) -> optuna.Study:
    """The stored study, read-only; an error (the URL without its password) when it has
    never run."""
    url = storage_url(config)
    storage = make_storage(url, create=False, reconnect_s=config.storage.reconnect_s)
    names = [s.study_name for s in storage.get_all_studies()]
    if config.study.name not in names:
        raise StudyRunError(
            f"no study {config.study.name!r} in {redact_url(url)} yet: run it first"
        )
    return optuna.load_study(study_name=config.study.name, storage=storage)


def load_records(config: StudyConfig) -> list[TrialRecord]:
    """The study's trials as records, read-only; an error when it has never run."""
    return read_records(load_stored_study(config))


def format_table(rows: list[dict[str, object]], columns: list[str]) -> str:
    """A plain aligned text table."""
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)
