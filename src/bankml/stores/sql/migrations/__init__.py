"""Alembic migrations of the metadata schema, run in-process on a given connection."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

HERE = Path(__file__).parent


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"{HERE} holds no migration")
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(connection: Connection) -> str:
    """Apply every pending migration in one transaction; returns the head revision."""
    upgrade_to(connection, "head")
    return head_revision()


def upgrade_to(connection: Connection, revision: str) -> None:
    """Apply the migrations up to `revision` (used by migration tests)."""
    command.upgrade(_config(connection), revision)
    if connection.in_transaction():
        connection.commit()


def downgrade_to_base(connection: Connection) -> None:
    """Remove every table bankml created (used by migration tests)."""
    command.downgrade(_config(connection), "base")
    if connection.in_transaction():
        connection.commit()
