"""A SQLite file put in WAL mode once, by one process at a time.

Switching a new file from its rollback journal to WAL takes the file's write lock. A second
connection that tries the same at that moment is refused with "database is locked" at once:
SQLite skips its busy wait there, because two connections upgrading their locks at the
same time could wait for each other forever. Several processes opening a new home at once
(`bankml serve --workers 4`, say) would then fail one of them. So a connection that finds
the file not yet in WAL switches it holding an advisory lock on a file beside it: the
switches take turns, and each one after the first finds WAL there already. A file in WAL
stays so; every later connection reads the mode and takes no lock.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: SQLite's own locking alone
    fcntl = None  # type: ignore[assignment]

IN_MEMORY = ("", ":memory:")


def use_wal(connection: sqlite3.Connection | sqlite3.Cursor, database: str | Path) -> None:
    """Leave `database` (the file `connection` is open on) in WAL mode."""
    if connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        return
    if str(database) in IN_MEMORY or fcntl is None:
        connection.execute("PRAGMA journal_mode=WAL")
        return
    descriptor = os.open(switch_lock(database), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # held for the switch alone: milliseconds
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        os.close(descriptor)  # the lock goes with it


def switch_lock(database: str | Path) -> Path:
    """The file whose lock the switches to WAL take turns on."""
    path = Path(database)
    return path.with_name(f"{path.name}-wal-switch.lock")
