"""Counts of unauthenticated refusals per minute and subject, in SQL."""

from __future__ import annotations

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bankml.core.refusals import RefusalCount
from bankml.stores.sql.tables import refusal_counts as counts


class SqlRefusalCounts:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def count(self, window: str, subject: str) -> int:
        """Count one more refusal; returns how many the window now holds for `subject`."""
        insert = (postgresql_insert if self._connection.dialect.name == "postgresql"
                  else sqlite_insert)
        self._connection.execute(
            insert(counts).values(window_start=window, subject=subject, refused=1, recorded=0)
            .on_conflict_do_update(index_elements=[counts.c.window_start, counts.c.subject],
                                   set_={"refused": counts.c.refused + 1}))
        return int(self._connection.execute(select(counts.c.refused).where(
            counts.c.window_start == window, counts.c.subject == subject)).scalar_one())

    def mark_recorded(self, window: str, subject: str) -> None:
        self._connection.execute(update(counts).where(
            counts.c.window_start == window, counts.c.subject == subject,
        ).values(recorded=counts.c.recorded + 1))

    def closed(self, before: str) -> list[RefusalCount]:
        """Every count of a window that began before `before`."""
        rows = self._connection.execute(select(counts).where(
            counts.c.window_start < before).order_by(counts.c.window_start, counts.c.subject))
        return [RefusalCount(window=row.window_start, subject=row.subject,
                             refused=row.refused, recorded=row.recorded) for row in rows]

    def forget(self, before: str) -> None:
        """Drop the counts of windows that began before `before` (summarised by now)."""
        self._connection.execute(delete(counts).where(counts.c.window_start < before))
