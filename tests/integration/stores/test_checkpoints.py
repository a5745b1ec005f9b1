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


def test_steady_writes_do_not_grow_the_wal_without_end(tmp_path: Path) -> None:
    """Commits that never pause leave a passive checkpoint no moment to end the WAL; once
    it passes its bound the store restarts it, so later commits overwrite its first pages."""
    database = tmp_path / "metadata.db"
    store = SqlMetadataStore(f"sqlite:///{database}")
    store.migrate()
    store._checkpoints._restart_frames, store._checkpoints._every_s = 50, 0.0
    commits = 3_000
    for n in range(commits):
        with store.transaction() as tx:
            tx.audit.record("alice", "test.done", f"thing:{n}", {"n": n})
    wal_frames = (database.with_name("metadata.db-wal").stat().st_size - 32) // (4096 + 24)
    store.close()

    # each commit adds a page or more (the event, its indexes, the chain's head), so a
    # WAL never started again would hold more frames than there were commits
    assert wal_frames < commits
