"""Engines tuned per backend: SQLite in WAL with immediate write locks, PostgreSQL pooled;
read-only transactions enforced by the database on both."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from bankml.core.errors import InvalidInputError

WRITE_OPTION = "bankml_write"
READ_ONLY_OPTION = "bankml_read_only"
SQLITE_BUSY_TIMEOUT_MS = 30_000


@contextmanager
def read_only(connection: Connection) -> Iterator[None]:
    """Make the next transaction on `connection` read-only: a write through it fails."""
    connection.execution_options(**{READ_ONLY_OPTION: True})
    yield


def create_metadata_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets the settings that let several writers share it."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise InvalidInputError("BANKML_METADATA_URL", f"{url!r} is not a database URL "
                                "(e.g. sqlite:///path/metadata.db or "
                                "postgresql+psycopg://user@host/db)") from exc
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if parsed.get_backend_name() == "postgresql":
        return _postgresql_engine(url)
    raise InvalidInputError("BANKML_METADATA_URL", f"backend {parsed.get_backend_name()!r} "
                            "is not supported; use sqlite or postgresql")


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below); the driver's implicit transactions would not
        # take the write lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # A write transaction takes the lock at BEGIN: a deferred one that upgrades later
        # can fail with "database is locked" at once, without waiting for the busy timeout.
        options = connection.get_execution_options()
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE_OPTION) else "BEGIN")
        if options.get(READ_ONLY_OPTION):
            connection.exec_driver_sql("PRAGMA query_only = ON")

    @event.listens_for(engine, "checkin")
    def _writable_again(dbapi_connection: Any, _record: Any) -> None:
        # query_only belongs to the pooled connection, not the transaction: reset it.
        if dbapi_connection is not None:
            dbapi_connection.execute("PRAGMA query_only = OFF")

    return engine


def _postgresql_engine(url: str) -> Engine:
    engine = create_engine(url, pool_pre_ping=True)

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")

    return engine
