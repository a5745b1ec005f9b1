"""Writers of one SQLite file take turns on a file lock beside it.

SQLite has one writer at a time. A writer that finds the lock taken is put to sleep by
SQLite's busy handler in growing steps (1, 2, 5, 10 ... 100 ms) and only then tries
again, so when two processes write to one file (two workers of `bankml serve`, a
serving process and its shadow process) a commit of two milliseconds can make the other
wait ten or a hundred. Here a write transaction first takes its turn: inside a process on
a lock its threads share, across processes on an advisory lock of a file beside the
database, polled every `POLL_S`, so the next writer goes on within a fraction of a
millisecond of the last one's commit. A turn not had within the store's lock timeout
fails as busy, as SQLite's own wait would. The lock only orders bankml's own writers;
SQLite's lock still guards the file against every other.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bankml.core.errors import StoreBusyError

POLL_S = 0.0002

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]


class WriterTurns:
    """Write transactions on one SQLite file, one at a time, across threads and processes."""

    def __init__(self, database: Path, *, timeout_s: float, location: str) -> None:
        self._path = database.with_name(f"{database.name}-writer.lock")
        self._timeout_s, self._location = timeout_s, location
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid = 0  # whose descriptor: a forked child opens its own, else it shares ours

    @contextmanager
    def turn(self) -> Iterator[None]:
        deadline = time.monotonic() + self._timeout_s
        if not self._threads.acquire(timeout=self._timeout_s):
            raise self._busy()
        try:
            if fcntl is None:
                yield
                return
            fd = self._opened()
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise self._busy() from None
                    time.sleep(POLL_S)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _opened(self) -> int:
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd

    def _busy(self) -> StoreBusyError:
        return StoreBusyError(f"The metadata store {self._location} is busy (another "
                              f"writer held it for {self._timeout_s:g} s); nothing was "
                              "changed, try again.")
