"""Helpers for integration tests: raw access to a store, as an attacker with DBA rights."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, create_engine, text


@pytest.fixture
def dba(metadata_url: str) -> Iterator[Connection]:
    """A raw connection to the metadata database with the append-only guards removed.

    Tampering tests act as someone who can bypass the application, which the hash chain
    must still catch.
    """
    engine = create_engine(metadata_url)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            for table in ("audit_events", "decisions", "audit_head"):
                connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            for table in ("audit_events", "decisions"):
                for verb in ("update", "delete"):
                    connection.execute(text(f"DROP TRIGGER {table}_no_{verb}"))
            for guard in ("audit_head_no_delete", "audit_head_forward_only"):
                connection.execute(text(f"DROP TRIGGER {guard}"))
    with engine.begin() as connection:
        yield connection
    engine.dispose()
