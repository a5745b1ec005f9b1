"""Guards in the database beneath the chain: no TRUNCATE, a head that only moves forward,
and a runtime role that can change rows but not the schema that guards them."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from bankml import Platform
from bankml.stores.sql.tables import APPEND_ONLY_TABLES

GUARDED = (*APPEND_ONLY_TABLES, "audit_head")


@pytest.fixture
def recorded(platform: Platform) -> Platform:
    with platform.metadata.transaction() as tx:
        tx.audit.record("alice", "test.done", "thing:1", {})
    return platform


def _refused(url: str, statement: str, match: str) -> None:
    engine = create_engine(url)
    try:
        with pytest.raises(DBAPIError, match=match), engine.begin() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


@pytest.mark.parametrize("table", GUARDED)
def test_truncate_is_refused_even_to_the_owner(recorded: Platform, metadata_url: str,
                                               table: str) -> None:
    """TRUNCATE passes row triggers; a statement trigger refuses it on PostgreSQL, also
    with CASCADE (which a table that others refer to needs)."""
    if not metadata_url.startswith("postgresql"):
        pytest.skip("SQLite has no TRUNCATE; DELETE fires the row triggers")

    _refused(metadata_url, f"TRUNCATE {table} CASCADE", "append-only")


@pytest.mark.parametrize("statement", [
    "UPDATE audit_head SET sequence = 0, hash = '" + "0" * 64 + "'",
    "UPDATE audit_head SET hash = '" + "f" * 64 + "'",
    "DELETE FROM audit_head",
])
def test_the_head_only_moves_forward(recorded: Platform, metadata_url: str,
                                     statement: str) -> None:
    """Resetting, re-hashing or deleting the head is refused by the database itself."""
    _refused(metadata_url, statement, "only moves forward")


@pytest.mark.parametrize("statement", [
    "TRUNCATE audit_events",
    "DROP TRIGGER audit_events_append_only ON audit_events",
    "ALTER TABLE audit_events DISABLE TRIGGER USER",
    "ALTER TABLE decisions ADD COLUMN note TEXT",
    "DROP TABLE audit_head",
])
def test_the_runtime_role_cannot_touch_the_schema(recorded: Platform, metadata_url: str,
                                                  request: pytest.FixtureRequest,
                                                  statement: str) -> None:
    """The role the platform runs as (it just recorded an event) is refused every statement
    that would remove or get around a guard: it owns nothing and holds no TRUNCATE right."""
    if not metadata_url.startswith("postgresql"):
        pytest.skip("SQLite has no roles: the file's owner is the database's owner")
    runtime_url = request.getfixturevalue("runtime_url")

    _refused(runtime_url, statement, "permission denied|must be owner")
