"""Provenance of a study: what produced its results, so they can be reproduced."""

from __future__ import annotations

import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("dse", "torch", "optuna", "pymoo", "scikit-learn", "numpy", "pandas", "moocore")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit(folder: Path) -> str | None:
    """The commit of the checkout holding `folder`, if it is one (with `+dirty`)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=5
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def provenance(config_hash: str, identity_hash: str, seed: int) -> dict[str, Any]:
    """Config hash, seed, versions, platform and code commit, stamped now."""
    return {
        "config_hash": config_hash,
        "identity_hash": identity_hash,
        "seed": seed,
        "versions": package_versions(),
        "platform": platform.platform(),
        "git_commit": git_commit(Path(__file__).resolve().parent),
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
