"""A new SQLite file is switched to WAL by one connection at a time: one that finds another
switching waits for its turn, where SQLite alone would refuse it with "database is locked"
at once (it failed one of six processes opening a new home together)."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bankml.stores.online import SqliteOnlineStore
from bankml.stores.sql.engine import create_metadata_engine
from bankml.stores.sqlite_wal import switch_lock
from support.polling import until

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads the waiting locks from /proc/locks")


def metadata_mode(database: Path) -> str:
    engine = create_metadata_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            return str(connection.exec_driver_sql("PRAGMA journal_mode").scalar())
    finally:
        engine.dispose()


def online_mode(database: Path) -> str:
    store = SqliteOnlineStore(database)
    try:
        return str(store._reader().execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        store.close()


@pytest.mark.parametrize("mode_of", [metadata_mode, online_mode], ids=["metadata", "online"])
def test_a_connection_waits_while_another_switches_a_new_file(tmp_path: Path,
                                                              mode_of: Callable[[Path], str]
                                                              ) -> None:
    database = tmp_path / "new.db"
    # Another process halfway through the switch: it has the turn and the file's write lock
    # (a new file keeps a rollback journal until the switch, so BEGIN IMMEDIATE holds it).
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    turn = os.open(switch_lock(database), os.O_RDWR | os.O_CREAT)
    fcntl.flock(turn, fcntl.LOCK_EX)
    with ThreadPoolExecutor(1) as pool:
        opening = pool.submit(mode_of, database)
        until(lambda: opening.done() or _waiting_on(switch_lock(database)),
              "the new connection waiting for its turn", deadline_s=30)
        assert not opening.done()  # neither refused nor switched under the other's feet
        other.execute("COMMIT")
        other.execute("PRAGMA journal_mode=WAL")
        os.close(turn)

        assert opening.result(timeout=30) == "wal"
    other.close()


def test_a_file_in_wal_already_takes_no_turn(tmp_path: Path) -> None:
    database = tmp_path / "old.db"
    sqlite3.connect(database).execute("PRAGMA journal_mode=WAL").close()

    assert metadata_mode(database) == "wal"
    assert not switch_lock(database).exists()


def _waiting_on(path: Path) -> bool:
    """Whether a flock waits for `path` (a "->" line of /proc/locks names its inode)."""
    inode = os.stat(path).st_ino
    return any(line.split()[1] == "->" and line.split()[6].endswith(f":{inode}")
               for line in Path("/proc/locks").read_text().splitlines())
