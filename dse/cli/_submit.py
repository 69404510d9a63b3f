"""`dse submit STUDY.yaml --workers N --partition P --time T`: workers as a SLURM job array."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dse._errors import DseError
from dse.config import load_study
from dse.storage import make_storage, open_study, read_records, redact_url, storage_url
from dse.study import WorkersResult, WorkerSummary, output_dir, run_worker_job

if TYPE_CHECKING:
    from dse.config import StudyConfig

HELP = (
    "submit N workers of a study as a SLURM job array through submitit (one job log per "
    "worker); --cluster local runs them as local processes"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", help="the study file (study.yaml)")
    parser.add_argument("--workers", type=int, required=True, metavar="N", help="array tasks")
    parser.add_argument("--partition", default=None, help="SLURM partition")
    parser.add_argument(
        "--time",
        default="60",
        metavar="T",
        help="time limit per worker: minutes, H:MM:SS or D-HH:MM:SS (default 60); a worker "
        "stopped by it queues its trial again",
    )
    parser.add_argument(
        "--cpus-per-worker",
        type=int,
        default=None,
        metavar="C",
        help="CPUs per task (default: the study's evaluator.threads)",
    )
    parser.add_argument("--mem-gb", type=float, default=None, help="memory per task (GB)")
    parser.add_argument("--gpus-per-worker", type=int, default=None, metavar="G")
    parser.add_argument("--account", default=None, help="SLURM account")
    parser.add_argument("--qos", default=None, help="SLURM quality of service")
    parser.add_argument(
        "--parallel", type=int, default=None, metavar="K", help="at most K tasks at once"
    )
    parser.add_argument(
        "--slurm",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other sbatch option (repeatable), e.g. --slurm constraint=skylake",
    )
    parser.add_argument(
        "--cluster",
        choices=("auto", "slurm", "local"),
        default="auto",
        help="slurm, local processes, or auto: slurm when sbatch exists (default)",
    )
    parser.add_argument(
        "--logs",
        type=Path,
        default=None,
        help="folder of the job logs (default: <output>/<study>/slurm/)",
    )
    parser.add_argument(
        "--wait", action="store_true", help="wait for the workers and print their summary"
    )


def minutes(text: str) -> int:
    """A SLURM time limit in whole minutes (seconds round up), read as sbatch reads it:
    `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M` or `D-H:M:S`.

    Raises:
        DseError: not such a time.

    Example:
        >>> minutes("90"), minutes("1:30:00"), minutes("2-00:00:00"), minutes("1-12")
        (90, 90, 2880, 2160)
    """
    try:
        days, _, rest = text.strip().rpartition("-")
        fields = [int(f) for f in rest.split(":")]
        if any(f < 0 for f in fields) or not 1 <= len(fields) <= 3:
            raise ValueError
        if days:
            h, m, s = (fields + [0, 0])[:3]
            total_s = ((int(days) * 24 + h) * 60 + m) * 60 + s
        else:
            s = fields[-1] if len(fields) >= 2 else 0
            m = fields[-2] if len(fields) >= 2 else fields[0]
            h = fields[0] if len(fields) == 3 else 0
            total_s = (h * 60 + m) * 60 + s
    except ValueError:
        raise DseError(f"--time: expected minutes, M:S, H:M:S or D-H:M:S, got {text!r}") from None
    return max(1, -(-total_s // 60))


def main(args: argparse.Namespace) -> int:
    try:
        import submitit
    except ImportError:
        raise DseError(
            "submit: submitit is not installed: pip install submitit (or 'dse[cluster]')"
        ) from None
    if args.workers < 1:
        raise DseError(f"--workers: must be at least 1, got {args.workers}")
    path = Path(args.study).resolve()
    config = load_study(path)
    url = storage_url(config)
    if config.storage.url is None and args.cluster != "local":
        print(
            "dse: warning: storage.url is not set: the workers share SQLite in "
            f"{output_dir(config)}/, which fails on a shared file system with workers on "
            "several hosts; use a PostgreSQL URL or journal:///shared/path/study.log",
            file=sys.stderr,
        )
    open_study(config, make_storage(url, reconnect_s=config.storage.reconnect_s))
    folder = args.logs or output_dir(config) / "slurm"
    executor = submitit.AutoExecutor(
        folder=folder, cluster=None if args.cluster == "auto" else args.cluster
    )
    executor.update_parameters(**_parameters(args, config.evaluator.threads, config.study.name))
    jobs = executor.map_array(run_worker_job, [str(path)] * args.workers)
    first = jobs[0].job_id if jobs else "?"
    print(
        f"submitted {len(jobs)} worker(s) of study {config.study.name} to "
        f"{executor.cluster} (job {first.split('_')[0]}), storage {redact_url(url)}; "
        f"logs in {folder}/"
    )
    if not args.wait:
        return 0
    return _wait(config, jobs)


def _parameters(args: argparse.Namespace, threads: int, name: str) -> dict[str, Any]:
    parameters: dict[str, Any] = {
        "name": f"dse-{name}",
        "timeout_min": minutes(args.time),
        "cpus_per_task": args.cpus_per_worker or threads,
        "slurm_signal_delay_s": 120,
    }
    if args.mem_gb is not None:
        parameters["mem_gb"] = args.mem_gb
    if args.gpus_per_worker is not None:
        parameters["gpus_per_node"] = args.gpus_per_worker
    if args.partition is not None:
        parameters["slurm_partition"] = args.partition
    if args.account is not None:
        parameters["slurm_account"] = args.account
    if args.qos is not None:
        parameters["slurm_qos"] = args.qos
    if args.parallel is not None:
        parameters["slurm_array_parallelism"] = args.parallel
    extra = {}
    for item in args.slurm:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise DseError(f"--slurm: expected KEY=VALUE, got {item!r}")
        extra[key.strip().replace("-", "_")] = value
    if extra:
        parameters["slurm_additional_parameters"] = extra
    return parameters


def _wait(config: StudyConfig, jobs: list[Any]) -> int:
    """Wait for every job; print one summary line, and each failed job's log."""
    from dse.cli._worker import summary

    summaries, failed = [], []
    for job in jobs:
        try:
            summaries.append(WorkerSummary(**job.result()))
        except Exception as exc:  # noqa: BLE001 - submitit raises the job's error, any kind
            reason = str(exc).strip().splitlines()
            failed.append(
                f"worker job {job.job_id} failed ({job.paths.stderr}): "
                f"{reason[-1] if reason else type(exc).__name__}"
            )
    study = open_study(config, make_storage(storage_url(config), create=False))
    complete = sum(r.evaluated for r in read_records(study))
    files = next((w.files for w in summaries if w.files), {})
    result = WorkersResult(
        summaries,
        complete,
        config.optimizer.budget,
        max((w.seconds for w in summaries), default=0.0),
        {k: Path(v) for k, v in files.items()},
    )
    print(summary(config.study.name, result))
    if result.files:
        print(f"results in {result.files['study'].parent}/ (trials.csv, pareto.csv, study.json)")
    for line in failed:
        print(f"dse: error: {line}", file=sys.stderr)
    return 2 if failed else 0
