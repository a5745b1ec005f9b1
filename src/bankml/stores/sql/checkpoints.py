"""SQLite's WAL checkpoints, off the commit path, and the WAL kept from growing.

By default the commit that takes the WAL past 1,000 pages copies them into the database
file and syncs it before it returns: every fiftieth or so decision-log commit would wait
several milliseconds for it, which is the whole of a decision's p99. The store's
connections turn automatic checkpoints off, and this thread does a passive checkpoint
(one that never waits for, nor blocks, readers or writers) after writes, at most every
`every_s`. When the last connection to the database closes, SQLite checkpoints anyway.

A passive checkpoint alone never ends a WAL under steady writes: SQLite starts the WAL
again from its first page only when a writer finds every frame already copied, and
commits keep landing while the checkpoint copies. The WAL then grows without end, and
every commit appends to the file, whose sync must also journal the file's new size (on
ext4 that doubles its cost). So once the WAL holds more than `restart_frames` after a
passive checkpoint, the thread takes a writer's turn and restarts it: the few frames
committed meanwhile are copied with writers held back for about a millisecond, and the
next commits overwrite the WAL's first pages instead of extending it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Engine

from bankml.core.errors import StoreBusyError

EVERY_S = 0.25
RESTART_FRAMES = 16_384  # 64 MiB of 4 KiB pages: a restart holds writers up, so it is rare


class Checkpointer:
    def __init__(self, engine: Engine, writer_turn: Callable[[], AbstractContextManager[None]],
                 *, every_s: float = EVERY_S, restart_frames: int = RESTART_FRAMES) -> None:
        self._engine, self._writer_turn = engine, writer_turn
        self._every_s, self._restart_frames = every_s, restart_frames
        self._restarted_at = 0  # the WAL's frames when it was last restarted
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
            cursor = connection.cursor()
            _, frames, _ = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            # the same count as at the last restart: no writer has come since to start
            # the WAL again, and restarting once more would change nothing
            if frames > self._restart_frames and frames != self._restarted_at:
                self._restart(cursor)
                self._restarted_at = frames
        finally:
            connection.close()

    def _restart(self, cursor: Any) -> None:
        """Copy the last frames and have the next writer start the WAL again, unless a
        reader still reads from it: then it is left to the next period. SQLite would wait
        for that reader holding the write lock; with no busy wait it declines at once."""
        # first the frames committed during the last pass, without holding writers up
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        (timeout,) = cursor.execute("PRAGMA busy_timeout").fetchone()
        try:
            with self._writer_turn():
                cursor.execute("PRAGMA busy_timeout=0")
                cursor.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
        except StoreBusyError:
            pass  # the writers kept the turn for the lock timeout: next period
        finally:
            cursor.execute(f"PRAGMA busy_timeout={int(timeout)}")

    def _run(self) -> None:
        while True:
            self._written.wait()
            if self._stopped.is_set():
                return
            self._written.clear()
            self.checkpoint()
            self._stopped.wait(self._every_s)  # at most one checkpoint per period
