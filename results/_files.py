"""Files written atomically: a temporary file beside the target, flushed, then renamed.

A reader never sees half a file, a crash keeps the old one, and two writers (threads or
processes, on one host or several sharing a folder) never share a temporary name.
Permissions follow the umask, as for any file the process creates.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["atomic_write", "save_figure"]


def atomic_write(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically."""
    _replace(path, lambda tmp: _write_text(tmp, text))


def save_figure(figure: Figure, path: Path, dpi: int) -> None:
    """Save a matplotlib `figure` as PNG to `path` atomically."""

    def write(tmp: Path) -> None:
        figure.savefig(tmp, dpi=dpi, format="png")
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())

    _replace(path, write)


def _write_text(tmp: Path, text: str) -> None:
    with tmp.open("x", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _replace(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        write(tmp)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
