"""`dse report STUDY.yaml`: the study's interactive report, one HTML file to open or mail."""

from __future__ import annotations

import argparse

import optuna

from dse._errors import StudyRunError
from dse.config import StudyConfig, load_study
from dse.storage import make_storage, storage_url
from dse.study import Problem, collect_result, output_dir
from results import StudyResult, write_report

HELP = (
    "write the study's interactive report (report.html: the front on any two objectives, "
    "each front point's layers and costs, a filterable table) and front_layers.csv"
)


def load_result(config: StudyConfig, path: str) -> StudyResult:
    """The result of what a study's storage holds now, finished or still running.

    The study's problem is rebuilt (its model loaded from the cache) for the search space,
    the cost model that prices each layer and the float model's accuracy.

    Raises:
        StudyRunError: the study has never run.
    """
    url = storage_url(config)
    storage = make_storage(url, create=False)
    names = [s.study_name for s in storage.get_all_studies()]
    if config.study.name not in names:
        raise StudyRunError(f"no study {config.study.name!r} in {url} yet: run it first")
    problem = Problem.from_config(config, path)
    study = optuna.load_study(study_name=config.study.name, storage=storage)
    return collect_result(study, problem, budget=config.optimizer.budget)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", help="the study file (study.yaml)")


def main(args: argparse.Namespace) -> int:
    config = load_study(args.study)
    result = load_result(config, args.study)
    path = write_report(result, output_dir(config), study_file=args.study)
    running = sum(r.state in ("RUNNING", "WAITING") for r in result.records)
    print(
        f"study {result.name}: {result.complete} evaluated trials, front of "
        f"{len(result.front)} -> {path} (and {path.with_name('front_layers.csv').name})"
    )
    if running:
        print(
            f"the study is still running ({running} trial(s) in flight): the report is a "
            "snapshot; run `dse report` again for a newer one"
        )
    elif result.budget is not None and result.complete < result.budget:
        print(
            f"the study stopped at {result.complete} of {result.budget} trials; "
            "`dse run` resumes it"
        )
    return 0
