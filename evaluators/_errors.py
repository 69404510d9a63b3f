"""Exceptions raised by the evaluators package.

Each subclasses a builtin so that callers who do not know this package can still catch it,
while the CLI can catch these alone and print one line.
"""

from __future__ import annotations

__all__ = ["EvaluationError", "EvaluatorError", "FormatError", "ProxyError", "WorkloadError"]


class EvaluatorError(Exception):
    """Base of every error the evaluators package raises on purpose: what the CLI catches
    and prints on one line."""


class FormatError(EvaluatorError, ValueError):
    """A number format was given a field outside its allowed values.

    Subclasses ``ValueError`` so callers that already guard user input with
    ``except ValueError`` keep working. Messages name the field, the allowed values and
    what was given, e.g. ``FixedPoint.word_length: must be an int in 1..32, got 40``.
    """


class WorkloadError(EvaluatorError, ValueError):
    """A workload (model, dataset, checkpoint) is missing or malformed."""


class EvaluationError(EvaluatorError, RuntimeError):
    """A configuration could not be scored (unknown layer, non-finite metric...)."""


class ProxyError(EvaluatorError, ValueError):
    """A proxy or its calibration was asked for something it does not offer.

    Messages name the setting, the allowed values and what was given, e.g. ``proxy: expected
    one of ['inertia', ...], got 'foo'``.
    """
