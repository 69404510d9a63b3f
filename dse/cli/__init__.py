"""`python -m dse run|status|pareto|report|plot|dashboard STUDY.yaml`: parse, call the public
API, print."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence

from dse._errors import DseError
from dse.cli import (
    _characterize,
    _dashboard,
    _export,
    _init,
    _pareto,
    _plot,
    _report,
    _run,
    _sensitivity,
    _status,
    _submit,
    _train,
    _verify,
    _worker,
)
from evaluators import EvaluatorError
from hardware_models import HardwareModelError
from results import ResultsError
from search_spaces import SpaceError

COMMANDS = {
    "init": _init,
    "run": _run,
    "worker": _worker,
    "submit": _submit,
    "status": _status,
    "pareto": _pareto,
    "report": _report,
    "plot": _plot,
    "dashboard": _dashboard,
    "characterize": _characterize,
    "sensitivity": _sensitivity,
    "train": _train,
    "export": _export,
    "verify": _verify,
}

USER_ERRORS: tuple[type[BaseException], ...] = (
    DseError,
    EvaluatorError,
    SpaceError,
    HardwareModelError,
    ResultsError,
)
"""The error base of each package: errors about the user's input, printed on one line with
exit code 2. Anything else is a bug of dse and keeps its traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dse",
        description="Design-space exploration of approximate CNN accelerators on FPGAs.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(handler=module.main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code (2 for a user error, with one line on stderr)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("dse: interrupted; completed trials are kept, run again to resume", file=sys.stderr)
        return 130
    except USER_ERRORS as exc:
        if args.debug:
            traceback.print_exc()
        print(f"dse: error: {exc}".replace("\n", " "), file=sys.stderr)
        return 2
