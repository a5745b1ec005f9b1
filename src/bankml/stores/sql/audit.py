"""The audit log in SQL: appends serialised on the head row, reads streamed.

Events recorded in a write transaction wait in memory and are chained when it commits
(`flush`): the head row, which every writer needs, is then locked only for the commit,
not for the whole transaction. Each event's time is taken under that lock, so times
never run backwards along the chain.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from bankml.core.audit import AuditEvent, ChainHead, EventDraft, chain_event, draft_event
from bankml.core.canonical import utc_timestamp
from bankml.core.errors import ReadOnlyError
from bankml.stores.sql.driver import SqliteStatement, on_sqlite
from bankml.stores.sql.tables import audit_events, audit_head

STREAM_BATCH = 1_000
# Built once: every audited change appends through these, the decision log on every commit.
LOCK_HEAD = (select(audit_head.c.sequence, audit_head.c.hash)
             .where(audit_head.c.id == 1).with_for_update())
INSERT_EVENTS = insert(audit_events)
MOVE_HEAD = (update(audit_head).where(audit_head.c.id == 1)
             .values(sequence=bindparam("head_sequence"), hash=bindparam("head_hash")))
EVENT_COLUMNS = ("sequence", "recorded_at", "actor", "action", "subject", "payload_json",
                 "prev_hash", "hash")
# SQLite runs the append on the driver's cursor (stores/sql/driver.py): it is on every
# decision's path.
LOCK_HEAD_SQLITE = SqliteStatement(LOCK_HEAD)
INSERT_EVENTS_SQLITE = SqliteStatement(INSERT_EVENTS.values(
    {name: bindparam(name) for name in EVENT_COLUMNS}))
MOVE_HEAD_SQLITE = SqliteStatement(MOVE_HEAD)


class SqlAuditLog:
    def __init__(self, connection: Connection, clock: Callable[[], datetime],
                 *, writable: bool) -> None:
        self._connection, self._clock, self._writable = connection, clock, writable
        self._locked_head: ChainHead | None = None  # known once this transaction holds the lock
        self._pending: list[EventDraft] = []

    def record(self, actor: str, action: str, subject: str,
               payload: Mapping[str, Any]) -> None:
        if not self._writable:
            raise ReadOnlyError("audit events are recorded inside a write transaction")
        self._pending.append(draft_event(actor=actor, action=action, subject=subject,
                                         payload=payload))

    def flush(self) -> list[AuditEvent]:
        """Chain the events recorded so far; the transaction's commit follows."""
        if not self._pending:
            return []
        sqlite = on_sqlite(self._connection)
        if self._locked_head is None:
            # FOR UPDATE serialises appends on PostgreSQL; on SQLite the write transaction
            # already holds the database's single write lock. Either way the head cannot
            # move under us until commit, so later appends in this transaction reuse it.
            sequence, head = (LOCK_HEAD_SQLITE.one(self._connection, {}) if sqlite
                              else self._connection.execute(LOCK_HEAD).one())
            self._locked_head = ChainHead(sequence=sequence, hash=head)
        chained = []
        moment = self._clock()
        for pending in self._pending:
            event = chain_event(self._locked_head, pending, moment=moment)
            self._locked_head = ChainHead(sequence=event.sequence, hash=event.hash)
            chained.append(event)
        rows = [{name: getattr(event, name) for name in EVENT_COLUMNS} for event in chained]
        moved = {"head_sequence": self._locked_head.sequence,
                 "head_hash": self._locked_head.hash}
        if sqlite:
            INSERT_EVENTS_SQLITE.execute_many(self._connection, rows)
            MOVE_HEAD_SQLITE.execute(self._connection, moved).close()
        else:
            self._connection.execute(INSERT_EVENTS, rows)
            self._connection.execute(MOVE_HEAD, moved)
        self._pending.clear()
        return chained

    def events(self, *, subject: str | None = None, since: datetime | None = None,
               until: datetime | None = None, limit: int | None = None,
               newest_first: bool = False, action: str | None = None,
               actor: str | None = None) -> Generator[AuditEvent, None, None]:
        self.flush()  # a transaction reads its own events
        query = select(audit_events)
        if subject is not None:
            query = query.where(audit_events.c.subject == subject)
        if action is not None:
            query = query.where(audit_events.c.action.startswith(action, autoescape=True)
                                if action.endswith(".") else audit_events.c.action == action)
        if actor is not None:
            query = query.where(audit_events.c.actor == actor)
        if since is not None:
            query = query.where(audit_events.c.recorded_at >= utc_timestamp(since))
        if until is not None:
            query = query.where(audit_events.c.recorded_at < utc_timestamp(until))
        order = audit_events.c.sequence.desc() if newest_first else audit_events.c.sequence
        query = query.order_by(order).limit(limit)
        result = self._connection.execution_options(yield_per=STREAM_BATCH).execute(query)
        try:
            names = tuple(result.keys())  # once: Row._asdict looks them up for every row
            for row in result:
                yield AuditEvent(**dict(zip(names, row, strict=True)))
        finally:  # a reader that stops early must not leave a server-side cursor open
            result.close()

    def head(self) -> ChainHead:
        self.flush()
        row = self._connection.execute(
            select(audit_head.c.sequence, audit_head.c.hash).where(audit_head.c.id == 1)
        ).one()
        return ChainHead(sequence=row.sequence, hash=row.hash)
