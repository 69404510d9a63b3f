"""What the export tests need besides Python: hls4ml, and g++ for its C simulation.

Where one is missing the tests that need it are skipped, except in CI (`CI` set), where they
fail: CI installs both (`.ci/run`: apt-get install g++, and hls4ml through the `dev` extra).
"""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest


def require_hls4ml(*, compiler: bool = False, module: bool = False) -> None:
    """Skip (or, in CI, fail) unless hls4ml, and with `compiler` g++, are installed.

    Args:
        compiler: the test compiles an hls4ml project (g++).
        module: called at module level (skips the whole module).
    """
    missing = []
    if importlib.util.find_spec("hls4ml") is None:
        missing.append("hls4ml (pip install 'hls4ml>=1.3', or dse[dev])")
    if compiler and shutil.which("g++") is None:
        missing.append("g++ (apt-get install g++)")
    if not missing:
        return
    reason = "needs " + " and ".join(missing)
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, and CI is set: CI must install them", pytrace=False)
    pytest.skip(reason, allow_module_level=module)
