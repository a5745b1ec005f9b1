"""SQLite's WAL is checkpointed by the store's own thread, never inside a commit."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import create_engine

from bankml.stores.sql import SqlMetadataStore


def test_commits_leave_the_checkpoint_to_the_store_thread(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'metadata.db'}"
    store = SqlMetadataStore(url)
    store.migrate()
    done = threading.Event()
    checkpoint = store._checkpoints.checkpoint

    def observed() -> None:
        checkpoint()
        done.set()

    store._checkpoints.checkpoint = observed  # type: ignore[method-assign]
    with store._engine.connect() as connection:  # its connections never checkpoint
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    with store.transaction() as tx:
        tx.audit.record("alice", "test.done", "thing:1", {})

    assert done.wait(timeout=60)  # the thread ran after the commit
    other = create_engine(url)  # and left nothing of the WAL uncopied
    with other.connect() as connection:
        busy, frames, copied = connection.exec_driver_sql(
            "PRAGMA wal_checkpoint(PASSIVE)").one()
    other.dispose()
    store.close()

    assert busy == 0
    assert frames == copied
    assert store._checkpoints._thread is None  # close stopped it


def test_a_store_that_never_wrote_starts_no_thread(tmp_path: Path) -> None:
    store = SqlMetadataStore(f"sqlite:///{tmp_path / 'metadata.db'}")
    store.migrate()
    with store.reading() as tx:
        assert tx.audit.head() is None or tx.audit.head().sequence == 0
    store.close()
    assert store._checkpoints._thread is None
