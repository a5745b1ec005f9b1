"""The metadata store on SQLite and PostgreSQL: migrations, transactions, append-only guards."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from bankml import Platform
from bankml.core.errors import (
    InvalidInputError,
    ReadOnlyError,
    SchemaOutdatedError,
    StoreUnavailableError,
)
from bankml.core.identity import Principal, Role
from bankml.stores.sql import SqlMetadataStore, tables
from bankml.stores.sql.migrations import (
    HERE,
    _config,
    current_revision,
    downgrade_to_base,
    head_revision,
)
from support.trail import audit_events


def test_migrations_create_the_schema(platform: Platform, metadata_url: str) -> None:
    """Opening a platform brings the database to the newest migration."""
    engine = create_engine(metadata_url)
    with engine.connect() as connection:
        assert current_revision(connection) == head_revision()
        tables = set(inspect(connection).get_table_names())
    engine.dispose()

    assert {"audit_events", "audit_head", "model_versions", "decisions"} <= tables


def test_migrations_run_down_and_up_again(platform: Platform, metadata_url: str) -> None:
    """Every migration can be undone and re-applied."""
    engine = create_engine(metadata_url)
    with engine.connect() as connection:
        downgrade_to_base(connection)
        assert "audit_events" not in inspect(connection).get_table_names()
    engine.dispose()

    store = SqlMetadataStore(metadata_url)
    assert store.migrate() == head_revision()
    store.close()


def test_the_head_is_the_newest_file_and_alembic_agrees() -> None:
    """The head read from the files' names is Alembic's own, and each file holds the
    revision its name begins with."""
    scripts = ScriptDirectory.from_config(_config())
    assert head_revision() == scripts.get_current_head()
    for path in (HERE / "versions").glob("*.py"):
        revision = scripts.get_revision(path.name.split("_", 1)[0])
        assert revision is not None
        assert Path(revision.path).name == path.name


def test_a_current_schema_opens_while_a_writer_holds_the_file(tmp_path: Path,
                                                              migrated_sqlite: Path) -> None:
    """Opening a store whose schema is current asks for no write lock: a CLI command
    opened beside a busy server does not make its decision log wait."""
    database = tmp_path / "metadata.db"
    shutil.copyfile(migrated_sqlite, database)
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    opened: list[str] = []
    store = SqlMetadataStore(f"sqlite:///{database}")
    opening = threading.Thread(target=lambda: opened.append(store.migrate()), daemon=True)
    opening.start()
    opening.join(timeout=60)  # a migration would wait up to five minutes for the writer
    opened_beside_the_writer = not opening.is_alive()
    writer.rollback()
    opening.join()
    store.check_current()
    store.close()

    assert opened_beside_the_writer
    assert opened == [head_revision()]


def test_reopening_is_idempotent(platform: Platform, metadata_url: str) -> None:
    """Migrating an up-to-date database changes nothing and loses nothing."""
    with platform.metadata.transaction() as tx:
        tx.audit.record("alice", "test.done", "thing:1", {})

    again = SqlMetadataStore(metadata_url)
    again.migrate()

    with again.reading() as tx:
        assert tx.audit.head().sequence == 1
    again.close()


def test_event_and_change_commit_together(platform: Platform) -> None:
    """An error inside a transaction leaves neither the change nor its audit event."""
    with pytest.raises(RuntimeError, match="boom"), platform.metadata.transaction() as tx:
        tx.audit.record("alice", "test.done", "thing:1", {"n": 1})
        raise RuntimeError("boom")

    with platform.metadata.reading() as tx:
        assert list(tx.audit.events()) == []
        assert tx.audit.head().sequence == 0


def test_a_store_for_unanswered_writes_commits_without_waiting_for_the_disk(
        metadata_url: str) -> None:
    """The shadow process's store: SQLite's synchronous=NORMAL, PostgreSQL's
    synchronous_commit=off; what it commits is seen by every other store at once."""
    sqlite = metadata_url.startswith("sqlite")
    asked = "PRAGMA synchronous" if sqlite else "SHOW synchronous_commit"
    durable, unanswered = (SqlMetadataStore(metadata_url),
                           SqlMetadataStore(metadata_url, durable_commits=False))
    try:
        durable.migrate()
        with unanswered.transaction() as tx:
            tx.audit.record("shadow", "test.unanswered", "thing:1", {})
        seen = {}
        for name, store in (("durable", durable), ("unanswered", unanswered)):
            with store._engine.connect() as connection:
                seen[name] = str(connection.exec_driver_sql(asked).scalar())
        with durable.reading() as tx:
            assert [e.action for e in tx.audit.events(subject="thing:1")] == ["test.unanswered"]
    finally:
        durable.close()
        unanswered.close()

    assert seen == ({"durable": "2", "unanswered": "1"} if sqlite  # FULL, NORMAL
                    else {"durable": "on", "unanswered": "off"})


def test_reading_view_cannot_record(platform: Platform) -> None:
    """Audit events are only written inside a write transaction."""
    with pytest.raises(ReadOnlyError), platform.metadata.reading() as tx:
        tx.audit.record("alice", "test.done", "thing:1", {})


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET actor = 'mallory'",
    "DELETE FROM audit_events",
])
def test_audit_rows_are_append_only(platform: Platform, metadata_url: str,
                                    statement: str) -> None:
    """The database itself refuses to update or delete audit events."""
    with platform.metadata.transaction() as tx:
        tx.audit.record("alice", "test.done", "thing:1", {})
    engine = create_engine(metadata_url)

    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    engine.dispose()


def test_events_filter_by_subject_and_limit(platform: Platform) -> None:
    """Listing can narrow to one subject and to the newest events."""
    with platform.metadata.transaction() as tx:
        for index in range(5):
            tx.audit.record("alice", "test.done", f"thing:{index % 2}", {"i": index})

    about_one = audit_events(platform, subject="thing:1")
    newest = audit_events(platform, limit=2, newest_first=True)

    assert [e.payload["i"] for e in about_one] == [1, 3]
    assert [e.sequence for e in newest] == [5, 4]


def test_unreachable_server_is_named() -> None:
    """A database that cannot be reached gives an error naming the setting, password hidden."""
    store = SqlMetadataStore("postgresql+psycopg://bank:secret@127.0.0.1:1/nowhere")

    with pytest.raises(StoreUnavailableError,
                       match=r"bank:\*\*\*@127.0.0.1:1.*BANKML_METADATA_URL"):
        store.migrate()
    store.close()


def test_outdated_schema_is_named_when_migrating_is_off(tmp_path: Path,
                                                        empty_metadata_url: str) -> None:
    """With BANKML_AUTO_MIGRATE off, an unmigrated store stops the platform with a clear error."""
    metadata_url = empty_metadata_url
    with pytest.raises(SchemaOutdatedError, match="at migration none, this bankml needs"):
        Platform.open(tmp_path / "home", metadata_url=metadata_url, auto_migrate=False)

    Platform.open(tmp_path / "home", metadata_url=metadata_url).close()  # migrates
    Platform.open(tmp_path / "home", metadata_url=metadata_url, auto_migrate=False).close()


def test_migrations_equal_the_table_definitions(platform: Platform, metadata_url: str) -> None:
    """The schema the migrations build is the one tables.py declares: no drift either way."""
    engine = create_engine(metadata_url)
    with engine.connect() as connection:
        drift = compare_metadata(MigrationContext.configure(connection), tables.metadata)
    engine.dispose()

    assert drift == []


def test_a_write_while_reading_is_refused(platform: Platform) -> None:
    """reading() is read-only in the database itself: a write through it fails and leaves
    nothing behind."""
    with pytest.raises(ReadOnlyError), platform.metadata.reading() as tx:
        tx.users.add(Principal(name="sneaky", roles=frozenset({Role.ADMIN})),
                     "2026-01-01T00:00:00Z")

    with platform.metadata.reading() as tx:
        assert tx.users.count() == 0
    with platform.metadata.transaction() as tx:  # the pooled connection writes again
        tx.users.add(Principal(name="honest"), "2026-01-01T00:00:00Z")


def test_a_value_too_long_for_its_column_is_invalid_input(platform: Platform) -> None:
    """A driver error inside a transaction leaves as a BankmlError with a rule (PostgreSQL
    refuses an over-long value; SQLite keeps it)."""
    if platform.metadata.describe().startswith("sqlite"):
        pytest.skip("SQLite does not enforce VARCHAR lengths")
    with pytest.raises(InvalidInputError) as caught, platform.metadata.transaction() as tx:
        tx.users.add(Principal(name="long", display_name="x" * 500), "2026-01-01T00:00:00Z")

    assert caught.value.rule == "store.value_fits"
