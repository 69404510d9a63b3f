"""Errors of the dse engine: user errors exit with code 2 and one line."""

from __future__ import annotations


class DseError(Exception):
    """Base class of every error dse raises on purpose."""


class SettingsError(DseError, ValueError):
    """Study settings are invalid: from a study file, or given from Python.

    The message is one line: ``<source>: <field path>: <reason>`` (``<field path>: <reason>``
    when the settings come from Python), the shape the CLI prints after ``dse: error:``.

    Args:
        source: the study file, or None for settings given as Python values.
        field: the dotted path of the field at fault (`search_space.weights.bits`), or None.
        reason: what is wrong, what was given and what would be accepted.
    """

    def __init__(self, source: str | None, field: str | None, reason: str) -> None:
        self.source = None if source is None else str(source)
        self.field = field
        self.reason = reason
        where = "".join(f"{part}: " for part in (self.source, field) if part)
        super().__init__(where + reason)


class StudyFileError(SettingsError):
    """A study file is unreadable or invalid (`SettingsError` with the file's path)."""

    def __init__(self, path: str, field: str | None, reason: str) -> None:
        super().__init__(str(path), field, reason)

    @property
    def path(self) -> str:
        return str(self.source)


class StudyRunError(DseError, RuntimeError):
    """A study cannot go on (storage mismatch, every trial failing, ...)."""


def settings_error(source: str | None, field: str | None, reason: str) -> SettingsError:
    """A `StudyFileError` when the settings came from a file (`source`), else a
    `SettingsError` naming the field alone."""
    if source is None:
        return SettingsError(None, field, reason)
    return StudyFileError(source, field, reason)
