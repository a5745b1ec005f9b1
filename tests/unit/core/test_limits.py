"""The limits services check before writing are the sizes of the columns they fill."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String

from bankml.core import limits
from bankml.core.audit import SUBJECT_CHARS
from bankml.stores.sql import tables

COLUMNS: list[tuple[int, Column[str]]] = [
    (limits.DISPLAY_NAME_CHARS, tables.users.c.display_name),
    (limits.TOKEN_DESCRIPTION_CHARS, tables.api_tokens.c.description),
    (limits.FINDING_TITLE_CHARS, tables.findings.c.title),
    (limits.ALERT_TITLE_CHARS, tables.alerts.c.title),
    (limits.GATE_CHARS, tables.policy_exceptions.c.gate),
    (limits.PERSON_CHARS, tables.models.c.owner),
    (limits.PERSON_CHARS, tables.models.c.developer),
    (SUBJECT_CHARS, tables.audit_events.c.subject),
]


def test_text_limits_equal_their_columns() -> None:
    """Each length a service checks is its column's length in tables.py."""
    for chars, column in COLUMNS:
        assert isinstance(column.type, String)
        assert column.type.length == chars, column


def test_integer_limit_is_postgresql_integer() -> None:
    """Ids and version numbers are INTEGER columns: 32 bits on PostgreSQL."""
    assert isinstance(tables.model_versions.c.number.type, Integer)
    assert limits.MAX_INTEGER == 2**31 - 1
