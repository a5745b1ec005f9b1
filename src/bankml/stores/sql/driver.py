"""SQLAlchemy statements compiled once for SQLite and run on the driver's own cursor.

For the statements on the hottest paths (the decision log's commit, the audit chain's
append, the monitored and verified streams) SQLAlchemy's execution machinery costs more
than SQLite's work: building a Row per row read, and per statement executed about as
much again as the statement itself (a decision's commit ran six statements for half a
millisecond). These run inside the same transaction, on the same connection, with the
same SQL: only the driver is called directly. PostgreSQL keeps SQLAlchemy's path.

Only columns without a bind or result processor may pass through here (text, integers,
floats): the driver sees and returns the values as they are. The driver's errors leave as
SQLAlchemy's, so the store translates them as it does any other.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

T = TypeVar("T")

_DIALECT = sqlite.dialect()


def on_sqlite(connection: Connection) -> bool:
    return connection.dialect.name == "sqlite"


class SqliteStatement:
    """One statement's SQL for SQLite, with its parameters in the driver's order."""

    def __init__(self, statement: ClauseElement) -> None:
        compiled = statement.compile(dialect=_DIALECT)
        if not isinstance(compiled, SQLCompiler):  # a DDL element, say: not a statement
            raise TypeError(f"{type(statement).__name__} does not compile to SQL")
        self.sql = compiled.string
        # the values the statement carries itself (a literal in a WHERE, say)
        self._defaults = {name: bind.value for name, bind in compiled.binds.items()
                          if not bind.required}
        self._names = tuple(compiled.positiontup or ())

    def parameters(self, values: Mapping[str, Any]) -> list[Any]:
        return [values[name] if name in values else self._defaults[name]
                for name in self._names]

    def execute(self, connection: Connection, values: Mapping[str, Any]) -> Any:
        """Run once; the driver's cursor, to fetch from."""
        cursor = _cursor(connection)
        parameters = self.parameters(values)
        return self._wrapped(lambda: cursor.execute(self.sql, parameters), parameters)

    def one(self, connection: Connection, values: Mapping[str, Any]) -> Any:
        """Run once; the first row (None if there is none)."""
        cursor = self.execute(connection, values)
        try:
            return self._wrapped(cursor.fetchone, None)
        finally:
            cursor.close()

    def execute_many(self, connection: Connection, rows: Iterable[Mapping[str, Any]]
                     ) -> None:
        cursor = _cursor(connection)
        parameters = [self.parameters(row) for row in rows]
        try:
            self._wrapped(lambda: cursor.executemany(self.sql, parameters), parameters)
        finally:
            cursor.close()

    def rows(self, connection: Connection, values: Mapping[str, Any], chunk: int
             ) -> Iterator[list[Any]]:
        """The driver's plain tuples, in lists of up to `chunk`."""
        cursor = self.execute(connection, values)
        try:
            while found := self._wrapped(lambda: cursor.fetchmany(chunk), None):
                yield found
        finally:
            cursor.close()

    def _wrapped(self, call: Callable[[], T], parameters: Any) -> T:
        try:
            return call()
        except sqlite3.Error as exc:
            raise DBAPIError.instance(self.sql, parameters, exc, sqlite3.Error) from exc


def _cursor(connection: Connection) -> Any:
    return connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
