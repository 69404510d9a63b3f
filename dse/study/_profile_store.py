"""Where a study keeps its sensitivity profile, so each layer choice is measured once."""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from dse.storage import study_folder
from evaluators import SensitivityProfile

if TYPE_CHECKING:
    from dse.config import StudyConfig
    from evaluators import Workload

logger = logging.getLogger(__name__)


def sensitivity_dir(config: StudyConfig) -> Path:
    """`<output>/<study>/sensitivity/`: the profile, its CSV and plots."""
    return study_folder(config) / "sensitivity"


def load_profile(config: StudyConfig, workload: Workload) -> SensitivityProfile:
    """The study's profile on its evaluator split, with every entry cached for this model.

    A cache written for other weights or data is ignored (its fingerprint differs).
    """
    section = config.evaluator
    profile = SensitivityProfile(workload, split=section.split, batch_size=section.batch_size)
    path = sensitivity_dir(config) / "profile.json"
    if path.exists():
        try:
            profile.load(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, KeyError) as exc:
            logger.warning("%s: unreadable sensitivity cache ignored: %s", path, exc)
    return profile


def save_profile(config: StudyConfig, profile: SensitivityProfile) -> Path:
    """Write the profile atomically, with the entries another worker saved meanwhile; returns
    its path.

    The file is written under a name no other writer uses (host, process, random token),
    synced, then renamed over the old one: a reader on any host of a shared file system sees
    the old file or the new one, never a part, and no file lock is needed. Entries saved by
    another worker since this one loaded the file are read again first, so concurrent
    writers lose nothing but the race's last few entries.
    """
    folder = sensitivity_dir(config)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "profile.json"
    if path.exists():
        try:
            profile.load(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, KeyError) as exc:
            logger.warning("%s: unreadable sensitivity cache replaced: %s", path, exc)
    token = f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    tmp = path.with_name(f".{path.name}.{token}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(profile.to_dict(), indent=1) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
