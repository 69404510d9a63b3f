"""Errors of the dse engine: user errors exit with code 2 and one line."""

from __future__ import annotations


class DseError(Exception):
    """Base class of every error dse raises on purpose."""


class StudyFileError(DseError, ValueError):
    """A study file is unreadable or invalid.

    The message is one line: ``<file>: <field path>: <reason>``, the shape the CLI prints after
    ``dse: error:``.
    """

    def __init__(self, path: str, field: str | None, reason: str) -> None:
        self.path = str(path)
        self.field = field
        self.reason = reason
        where = f"{self.path}: {field}: " if field else f"{self.path}: "
        super().__init__(where + reason)


class StudyRunError(DseError, RuntimeError):
    """A study cannot go on (storage mismatch, every trial failing, ...)."""
