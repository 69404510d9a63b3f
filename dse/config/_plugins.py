"""Plugins: modules that register optimizers and proxies before a study is validated.

A study finds them two ways: its `plugins` key names modules (importable from the study file's
folder or installed), and every installed package may declare modules in the `dse.plugins`
entry-point group (`[project.entry-points."dse.plugins"] name = "package.module"`), imported
for every study. Importing a module runs its `register_optimizer` / `register_proxy` calls.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Iterable
from importlib.metadata import entry_points
from pathlib import Path

from dse._errors import StudyFileError

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "dse.plugins"

_loaded_entry_points = False


def load_plugins(modules: Iterable[str] | object, path: str | Path | None = None) -> None:
    """Import the `dse.plugins` entry points (once per process) and the named modules.

    Args:
        modules: module names (study.yaml's `plugins`).
        path: the study file; its folder is importable while the modules load.

    Raises:
        StudyFileError: `plugins` is not a list of strings, or a module cannot be imported.
    """
    global _loaded_entry_points
    source = str(path) if path is not None else "<python>"
    if not _loaded_entry_points:
        _loaded_entry_points = True
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            try:
                entry.load()
            except Exception as exc:  # noqa: BLE001 - a broken plugin is the user's to fix
                raise StudyFileError(
                    source, None, f"plugin entry point {entry.name!r} ({entry.value}): {exc}"
                ) from None
    if isinstance(modules, str) or not isinstance(modules, list | tuple):
        if modules:
            raise StudyFileError(source, "plugins", "expected a list of module names")
        return
    folder = str(Path(path).resolve().parent) if path is not None else None
    for i, name in enumerate(modules):
        if not isinstance(name, str) or not name:
            raise StudyFileError(source, f"plugins[{i}]", f"expected a module name, got {name!r}")
        if folder is not None:
            sys.path.insert(0, folder)
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - any import failure is one error
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StudyFileError(
                source, f"plugins[{i}]", f"cannot import {name!r}: {first}"
            ) from None
        finally:
            if folder is not None:
                sys.path.remove(folder)
        logger.info("plugin %s loaded", name)
