"""A writer that hangs before COMMIT makes others fail fast and cleanly, not freeze.

The second connection here is real and holds a real lock; the writer under test runs in a
thread whose wait is bounded, so a regression fails the test instead of hanging it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text

from bankml import Platform
from bankml.core.errors import StoreBusyError
from support.trail import audit_events

LOCK_TIMEOUT_S = 0.5
BOUND_S = 20  # far above the lock timeout, far below "frozen"


@pytest.fixture
def busy_platform(tmp_path: Path, metadata_url: str) -> Iterator[Platform]:
    with Platform.open(tmp_path / "home", metadata_url=metadata_url,
                       lock_timeout_s=LOCK_TIMEOUT_S) as platform:
        yield platform


@pytest.fixture
def hung_writer(metadata_url: str) -> Iterator[object]:
    """Another session that took the write lock and stopped before COMMIT."""
    if metadata_url.startswith("sqlite"):
        connection = sqlite3.connect(metadata_url.removeprefix("sqlite:///"),
                                     isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        yield connection
        connection.execute("ROLLBACK")
        connection.close()
        return
    engine = create_engine(metadata_url)
    with engine.connect() as session:
        session.execute(text("SELECT sequence FROM audit_head WHERE id = 1 FOR UPDATE"))
        yield session
        session.rollback()
    engine.dispose()


def test_a_hung_writer_makes_others_fail_as_busy(busy_platform: Platform,
                                                 hung_writer: object) -> None:
    """While another session holds the lock, a write fails within the lock timeout with
    store.busy, and changes nothing."""
    started = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        attempt = pool.submit(busy_platform.identity.bootstrap_admin, "ada")
        try:
            error = attempt.exception(timeout=BOUND_S)
        finally:
            _release(hung_writer)

    assert isinstance(error, StoreBusyError)
    assert error.rule == "store.busy"
    assert "busy" in str(error)
    assert time.monotonic() - started < BOUND_S
    assert audit_events(busy_platform) == []


def test_an_open_transaction_does_not_hold_the_head(busy_platform: Platform,
                                                    metadata_url: str) -> None:
    """The head row is locked only when the transaction commits, not when it records: other
    writers queue for the commit alone."""
    if metadata_url.startswith("sqlite"):
        pytest.skip("SQLite serialises whole write transactions by design")
    engine = create_engine(metadata_url)
    with busy_platform.metadata.transaction() as tx, engine.connect() as other:
        tx.audit.record("alice", "test.done", "thing:1", {})
        other.execute(text("SELECT sequence FROM audit_head WHERE id = 1 FOR UPDATE NOWAIT"))
        other.rollback()
    engine.dispose()

    assert [e.action for e in audit_events(busy_platform)] == ["test.done"]


def _release(holder: object) -> None:
    if isinstance(holder, sqlite3.Connection):
        holder.execute("ROLLBACK")
        holder.execute("BEGIN IMMEDIATE")  # the fixture rolls back again
    elif isinstance(holder, Connection):
        holder.rollback()
