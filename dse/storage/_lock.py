"""A lock every worker of a study takes for a few milliseconds: one per storage and study name.

Optuna's storages make single writes atomic, but a budget slot ("fewer than B trials are
evaluated or being evaluated, so this worker may start one") is a read followed by a write.
Workers take this lock around such steps, so they happen one worker at a time, on any host.
Each storage has the lock its backend offers without a file-system `flock` shared over NFS:

- PostgreSQL: a transaction-scoped advisory lock (`pg_advisory_xact_lock`), released when
  the transaction ends or its connection dies;
- MySQL: a named lock (`GET_LOCK`), released when its connection ends;
- a journal file: a lock file beside it, created with `O_CREAT | O_EXCL` (atomic on NFS v3 and
  later) and broken when it has not changed for `stale_s` seconds (its holder died);
- SQLite: `flock` on a file beside the database (SQLite needs a local file system anyway);
- in memory: a lock of this process.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

logger = logging.getLogger(__name__)


class StudyMutex(ABC):
    """A lock shared by every process working on one storage, one per study name.

    Contract: `hold(name)` blocks until no other holder of `name` (in any process, on any host
    sharing the storage) is inside it, and releases on exit, also on an exception. It is held
    for milliseconds and never nested; a holder that dies releases it (at the latest after a
    backend-specific timeout).
    """

    def __init__(self) -> None:
        self._local = threading.Lock()
        self._held = threading.local()

    @contextlib.contextmanager
    def hold(self, name: str) -> Iterator[None]:
        """Hold the study's lock for the body of a `with` block.

        Raises:
            RuntimeError: the calling thread already holds a lock of this mutex (a dse bug:
                nesting would deadlock across connections).
        """
        if getattr(self._held, "name", None) is not None:
            raise RuntimeError(f"study lock {name!r} taken twice by one thread")
        with self._local:
            self._held.name = name
            try:
                with self._acquire(name):
                    yield
            finally:
                self._held.name = None

    @abstractmethod
    def _acquire(self, name: str) -> contextlib.AbstractContextManager[None]:
        """The backend's lock for `name`, as a context manager."""


class ProcessMutex(StudyMutex):
    """A lock of this process alone: for in-memory storages (one process by definition)."""

    @contextlib.contextmanager
    def _acquire(self, name: str) -> Iterator[None]:
        yield


class FlockMutex(StudyMutex):
    """`flock` on `<path>.dse-lock`: workers of one host sharing an SQLite file.

    Args:
        path: the database file.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(f"{path}.dse-lock")

    @contextlib.contextmanager
    def _acquire(self, name: str) -> Iterator[None]:
        import fcntl

        with open(self.path, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class LockFileMutex(StudyMutex):
    """A lock file created atomically (`O_CREAT | O_EXCL`) beside a shared file.

    Safe on NFS v3 and later without `flock`. A holder that dies leaves the file behind: once it
    has not changed for `stale_s` seconds (as this process observes it, so clocks of other hosts
    do not matter) it is taken to be abandoned and removed.

    Args:
        path: the shared file the lock belongs to (the journal); the lock is
            `<path>.dse-lock`.
        stale_s: seconds after which an unchanged lock file is broken (seconds; far longer
            than any holder keeps it).
    """

    def __init__(self, path: Path, *, stale_s: float = 30.0) -> None:
        super().__init__()
        self.path = Path(f"{path}.dse-lock")
        self.stale_s = stale_s

    @contextlib.contextmanager
    def _acquire(self, name: str) -> Iterator[None]:
        token = f"{os.getpid()}-{uuid.uuid4().hex}"
        wait = 0.002
        seen: tuple[float, float] | None = None  # (mtime, when first seen)
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                seen = self._break_if_stale(seen)
                time.sleep(wait)
                wait = min(wait * 2, 0.05)
                continue
            try:
                os.write(fd, token.encode())
            finally:
                os.close(fd)
            break
        try:
            yield
        finally:
            self._release(token)

    def _break_if_stale(self, seen: tuple[float, float] | None) -> tuple[float, float] | None:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return None
        now = time.monotonic()
        if seen is None or seen[0] != mtime:
            return (mtime, now)
        if now - seen[1] > self.stale_s:
            logger.warning(
                "%s: lock unchanged for over %.0f s, taken as abandoned", self.path, self.stale_s
            )
            self._release(None)
            return None
        return seen

    def _release(self, token: str | None) -> None:
        """Remove the lock file: ours (`token`), or an abandoned one (None)."""
        if token is not None:
            try:
                if self.path.read_text() != token:
                    return  # broken as stale while held, and taken since: not ours to remove
            except FileNotFoundError:
                return
        # Rename first: of two processes breaking one stale lock, one succeeds.
        moved = self.path.with_name(f"{self.path.name}.{uuid.uuid4().hex}.released")
        try:
            os.rename(self.path, moved)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(moved)


def _lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key for a study name."""
    digest = hashlib.sha256(f"dse-study:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresMutex(StudyMutex):
    """`pg_advisory_xact_lock` in a transaction of its own connection.

    The server releases it when the transaction ends, when the connection drops (the process
    died) or when the transaction has been idle for `idle_s` seconds (the host vanished).
    Taking it is retried while the server is unreachable (a restart); a restart while it is
    held releases it early, the one case two workers may both pass it.

    Args:
        engine: the storage's SQLAlchemy engine.
        idle_s: the server-side idle-in-transaction timeout of the lock's connection (seconds).
        reconnect_s: how long taking it retries an unreachable server (seconds).
    """

    def __init__(
        self, engine: Engine, *, idle_s: float = 120.0, reconnect_s: float = 600.0
    ) -> None:
        super().__init__()
        self.engine = engine
        self.idle_s = idle_s
        self.reconnect_s = reconnect_s

    @contextlib.contextmanager
    def _acquire(self, name: str) -> Iterator[None]:
        from dse.storage._resilient import is_transient, retry_transient

        connection = retry_transient(lambda: self._lock(name), self.reconnect_s, "study lock")
        try:
            yield
        finally:
            try:
                connection.commit()
                connection.close()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                logger.warning("study lock: connection lost while held (server restarted?)")
                connection.invalidate()

    def _lock(self, name: str) -> Connection:
        from sqlalchemy import text

        connection = self.engine.connect()
        try:
            timeout = f"{int(self.idle_s * 1000)}ms"
            connection.execute(
                text(f"SET LOCAL idle_in_transaction_session_timeout = '{timeout}'")
            )
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(name)}
            )
        except BaseException:
            connection.invalidate()
            connection.close()
            raise
        return connection


class MysqlMutex(StudyMutex):
    """A MySQL named lock (`GET_LOCK`), released with `RELEASE_LOCK` or when its connection
    ends.

    Args:
        engine: the storage's SQLAlchemy engine.
    """

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine

    @contextlib.contextmanager
    def _acquire(self, name: str) -> Iterator[None]:
        from sqlalchemy import text

        lock = f"dse:{hashlib.sha256(name.encode()).hexdigest()[:48]}"
        with self.engine.connect() as connection:
            while connection.execute(text("SELECT GET_LOCK(:n, 60)"), {"n": lock}).scalar() != 1:
                logger.warning("waiting for the study lock of %r for over 60 s", name)
            try:
                yield
            finally:
                connection.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": lock})
                connection.commit()


@contextlib.contextmanager
def schema_lock(engine: Engine, backend: str, path: Path | None = None) -> Iterator[None]:
    """Serialize the creation of Optuna's tables among processes opening one database.

    Two processes creating the tables of a fresh PostgreSQL database at once fail with
    "duplicate key value violates unique constraint pg_type_typname_nsp_index"; this lock makes
    the second wait and find them created.

    Args:
        engine: an engine on the database.
        backend: `postgresql`, `mysql` or `sqlite`.
        path: the SQLite file, for a lock beside it.
    """
    from sqlalchemy import text

    if backend == "postgresql":
        with engine.connect() as connection:
            key = _lock_key("schema")
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()
    elif backend == "mysql":
        with MysqlMutex(engine).hold("schema"):
            yield
    elif backend == "sqlite" and path is not None:
        with FlockMutex(path).hold("schema"):
            yield
    else:
        yield
