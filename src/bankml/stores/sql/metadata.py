"""The metadata store: one SQLAlchemy engine, transactions that carry every repository."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from bankml.core.errors import SchemaOutdatedError, StoreUnavailableError
from bankml.stores.sql.audit import SqlAuditLog
from bankml.stores.sql.decisions import SqlDecisionLog
from bankml.stores.sql.endpoints import SqlEndpoints
from bankml.stores.sql.engine import WRITE_OPTION, create_metadata_engine, read_only
from bankml.stores.sql.errors import translated_errors
from bankml.stores.sql.features import SqlFeatureViews
from bankml.stores.sql.identity import SqlTokens, SqlUsers
from bankml.stores.sql.migrations import current_revision, head_revision, upgrade_to_head
from bankml.stores.sql.models import SqlModelVersions
from bankml.stores.sql.oversight import SqlOversight
from bankml.stores.sql.validation_runs import SqlValidationRuns


@dataclass(slots=True)
class SqlTransaction:
    audit: SqlAuditLog
    models: SqlModelVersions
    decisions: SqlDecisionLog
    endpoints: SqlEndpoints
    features: SqlFeatureViews
    users: SqlUsers
    tokens: SqlTokens
    oversight: SqlOversight
    validation_runs: SqlValidationRuns

    @classmethod
    def on(cls, connection: Connection, clock: Callable[[], datetime],
           *, writable: bool) -> SqlTransaction:
        return cls(audit=SqlAuditLog(connection, clock, writable=writable),
                   models=SqlModelVersions(connection), decisions=SqlDecisionLog(connection),
                   endpoints=SqlEndpoints(connection),
                   features=SqlFeatureViews(connection),
                   users=SqlUsers(connection), tokens=SqlTokens(connection),
                   oversight=SqlOversight(connection),
                   validation_runs=SqlValidationRuns(connection))


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SqlMetadataStore:
    """SQLite or PostgreSQL behind the same repositories."""

    def __init__(self, url: str, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self._engine = create_metadata_engine(url)
        self._clock = clock

    def describe(self) -> str:
        return self._engine.url.render_as_string(hide_password=True)

    def check_current(self) -> None:
        """SchemaOutdatedError unless the database is at the newest migration."""
        with self._connect() as connection:
            current = current_revision(connection)
        if current != head_revision():
            raise SchemaOutdatedError(
                f"The metadata store {self.describe()} is at migration {current or 'none'}, "
                f"this bankml needs {head_revision()}; migrate it before use.")

    def migrate(self) -> str:
        """Bring the schema to the newest migration; returns the revision now in force."""
        with self._connect() as connection:
            return upgrade_to_head(connection)

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        with self._connect() as connection, translated_errors(self.describe()):
            connection.execution_options(**{WRITE_OPTION: True})
            with connection.begin():
                yield SqlTransaction.on(connection, self._clock, writable=True)

    @contextmanager
    def reading(self) -> Iterator[SqlTransaction]:
        """A read-only transaction: the database itself refuses a write through it."""
        with self._connect() as connection, translated_errors(self.describe()), \
                read_only(connection), connection.begin():
            yield SqlTransaction.on(connection, self._clock, writable=False)

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        try:
            connection = self._engine.connect()
        except OperationalError as exc:
            reason = " ".join(str(exc.orig).split())
            raise StoreUnavailableError(
                f"Cannot reach the metadata store {self.describe()} ({reason}). Check "
                "BANKML_METADATA_URL and that the server is running.") from exc
        with connection:
            yield connection
