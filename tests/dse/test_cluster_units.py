"""The parts of studies on clusters that need no server: URLs and their secrets, the study
lock, heartbeats and the recovery of silent workers' trials."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import optuna
import pytest
from optuna.distributions import IntDistribution
from optuna.trial import TrialState

from dse import StudyFileError, StudyRunError
from dse.config import load_study, validate_settings
from dse.storage import (
    StaleTrials,
    StorageUrl,
    make_storage,
    records,
    recover,
    redact_url,
    worker_states,
)
from tests.conftest import study_dict, write_study


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://dse:s3cret@db.example.org:5432/studies", "postgresql://dse:***@db.example.org:5432/studies"),
        ("postgresql+psycopg://dse:${PW}@db/studies", "postgresql+psycopg://dse:${PW}@db/studies"),
        ("mysql://dse@db/studies?password=s3cret&ssl=1", "mysql://dse@db/studies?password=***&ssl=1"),
        ("postgresql://dse@/studies?host=/run/pg", "postgresql://dse@/studies?host=/run/pg"),
        ("journal:///shared/study.log", "journal:///shared/study.log"),
    ],
)  # fmt: skip
def test_passwords_are_redacted(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_urls_name_their_backend_and_unknown_ones_are_refused() -> None:
    assert StorageUrl.parse("postgres://u@h/db").backend == "postgresql"
    assert StorageUrl.parse("mysql+pymysql://u@h/db").backend == "mysql"
    assert StorageUrl.parse("journal:///a/b.log").journal_path == Path("/a/b.log")
    with pytest.raises(StudyRunError, match="expected a URL of one of sqlite, postgresql"):
        StorageUrl.parse("redis://localhost")


def test_a_missing_driver_names_the_package_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import dse.storage._urls as urls

    monkeypatch.setattr(urls, "_importable", lambda module: False)
    with pytest.raises(StudyRunError) as caught:
        make_storage("postgresql://dse@localhost/studies")
    assert str(caught.value) == (
        "storage.url: PostgreSQL needs the psycopg package, which is not installed: "
        "pip install psycopg[binary] (pip install 'dse[cluster]')"
    )


def test_the_password_variable_is_read_when_connecting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DSE_TEST_NOT_SET", raising=False)
    with pytest.raises(StudyRunError, match="environment variable DSE_TEST_NOT_SET is not set"):
        make_storage("postgresql://dse:${DSE_TEST_NOT_SET}@localhost/x")
    monkeypatch.setenv("DSE_TEST_FOLDER", str(tmp_path))
    storage = make_storage("journal://${DSE_TEST_FOLDER}/study.log")
    assert (tmp_path / "study.log").exists()
    assert storage.url == "journal://${DSE_TEST_FOLDER}/study.log"


def test_storage_settings_are_checked_and_the_url_redacted_in_dumps(tmp_path: Path) -> None:
    data = study_dict("s", tmp_path, storage={"url": "redis://localhost"})
    with pytest.raises(StudyFileError, match=r"storage\.url: expected a URL of one of"):
        load_study(write_study(tmp_path / "s.yaml", data))
    data["storage"] = {"heartbeat_s": 10, "grace_s": 15}
    with pytest.raises(StudyFileError, match="grace_s must be at least two heartbeats"):
        load_study(write_study(tmp_path / "s.yaml", data))
    config = validate_settings(
        {"study": {"name": "s"}, "storage": {"url": "postgresql://u:s3cret@h/db"}}
    )
    assert config.storage.url == "postgresql://u:s3cret@h/db"  # what connects
    assert config.to_dict()["storage"]["url"] == "postgresql://u:***@h/db"  # what is written
    plain = validate_settings({"study": {"name": "s"}})
    assert config.identity_hash() == plain.identity_hash()  # storage is not identity


def test_the_journal_lock_excludes_and_breaks_abandoned_locks(tmp_path: Path) -> None:
    from dse.storage._lock import LockFileMutex

    journal = tmp_path / "study.log"
    inside: list[int] = []
    overlaps: list[int] = []

    def work(index: int) -> None:
        mutex = LockFileMutex(journal)  # one per thread, as one per process
        for _ in range(20):
            with mutex.hold("s"):
                inside.append(index)
                if len(inside) > 1:
                    overlaps.append(index)
                time.sleep(0.001)
                inside.remove(index)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == []
    lock = Path(f"{journal}.dse-lock")
    assert not lock.exists()
    lock.write_text("a dead holder")  # a worker killed while holding it
    started = time.monotonic()
    with LockFileMutex(journal, stale_s=0.5).hold("s"):
        assert time.monotonic() - started >= 0.5
    assert not lock.exists()


def _study_with_a_silent_trial() -> tuple[optuna.Study, optuna.Trial]:
    storage = make_storage(None)
    study = optuna.create_study(storage=storage, directions=["minimize"])
    trial = study.ask({"x": IntDistribution(0, 9)})
    records.tag_worker(study, trial, "elsewhere:123")
    return study, trial


def test_a_trial_whose_heartbeat_stops_is_failed_and_its_point_retried_once() -> None:
    study, trial = _study_with_a_silent_trial()
    stale = StaleTrials(0.3, me="here:1")
    running = study.get_trials(states=(TrialState.RUNNING,))
    assert stale(running) == []  # first seen now
    records.beat(study, trial._trial_id, time.time())  # alive: a heartbeat resets the clock
    time.sleep(0.2)
    assert stale(study.get_trials(states=(TrialState.RUNNING,))) == []
    time.sleep(0.35)
    found = stale(study.get_trials(states=(TrialState.RUNNING,)))
    assert [t.number for t, _ in found] == [trial.number]
    assert found[0][1].startswith("worker lost: no heartbeat for")
    assert recover(study, found) == {"retried": 1, "given up": 0}
    first = records.to_record(study.trials[trial.number])
    assert first.state == "FAIL" and first.fail_reason.startswith("worker lost")
    retry = study.ask({"x": IntDistribution(0, 9)})  # the queued point
    assert retry.params == trial.params
    records.tag_worker(study, retry, "elsewhere:456")
    # Its worker is lost too: the point is given up, with the reason.
    lost_again = [(study.trials[retry.number], "worker lost: no heartbeat for 60 s")]
    assert recover(study, lost_again) == {"retried": 0, "given up": 1}
    second = records.to_record(study.trials[retry.number])
    assert second.retry_of == trial.number
    assert f"its point was lost before (trial {trial.number}): not retried" in second.fail_reason
    assert not study.get_trials(states=(TrialState.WAITING,))


def test_worker_states_tell_alive_stopped_and_lost_workers() -> None:
    study, _ = _study_with_a_silent_trial()
    now = time.time()
    records.update_worker(study, "a:1", {"ordinal": 0, "beat": now, "state": "running"})
    records.update_worker(study, "b:2", {"ordinal": 1, "beat": now - 120, "state": "running"})
    records.update_worker(study, "c:3", {"ordinal": 2, "beat": now - 120, "state": "stopped"})
    states = {w.worker: w.state for w in worker_states(study, grace_s=60)}
    assert states == {"a:1": "running", "b:2": "lost", "c:3": "stopped"}
