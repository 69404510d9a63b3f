"""Errors of the results package: a result asked for something it does not hold."""

from __future__ import annotations

__all__ = ["ResultsError"]


class ResultsError(ValueError):
    """Base of every error the results package raises on purpose (a point that is not in a
    study, a filter naming no metric, an export that cannot be made); the CLI prints it on
    one line with exit code 2."""
