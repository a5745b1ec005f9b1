"""Statements run on SQLite's own cursor behave as SQLAlchemy's would: same rows, same
defaults, same errors (so the store translates them alike)."""

from __future__ import annotations

import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError, OperationalError

from bankml.core.errors import ConflictError
from bankml.stores.sql.driver import SqliteStatement
from bankml.stores.sql.errors import translated_errors

metadata = MetaData()
things = Table("things", metadata, Column("id", Integer, primary_key=True),
               Column("name", String(20), nullable=False), Column("kind", Integer))
INSERT = SqliteStatement(insert(things).values(
    {name: bindparam(name) for name in ("id", "name", "kind")}))
OF_KIND = SqliteStatement(select(things.c.id, things.c.name)
                          .where(things.c.kind == 7, things.c.id >= bindparam("least"))
                          .order_by(things.c.id))


@pytest.fixture
def connection():
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def test_rows_come_in_chunks_with_the_statements_own_literals(connection):
    INSERT.execute_many(connection, [{"id": i, "name": f"n{i}", "kind": 7 if i % 2 else 1}
                                     for i in range(1, 11)])
    chunks = list(OF_KIND.rows(connection, {"least": 4}, chunk=2))
    assert OF_KIND.one(connection, {"least": 6}) == (7, "n7")
    assert OF_KIND.one(connection, {"least": 99}) is None
    assert [len(chunk) for chunk in chunks] == [2, 1]  # 5, 7, 9: the literal 7 held
    assert [row for chunk in chunks for row in chunk] == [(5, "n5"), (7, "n7"), (9, "n9")]
    assert connection.execute(select(things.c.name).where(things.c.id == 9)).scalar() == "n9"


def test_a_broken_constraint_is_sqlalchemys_error_and_the_stores_conflict(connection):
    INSERT.execute(connection, {"id": 1, "name": "a", "kind": 1}).close()
    with pytest.raises(IntegrityError):
        INSERT.execute_many(connection, [{"id": 2, "name": "b", "kind": 1},
                                         {"id": 1, "name": "again", "kind": 1}])
    with pytest.raises(ConflictError) as raised, translated_errors("test"):
        INSERT.execute(connection, {"id": 1, "name": "again", "kind": 1})
    assert raised.value.rule == "store.constraint"


def test_a_failing_statement_is_an_operational_error(connection):
    broken = SqliteStatement(select(Table("missing", MetaData(), Column("id", Integer)).c.id))
    with pytest.raises(OperationalError, match="no such table"):
        list(broken.rows(connection, {}, chunk=10))
