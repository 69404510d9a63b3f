"""`dse dashboard STUDY.yaml`: optuna-dashboard on the study's storage (a live view)."""

from __future__ import annotations

import argparse

from dse._errors import DseError
from dse.config import load_study
from dse.storage import make_storage, storage_url

HELP = (
    "serve optuna-dashboard on the study's storage (objectives by name, trials as they "
    "finish); needs `pip install optuna-dashboard`"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", help="the study file (study.yaml)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=8080, help="port (default: 8080)")


def main(args: argparse.Namespace) -> int:
    try:
        from optuna_dashboard import run_server
    except ImportError:
        raise DseError(
            "dashboard: optuna-dashboard is not installed (pip install optuna-dashboard)"
        ) from None
    config = load_study(args.study)
    storage = make_storage(storage_url(config), create=False)
    print(
        f"optuna-dashboard for study {config.study.name!r}: http://{args.host}:{args.port}/ "
        "(Ctrl-C stops it)",
        flush=True,
    )
    run_server(storage, host=args.host, port=args.port)
    return 0
