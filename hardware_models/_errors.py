"""Errors raised by :mod:`hardware_models`.

Every error subclasses a builtin (``ValueError``) so that callers who do not know this package
can still catch it, while the CLI can catch :class:`HardwareModelError` alone and print one line.
"""

from __future__ import annotations

import os

__all__ = ["HardwareModelError", "NotFittedError", "ReportError"]


class HardwareModelError(ValueError):
    """Base class of every error raised by :mod:`hardware_models`."""


class ReportError(HardwareModelError):
    """A synthesis report could not be read.

    The message is always one line, ``"<path>: <reason>"``, so that the CLI can print it as is
    and a user sees which file failed and why without a traceback from the XML library.

    Args:
        path: The report file that failed.
        reason: What is wrong with it, naming the field and what was found where possible.

    Attributes:
        path: The report file that failed, as given.
        reason: The reason alone, without the path.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = " ".join(str(reason).split())
        super().__init__(f"{self.path}: {self.reason}")

    def __reduce__(self) -> tuple[type[ReportError], tuple[str, str]]:
        # Exceptions pickle through ``self.args``, which holds the joined message; rebuild from
        # the two parts instead so that the error crosses process boundaries (parallel workers).
        return (type(self), (self.path, self.reason))


class NotFittedError(HardwareModelError, AttributeError):
    """A fitted model was used before ``fit`` was called.

    It also subclasses ``AttributeError``, like scikit-learn's ``NotFittedError``, because the
    missing state is a missing attribute (``factors_``...).
    """
