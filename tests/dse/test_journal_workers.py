"""Many workers on one study in an Optuna journal file (a shared file system, no server)."""

from __future__ import annotations

from pathlib import Path

from dse import Problem, minimize
from dse.storage import make_storage
from tests.dse.conftest import kill_a_worker_on_another_host


def test_killed_worker_is_noticed_by_its_heartbeat_on_a_journal_file(
    tmp_path: Path, study_output: Path
) -> None:
    journal = tmp_path / "shared" / "killed.log"
    url = f"journal://{journal}"
    kill_a_worker_on_another_host(url, tmp_path, study_output, "journaled", workers=1)
    assert journal.stat().st_size > 0
    assert not Path(f"{journal}.dse-lock").exists()  # the study lock was released


def test_minimize_resumes_from_a_journal_file(lenet_workload, tmp_path: Path) -> None:
    data = lenet_workload.data
    problem = Problem.from_model(
        lenet_workload.model,
        train=data.train,
        validation=data.validation,
        search_space={"include": ["fc2", "fc3"], "weights": {"kinds": ["fixed"], "bits": [2, 6]}},
    )
    url = f"journal://{tmp_path / 'study.log'}"
    first = minimize(problem, "random", budget=4, storage=url)
    again = minimize(problem, "random", budget=7, storage=url)
    assert first.complete == 4 and again.complete == 7
    assert [r.params for r in again.records[: len(first.records)]] == [
        r.params for r in first.records
    ]
    assert len(make_storage(url, create=False).get_all_studies()) == 1
