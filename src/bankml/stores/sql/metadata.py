"""The metadata store: one SQLAlchemy engine, transactions that carry every repository."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bankml.core.errors import SchemaOutdatedError, StoreBusyError, StoreUnavailableError
from bankml.stores.sql.audit import SqlAuditLog
from bankml.stores.sql.checkpoints import Checkpointer
from bankml.stores.sql.decisions import SqlDecisionLog
from bankml.stores.sql.endpoints import SqlEndpoints
from bankml.stores.sql.engine import (
    DEFAULT_TIMEOUTS,
    WRITE_OPTION,
    Timeouts,
    create_metadata_engine,
    read_only,
)
from bankml.stores.sql.errors import is_busy, translated_errors
from bankml.stores.sql.features import SqlFeatureViews
from bankml.stores.sql.identity import SqlTokens, SqlUsers
from bankml.stores.sql.migrations import current_revision, head_revision, upgrade_serialised
from bankml.stores.sql.models import SqlModelVersions
from bankml.stores.sql.monitoring import SqlAlerts, SqlLabels, SqlMonitoring
from bankml.stores.sql.oversight import SqlOversight
from bankml.stores.sql.references import SqlReferences
from bankml.stores.sql.refusals import SqlRefusalCounts
from bankml.stores.sql.retrainings import SqlRetrainings
from bankml.stores.sql.rollouts import SqlLeases, SqlRollouts
from bankml.stores.sql.validation_runs import SqlValidationRuns
from bankml.stores.sql.writer_turns import WriterTurns


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
    refusals: SqlRefusalCounts
    references: SqlReferences
    labels: SqlLabels
    monitoring: SqlMonitoring
    alerts: SqlAlerts
    rollouts: SqlRollouts
    leases: SqlLeases
    retrainings: SqlRetrainings

    @classmethod
    def on(cls, connection: Connection, clock: Callable[[], datetime],
           *, writable: bool) -> SqlTransaction:
        return cls(audit=SqlAuditLog(connection, clock, writable=writable),
                   models=SqlModelVersions(connection), decisions=SqlDecisionLog(connection),
                   endpoints=SqlEndpoints(connection),
                   features=SqlFeatureViews(connection),
                   users=SqlUsers(connection), tokens=SqlTokens(connection),
                   oversight=SqlOversight(connection),
                   validation_runs=SqlValidationRuns(connection),
                   refusals=SqlRefusalCounts(connection),
                   references=SqlReferences(connection),
                   labels=SqlLabels(connection), monitoring=SqlMonitoring(connection),
                   alerts=SqlAlerts(connection), rollouts=SqlRollouts(connection),
                   leases=SqlLeases(connection),
                   retrainings=SqlRetrainings(connection))


def _utc_now() -> datetime:
    return datetime.now(UTC)


# A process that finds another migrating waits for it rather than failing; migrations may
# run for as long as they need.
MIGRATION_TIMEOUTS = Timeouts(lock_s=300.0, statement_s=0)


class SqlMetadataStore:
    """SQLite or PostgreSQL behind the same repositories.

    `url` is what the platform runs as; on PostgreSQL a role that may read and write rows
    but owns nothing. `migration_url`, when given, is the schema owner's, used only by
    `migrate` (docs/security.md). Without `durable_commits`, commits return before they
    are flushed (see `create_metadata_engine`): only for writes nobody is answered on.
    """

    def __init__(self, url: str, *, migration_url: str | None = None,
                 timeouts: Timeouts = DEFAULT_TIMEOUTS,
                 clock: Callable[[], datetime] = _utc_now,
                 durable_commits: bool = True) -> None:
        self._url, self._migration_url = url, migration_url or url
        self._location = _described(url)  # named by every transaction: parsed once
        self._engine = create_metadata_engine(url, timeouts, manual_checkpoints=True,
                                              durable_commits=durable_commits)
        self._clock = clock
        self._after_commit: list[Callable[[], None]] = []
        self._turns: WriterTurns | None = None
        if self._engine.dialect.name == "sqlite":
            database = make_url(url).database
            if database and database != ":memory:":
                self._turns = WriterTurns(Path(database), timeout_s=timeouts.lock_s,
                                          location=self.describe())
            self._checkpoints = Checkpointer(self._engine, self._turn)
            self._after_commit.append(self._checkpoints.written)

    def describe(self) -> str:
        return self._location

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` after every write transaction that commits."""
        self._after_commit.append(callback)

    def check_current(self) -> None:
        """SchemaOutdatedError unless the database is at the newest migration."""
        current = self._revision()
        if current != head_revision():
            raise SchemaOutdatedError(
                f"The metadata store {self.describe()} is at migration {current or 'none'}, "
                f"this bankml needs {head_revision()}; migrate it before use.")

    def migrate(self) -> str:
        """Bring the schema to the newest migration, as the migration URL's role, one
        process at a time, and check that the runtime URL sees it (SchemaOutdatedError if
        not); returns the revision now in force."""
        head = head_revision()
        if self._revision() == head:  # the usual case: no owner's engine, no write lock
            return head
        engine = create_metadata_engine(self._migration_url, MIGRATION_TIMEOUTS)
        location = _described(self._migration_url)
        try:
            with _connected(engine, location) as connection, translated_errors(location):
                connection.execution_options(**{WRITE_OPTION: True})
                upgrade_serialised(connection)
        finally:
            engine.dispose()
        self.check_current()  # the owner's URL built it: the runtime URL must see it too
        return head

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        with self._turn(), self._connect() as connection, translated_errors(self._location):
            connection.execution_options(**{WRITE_OPTION: True})
            with connection.begin():
                tx = SqlTransaction.on(connection, self._clock, writable=True)
                yield tx
                # Last, so that the chain's head is locked only for the commit itself.
                tx.audit.flush()
        for callback in self._after_commit:
            callback()

    @contextmanager
    def reading(self) -> Iterator[SqlTransaction]:
        """A read-only transaction: the database itself refuses a write through it."""
        with self._connect() as connection, translated_errors(self._location), \
                read_only(connection), connection.begin():
            yield SqlTransaction.on(connection, self._clock, writable=False)

    def close(self) -> None:
        if self._engine.dialect.name == "sqlite":
            self._checkpoints.close()
        if self._turns is not None:
            self._turns.close()
        self._engine.dispose()

    def _revision(self) -> str | None:
        with self._connect() as connection:
            return current_revision(connection)

    def _turn(self) -> AbstractContextManager[None]:
        """A write transaction's turn among this file's writers (SQLite; none needed on
        PostgreSQL, whose waiters are woken by the server)."""
        return nullcontext() if self._turns is None else self._turns.turn()

    def _connect(self) -> AbstractContextManager[Connection]:
        return _connected(self._engine, self._location)


@contextmanager
def _connected(engine: Engine, location: str) -> Iterator[Connection]:
    try:
        connection = engine.connect()
    except OperationalError as exc:
        reason = " ".join(str(exc.orig).split())
        if is_busy(exc):
            raise StoreBusyError(f"The metadata store {location} is busy ({reason}); "
                                 "nothing was changed, try again.") from exc
        raise StoreUnavailableError(
            f"Cannot reach the metadata store {location} ({reason}). Check "
            "BANKML_METADATA_URL and that the server is running.") from exc
    with connection:
        yield connection


def _described(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
