"""Alembic migrations of the metadata schema, run in-process on a given connection.

Many processes may open a new store at once; `upgrade_serialised` lets one migrate while
the others wait, then finds nothing left to do for them.

Every process that opens a platform asks whether the schema is current, and almost always
it is: that question is answered from the migration files' names and one read of the
database, without Alembic (a tenth of a CLI command's start-up) and without the write
lock a migration takes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

HERE = Path(__file__).parent
# Two keys of a PostgreSQL advisory lock: bankml's migrations, in the connection's schema
# (stores in other schemas of one database migrate independently).
LOCK_KEYS = "hashtext('bankml.migrations'), hashtext(current_schema())"
MIGRATION_LOCK = f"SELECT pg_advisory_lock({LOCK_KEYS})"
MIGRATION_UNLOCK = f"SELECT pg_advisory_unlock({LOCK_KEYS})"


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config  # noqa: PLC0415 - only when migrating

    config = Config()
    config.set_main_option("script_location", str(HERE))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration's revision. Each file is named after its revision
    (`0019_rollout_comparison.py` holds revision "0019", tested against Alembic's own
    reading), and the history is one line, so the head is the highest number."""
    numbers = [path.name.split("_", 1)[0] for path in (HERE / "versions").glob("[0-9]*_*.py")]
    if not numbers:
        raise RuntimeError(f"{HERE} holds no migration")
    return max(numbers)


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade_to_head(connection: Connection) -> str:
    """Apply every pending migration in one transaction; returns the head revision."""
    upgrade_to(connection, "head")
    return head_revision()


def upgrade_serialised(connection: Connection) -> str:
    """`upgrade_to_head`, one process at a time.

    PostgreSQL: an advisory lock, held by this session until the migrations commit.
    SQLite: the database file's own write lock, taken before the first read of the
    schema's revision (the connection must begin with BEGIN IMMEDIATE): a deferred
    transaction would read, then fail at its first CREATE TABLE when another process
    writes.
    """
    with _serialised(connection):
        if connection.dialect.name == "sqlite":
            connection.begin()  # BEGIN IMMEDIATE: alembic runs inside it, we commit
        return upgrade_to_head(connection)


@contextmanager
def _serialised(connection: Connection) -> Iterator[None]:
    if connection.dialect.name != "postgresql":
        yield
        return
    connection.execute(text(MIGRATION_LOCK))
    connection.commit()  # the lock belongs to the session, not to this transaction
    try:
        yield
    finally:
        if connection.in_transaction():
            connection.rollback()
        connection.execute(text(MIGRATION_UNLOCK))
        connection.commit()


def upgrade_to(connection: Connection, revision: str) -> None:
    """Apply the migrations up to `revision` (used by migration tests)."""
    from alembic import command  # noqa: PLC0415 - only when migrating

    command.upgrade(_config(connection), revision)
    if connection.in_transaction():
        connection.commit()


def downgrade_to(connection: Connection, revision: str) -> None:
    """Undo the migrations after `revision` (used by migration tests)."""
    from alembic import command  # noqa: PLC0415 - only when migrating

    command.downgrade(_config(connection), revision)
    if connection.in_transaction():
        connection.commit()


def downgrade_to_base(connection: Connection) -> None:
    """Remove every table bankml created (used by migration tests)."""
    from alembic import command  # noqa: PLC0415 - only when migrating

    command.downgrade(_config(connection), "base")
    if connection.in_transaction():
        connection.commit()
