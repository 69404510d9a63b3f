"""The package rules of ARCHITECTURE.md, checked on the source itself (AST, not grep)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("evaluators", "search_spaces", "hardware_models", "results", "dse")
RECORD_MODULE = ROOT / "dse" / "storage" / "_records.py"
TRIAL_ATTRIBUTES = {"user_attrs", "set_user_attr", "system_attrs", "set_system_attr"}
MAY_IMPORT = {
    "evaluators": set(),
    "search_spaces": {"evaluators"},
    "hardware_models": {"evaluators"},
    "results": {"evaluators", "search_spaces", "hardware_models"},
    "dse": {"evaluators", "search_spaces", "hardware_models", "results"},
}


def _sources(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (ROOT / f).rglob("*.py"))


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every imported module name of a file, with its line."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, node.lineno))
    return out


def test_trial_attributes_are_touched_by_the_record_module_only() -> None:
    offenders = []
    for path in _sources(*PACKAGES, "bench", "examples", "tests"):
        if path in (RECORD_MODULE, Path(__file__).resolve()):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(node, "attr", None) or getattr(node, "id", None)
            if name in TRIAL_ATTRIBUTES or (
                isinstance(node, ast.Constant) and node.value in TRIAL_ATTRIBUTES
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


@pytest.mark.parametrize("package", PACKAGES)
def test_packages_import_only_what_the_architecture_allows(package: str) -> None:
    offenders = []
    for path in _sources(package):
        for name, line in _imports(path):
            top = name.split(".")[0]
            if top in PACKAGES and top != package and top not in MAY_IMPORT[package]:
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert offenders == []


def test_results_never_imports_optuna() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _sources("results")
        for name, line in _imports(path)
        if name.split(".")[0] == "optuna"
    ]
    assert offenders == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_private_module_of_another_package_is_imported(package: str) -> None:
    offenders = []
    for path in _sources(package):
        for name, line in _imports(path):
            parts = name.split(".")
            if (
                parts[0] != package
                and parts[0] in PACKAGES
                and any(p.startswith("_") for p in parts[1:])
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert offenders == []
