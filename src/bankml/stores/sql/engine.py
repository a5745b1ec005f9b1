"""Engines tuned per backend: SQLite in WAL with immediate write locks, PostgreSQL pooled."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from bankml.core.errors import InvalidInputError

WRITE_OPTION = "bankml_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000


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
        return create_engine(url, pool_pre_ping=True)
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
        is_write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if is_write else "BEGIN")

    return engine
