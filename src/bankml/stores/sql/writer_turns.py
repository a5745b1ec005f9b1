"""Writers of one SQLite file take turns on a file lock beside it.

SQLite has one writer at a time. A writer that finds the lock taken is put to sleep by
SQLite's busy handler in growing steps (1, 2, 5, 10 ... 100 ms) and only then tries
again, so when two processes write to one file (two workers of `bankml serve`, a
serving process and its shadow process) a commit of two milliseconds can make the other
wait ten or a hundred. Here a write transaction first takes its turn: inside a process on
a lock its threads share, across processes on an advisory lock of a file beside the
database. A writer that finds the file lock taken waits for it in the kernel, on a thread
of its own (`_KernelWait`), so it goes on the moment the last writer commits: no polling,
whose every wake of a Python thread took the interpreter lock from the threads serving
requests. A turn not had within the store's lock timeout fails as busy, as SQLite's own
wait would. The lock only orders bankml's own writers; SQLite's lock still guards the
file against every other.
"""

from __future__ import annotations

import collections
import os
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bankml.core.errors import StoreBusyError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]


class WriterTurns:
    """Write transactions on one SQLite file, one at a time, across threads and processes."""

    def __init__(self, database: Path, *, timeout_s: float, location: str) -> None:
        self._path = database.with_name(f"{database.name}-writer.lock")
        self._timeout_s, self._location = timeout_s, location
        self._threads = _FairLock()
        self._fd: int | None = None
        self._waiter: _KernelWait | None = None
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
            fd = self._take(deadline)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    @property
    def waiting(self) -> bool:
        """A writer of this process waits in the kernel for another process's turn."""
        return self._waiter is not None and self._waiter.waiting

    def close(self) -> None:
        if self._waiter is not None and self._pid == os.getpid():
            self._waiter.close()
        self._waiter = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _take(self, deadline: float) -> int:
        """The file lock, on the descriptor returned; called holding the threads' lock."""
        fd = self._opened()
        try:  # a wait given up on is still in flight on another descriptor, never this one
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            pass
        if self._waiter is None:
            self._waiter = _KernelWait()
        if self._waiter.take(fd, deadline - time.monotonic()):
            return fd
        # Still blocked in the kernel: the wait keeps the old descriptor to itself and
        # gives its lock up by closing it; the next turn opens a new one.
        self._fd = None
        raise self._busy()

    def _opened(self) -> int:
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            if self._pid != os.getpid():
                self._waiter = None  # a forked child has no thread of its parent's
            self._pid = os.getpid()
        return self._fd

    def _busy(self) -> StoreBusyError:
        return StoreBusyError(f"The metadata store {self._location} is busy (another "
                              f"writer held it for {self._timeout_s:g} s); nothing was "
                              "changed, try again.")


class _FairLock:
    """A lock handed to its waiters in the order they came. A plain lock goes to whoever
    asks first once it is free, which is mostly the thread that just let it go: a thread
    writing in a loop (the decision log's writer under load) would keep the others (the
    WAL's checkpointer) from their turn for as long as the loop runs."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held = False
        self._waiters: collections.deque[threading.Lock] = collections.deque()

    def acquire(self, timeout: float) -> bool:
        with self._guard:
            if not self._held:
                self._held = True
                return True
            handed = threading.Lock()
            handed.acquire()
            self._waiters.append(handed)
        if handed.acquire(timeout=timeout):
            return True
        with self._guard:
            if handed in self._waiters:
                self._waiters.remove(handed)
                return False
        return True  # handed over as the time ran out: ours

    def release(self) -> None:
        with self._guard:
            if self._waiters:
                self._waiters.popleft().release()  # held still, by the next in line
            else:
                self._held = False


@dataclass(slots=True)
class _Wait:
    fd: int
    granted: threading.Event = field(default_factory=threading.Event)  # answered
    held: bool = False  # the answer: the lock is the descriptor's
    given_up: bool = False


class _KernelWait:
    """flock(LOCK_EX), blocked in the kernel on a thread of its own, waited for with a
    timeout; one wait at a time, in the order asked."""

    def __init__(self) -> None:
        self._asked: queue.SimpleQueue[_Wait | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pending = 0
        self._thread = threading.Thread(target=self._run, name="writer-turn", daemon=True)
        self._thread.start()

    @property
    def waiting(self) -> bool:
        """A wait is in flight: its descriptor may get the lock at any moment."""
        with self._lock:
            return self._pending > 0

    def take(self, fd: int, timeout_s: float) -> bool:
        wait = _Wait(fd)
        with self._lock:
            self._pending += 1
        self._asked.put(wait)
        if wait.granted.wait(max(timeout_s, 0.0)):
            return wait.held
        with self._lock:
            if wait.granted.is_set():  # answered as the time ran out
                return wait.held
            wait.given_up = True
        return False

    def close(self) -> None:
        self._asked.put(None)

    def _run(self) -> None:
        while (wait := self._asked.get()) is not None:
            try:
                fcntl.flock(wait.fd, fcntl.LOCK_EX)  # the interpreter lock is let go
                wait.held = True
            except OSError:  # the descriptor is gone: the turn is refused as busy
                wait.held = False
            with self._lock:
                self._pending -= 1
                if wait.given_up and wait.held:
                    # The lock goes with the descriptor. One that failed is not closed: it
                    # was closed already, and its number may now be another file's.
                    os.close(wait.fd)
                else:
                    wait.granted.set()
