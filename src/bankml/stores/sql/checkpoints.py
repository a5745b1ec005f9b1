"""SQLite's WAL checkpoints, off the commit path.

By default the commit that takes the WAL past 1,000 pages copies them into the database
file and syncs it before it returns: every fiftieth or so decision-log commit would wait
several milliseconds for it, which is the whole of a decision's p99. The store's
connections turn automatic checkpoints off, and this thread does a passive checkpoint
(one that never waits for, nor blocks, readers or writers) after writes, at most every
`every_s`. When the last connection to the database closes, SQLite checkpoints anyway.
"""

from __future__ import annotations

import threading

from sqlalchemy import Engine

EVERY_S = 0.25


class Checkpointer:
    def __init__(self, engine: Engine, *, every_s: float = EVERY_S) -> None:
        self._engine, self._every_s = engine, every_s
        self._written, self._stopped = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def written(self) -> None:
        """A write committed: checkpoint soon."""
        self._written.set()
        if self._thread is None:
            with self._lock:
                if self._thread is None and not self._stopped.is_set():
                    self._thread = threading.Thread(target=self._run, name="wal-checkpoint",
                                                    daemon=True)
                    self._thread.start()

    def close(self) -> None:
        with self._lock:
            self._stopped.set()
            self._written.set()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()

    def checkpoint(self) -> None:
        # the driver's own connection in autocommit: a checkpoint inside a transaction
        # could not copy the frames that transaction still reads
        connection = self._engine.raw_connection()
        try:
            connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            connection.close()

    def _run(self) -> None:
        while True:
            self._written.wait()
            if self._stopped.is_set():
                return
            self._written.clear()
            self.checkpoint()
            self._stopped.wait(self._every_s)  # at most one checkpoint per period
