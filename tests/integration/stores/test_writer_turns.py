"""Writers of one SQLite file take turns across processes and threads: a turn held
elsewhere makes a write wait, and past the lock timeout fail as busy with nothing
changed; once released, the write goes on."""

from __future__ import annotations

import multiprocessing
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

import pytest

from bankml.core.errors import StoreBusyError
from bankml.stores.sql import SqlMetadataStore
from bankml.stores.sql.engine import Timeouts
from bankml.stores.sql.writer_turns import _FairLock
from support.polling import until
from support.turns import hold_turn

SPAWN = multiprocessing.get_context("spawn")


@pytest.fixture
def database(tmp_path: Path, migrated_sqlite: Path) -> Path:
    path = tmp_path / "metadata.db"
    shutil.copyfile(migrated_sqlite, path)
    return path


def admins(store: SqlMetadataStore) -> int:
    with store.reading() as tx:
        return len(tx.users.all())


def bootstrap(store: SqlMetadataStore) -> None:
    from bankml.governance import Identity  # noqa: PLC0415 - the service that writes

    Identity(store).bootstrap_admin("ada")


@contextmanager
def turn_held_elsewhere(database: Path) -> Iterator[EventType]:
    """Another process holds the file's writer turn until the event yielded is set."""
    holding, release = SPAWN.Event(), SPAWN.Event()
    holder = SPAWN.Process(target=hold_turn, args=(database, holding, release))
    holder.start()
    try:
        assert holding.wait(timeout=60)
        yield release
    finally:
        release.set()
        holder.join(timeout=60)


def test_a_turn_held_by_another_process_makes_a_write_busy_until_released(
        database: Path) -> None:
    store = SqlMetadataStore(f"sqlite:///{database}", timeouts=Timeouts(lock_s=0.3))
    try:
        with turn_held_elsewhere(database):
            with pytest.raises(StoreBusyError) as busy:
                bootstrap(store)  # SQLite's own lock is free: only the turn is taken
            refused_count = admins(store)
        bootstrap(store)
    finally:
        store.close()

    assert busy.value.rule == "store.busy"
    assert refused_count == 0
    again = SqlMetadataStore(f"sqlite:///{database}")
    assert admins(again) == 1
    again.close()


def test_threads_of_one_process_take_turns_too(database: Path) -> None:
    store = SqlMetadataStore(f"sqlite:///{database}", timeouts=Timeouts(lock_s=0.3))
    inside, leave = threading.Event(), threading.Event()

    def hold() -> None:
        with store.transaction():
            inside.set()
            leave.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert inside.wait(timeout=60)
        with pytest.raises(StoreBusyError) as busy:
            bootstrap(store)
        # refused at its turn, not by SQLite's own lock: threads share one file lock
        assert "another writer held it" in str(busy.value)
    finally:
        leave.set()
        holder.join()
    bootstrap(store)
    assert admins(store) == 1
    store.close()


def test_a_writer_waiting_on_another_process_goes_on_when_its_turn_comes(
        database: Path) -> None:
    """The wait is in the kernel, not a timeout's worth of polls: released, it goes on."""
    store = SqlMetadataStore(f"sqlite:///{database}", timeouts=Timeouts(lock_s=60))
    writer = threading.Thread(target=bootstrap, args=(store,))
    with turn_held_elsewhere(database) as release:
        writer.start()
        until(lambda: store._turns is not None and store._turns.waiting,
              "the writer to wait at its turn")
        assert admins(store) == 0  # blocked at its turn
        release.set()
        writer.join(timeout=60)

    assert not writer.is_alive()
    assert admins(store) == 1
    store.close()


def test_threads_have_their_turns_in_the_order_they_asked() -> None:
    """The lock is handed to the longest waiter, never to whoever asks again first (a
    writer in a loop kept the WAL's checkpointer from its turn)."""
    lock, order = _FairLock(), []
    assert lock.acquire(timeout=1)

    def wait_then_note(name: str) -> None:
        assert lock.acquire(timeout=60)
        order.append(name)
        lock.release()

    first = threading.Thread(target=wait_then_note, args=("first",))
    first.start()
    until(lambda: len(lock._waiters) == 1, "the first waiter to queue")
    second = threading.Thread(target=wait_then_note, args=("second",))
    second.start()
    until(lambda: len(lock._waiters) == 2, "the second waiter to queue")
    assert not lock.acquire(timeout=0.01)  # a third gives up, and leaves no place behind
    assert len(lock._waiters) == 2
    lock.release()
    first.join()
    second.join()

    assert order == ["first", "second"]
    assert lock.acquire(timeout=1)  # free again once the last let go
