"""A worker asked to stop (SIGTERM: a SLURM time limit, `scancel`) stops cleanly.

Python's default for SIGTERM ends the process at once, leaving its trial RUNNING until
another worker's heartbeat check takes it for lost. A worker instead fails the trial it is
evaluating with the reason and queues its point again, so the retry starts at once.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from types import FrameType

logger = logging.getLogger(__name__)


class WorkerStopped(BaseException):
    """A worker was asked to stop by a signal; raised where it can stop cleanly.

    A `BaseException`, like `KeyboardInterrupt`, so an evaluator's `except Exception` does
    not swallow it.

    Args:
        signum: the signal received.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(f"stopped by {self.name}")


class StopSignal:
    """Turn SIGTERM into a clean stop of the ask/tell loop, while in its `with` block.

    Outside `interruptible()` blocks a signal only sets `requested`: the loop stops at its
    next safe point, never in the middle of a storage write. Inside one (an evaluation, a
    pause) it raises `WorkerStopped` at once. Handlers can only be installed from the main
    thread; elsewhere the block changes nothing.

    Args:
        signals: the signals to handle (default: SIGTERM).
    """

    def __init__(self, signals: tuple[int, ...] = (signal.SIGTERM,)) -> None:
        self.signals = signals
        self.requested: int | None = None
        self._depth = 0
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopSignal:
        if threading.current_thread() is threading.main_thread():
            for signum in self.signals:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested is None:
            logger.warning("%s received: stopping", signal.Signals(signum).name)
        self.requested = signum
        if self._depth > 0:
            raise WorkerStopped(signum)

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        """A block a signal interrupts at once (raises `WorkerStopped`), also when it arrived
        just before."""
        if self.requested is not None:
            raise WorkerStopped(self.requested)
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1

    def check(self) -> None:
        """Raise `WorkerStopped` if a signal arrived."""
        if self.requested is not None:
            raise WorkerStopped(self.requested)
