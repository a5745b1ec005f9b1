"""Engines tuned per backend: SQLite in WAL with immediate write locks, PostgreSQL pooled;
read-only transactions enforced by the database on both; every wait for a lock bounded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from bankml.core.errors import InvalidInputError
from bankml.stores.sqlite_wal import use_wal

WRITE_OPTION = "bankml_write"
READ_ONLY_OPTION = "bankml_read_only"
QUERY_ONLY = "bankml_query_only"  # the pooled connection's flag: PRAGMA query_only is on


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeouts:
    """How long a statement may wait for a lock, and run, before it fails as busy.

    `statement_s` of 0 means no limit (migrations). SQLite knows only the lock wait (its
    busy timeout); a statement there cannot be stopped from outside.
    """

    lock_s: float = 5.0
    statement_s: float = 60.0

    @property
    def lock_ms(self) -> int:
        return max(1, round(self.lock_s * 1000))

    @property
    def statement_ms(self) -> int:
        return round(self.statement_s * 1000)


DEFAULT_TIMEOUTS = Timeouts()


@contextmanager
def read_only(connection: Connection) -> Iterator[None]:
    """Make the next transaction on `connection` read-only: a write through it fails."""
    connection.execution_options(**{READ_ONLY_OPTION: True})
    yield


def create_metadata_engine(url: str, timeouts: Timeouts = DEFAULT_TIMEOUTS, *,
                           manual_checkpoints: bool = False,
                           durable_commits: bool = True) -> Engine:
    """An engine for `url`; SQLite gets the settings that let several writers share it,
    and with `manual_checkpoints` leaves WAL checkpoints to a `Checkpointer`.

    Without `durable_commits` a commit returns before it is flushed to disk (SQLite's
    synchronous=NORMAL in WAL mode, PostgreSQL's synchronous_commit=off): a power cut may
    lose the last such commits, never a part of one, and never a durable commit made after
    them, since both logs are flushed in order. Only for writes nobody is answered on (the
    shadow process's records)."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise InvalidInputError("BANKML_METADATA_URL", f"{url!r} is not a database URL "
                                "(e.g. sqlite:///path/metadata.db or "
                                "postgresql+psycopg://user@host/db)") from exc
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database or "", timeouts, manual_checkpoints,
                              durable_commits)
    if parsed.get_backend_name() == "postgresql":
        return _postgresql_engine(parsed, timeouts, durable_commits)
    raise InvalidInputError("BANKML_METADATA_URL", f"backend {parsed.get_backend_name()!r} "
                            "is not supported; use sqlite or postgresql")


def _sqlite_engine(url: str, database: str, timeouts: Timeouts, manual_checkpoints: bool,
                   durable_commits: bool) -> Engine:
    engine = create_engine(url, connect_args={"timeout": timeouts.lock_s})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below); the driver's implicit transactions would not
        # take the write lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={timeouts.lock_ms}")
        use_wal(cursor, database)  # readers never block the writer
        cursor.execute("PRAGMA foreign_keys=ON")
        if manual_checkpoints:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        if not durable_commits:
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # A write transaction takes the lock at BEGIN: a deferred one that upgrades later
        # can fail with "database is locked" at once, without waiting for the busy timeout.
        options = connection.get_execution_options()
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE_OPTION) else "BEGIN")
        if options.get(READ_ONLY_OPTION):
            connection.exec_driver_sql("PRAGMA query_only = ON")
            connection.connection.info[QUERY_ONLY] = True

    @event.listens_for(engine, "checkin")
    def _writable_again(dbapi_connection: Any, record: Any) -> None:
        # query_only belongs to the pooled connection, not the transaction: reset it
        # (only where it was set: a write transaction's checkin runs no statement).
        if dbapi_connection is not None and record.info.pop(QUERY_ONLY, False):
            dbapi_connection.execute("PRAGMA query_only = OFF")

    return engine


def _postgresql_engine(url: URL, timeouts: Timeouts, durable_commits: bool) -> Engine:
    # Session settings ride on the connection's startup options, beside any the URL has,
    # so they hold from the first statement and survive every rollback.
    limits = f"-c lock_timeout={timeouts.lock_ms} -c statement_timeout={timeouts.statement_ms}"
    if not durable_commits:
        limits += " -c synchronous_commit=off"
    given = url.query.get("options")
    given = " ".join(given) if isinstance(given, tuple) else given
    options = f"{given} {limits}" if given else limits
    engine = create_engine(url.update_query_dict({"options": options}), pool_pre_ping=True)

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")

    return engine
