"""The offline engine on DuckDB: sources read in place, appended rows kept as Parquet.

Inside, every source is normalised to one relation: join keys, `_e` (event time in epoch
microseconds), `_c` (recorded time; the event time when the source does not record it),
`_k` = greatest(_e, _c) (when the row became knowable), `_r` (source order, the last
tie-break) and the view's columns. These names stay in this module: what goes in and out
are the public columns of the OfflineEngine port.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import create_engine

from bankml.core.errors import InvalidInputError, StoreUnavailableError
from bankml.core.features import (
    CREATED_TIMESTAMP,
    ENTITY_ROW,
    EVENT_TIMESTAMP,
    Dtype,
    DuckDbQuerySource,
    FeatureView,
    FileSource,
    SqlTableSource,
)

MICROS_PER_SECOND = 1_000_000
UTC_MICROS = pa.timestamp("us", tz="UTC")
# the entity rows as registered in DuckDB: their position and time in epoch microseconds
ROW, TIME = "_entity_row", "_t"
BATCH_ROWS = 200_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# `_r` of a Parquet row: file index times this plus the row's position in its file
ROWS_PER_FILE = 1 << 40
INT64_MIN = -(1 << 63)
COMPATIBLE_TYPES: dict[Dtype, tuple[str, ...]] = {
    Dtype.INT64: ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UINTEGER", "USMALLINT",
                  "UTINYINT", "HUGEINT"),
    Dtype.FLOAT64: ("DOUBLE", "FLOAT", "DECIMAL", "BIGINT", "INTEGER", "SMALLINT"),
    Dtype.STRING: ("VARCHAR",),
    Dtype.BOOL: ("BOOLEAN",),
}
TIMESTAMP_TYPES = ("TIMESTAMP", "DATE")


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDbOfflineEngine:
    """Point-in-time joins, event ranges and latest values over a view's rows."""

    def __init__(self, folder: Path, *, memory_limit: str = "4GB", threads: int = 0,
                 batch_rows: int = BATCH_ROWS) -> None:
        self._folder = folder
        self._memory_limit = memory_limit
        self._threads = threads
        self._batch_rows = batch_rows

    def describe(self) -> str:
        return f"DuckDB over {self._folder}"

    # -- sources ------------------------------------------------------------------------

    def check_source(self, view: FeatureView) -> None:
        """Raise InvalidInputError naming each column the source lacks or types wrongly."""
        with self._connection() as connection:
            try:
                relation = self._source_sql(connection, view, include_pushed=False)
                rows = connection.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
            except duckdb.Error as exc:
                raise InvalidInputError(f"feature view {view.name}", "its source cannot be "
                                        f"read: {_first_line(exc)}",
                                        rule="features.source") from exc
        types = {str(row[0]): str(row[1]).upper() for row in rows}
        problems = []
        for key in view.join_keys:
            if key not in types:
                problems.append(f"join key {key!r} is missing")
        source = view.source
        for column in (source.timestamp_field, source.created_timestamp_column):
            if column is None:
                continue
            if column not in types:
                problems.append(f"timestamp column {column!r} is missing")
            elif not types[column].startswith(TIMESTAMP_TYPES):
                problems.append(f"timestamp column {column!r} is {types[column]}, "
                                "not a timestamp")
        for field in view.schema:
            actual = types.get(field.name)
            if actual is None:
                problems.append(f"column {field.name!r} ({field.dtype}) is missing")
            elif not actual.startswith(COMPATIBLE_TYPES[field.dtype]):
                problems.append(f"column {field.name!r} is {actual} in the source but "
                                f"{field.dtype} in the schema")
        if problems:
            raise InvalidInputError(
                f"feature view {view.name}", f"the source does not match the schema: "
                f"{'; '.join(problems)}. Source columns: "
                f"{', '.join(f'{n} {t}' for n, t in types.items())}",
                rule="features.schema_matches_source")

    def append(self, view: FeatureView, rows: pa.Table) -> None:
        """Keep pushed rows of `view` as a new Parquet file; retrieval reads them too.

        Files are named so that they sort in the order appended: source order.
        """
        folder = self._pushed_folder(view.name)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{time.time_ns():020d}-{uuid.uuid4().hex}.parquet"
        partial = path.with_suffix(".partial")
        pq.write_table(rows, partial)
        partial.rename(path)  # readers never see half a file

    # -- retrieval ----------------------------------------------------------------------

    def point_in_time(self, entity_rows: pa.Table,
                      reads: Sequence[tuple[FeatureView, Sequence[str]]], *,
                      late_corrections: bool) -> pa.Table:
        """The feature values of each entity row as known at its time, in its order.

        Two passes per view, so that the wide feature rows never enter a sort: an ASOF
        join over the narrow rows (keys, times, row number `_r`) picks the row each entity
        row gets, then one hash join streams the source once to fetch the picked rows'
        values. Rows come back in any order and a positional gather restores the entity
        order.
        """
        keys = list(dict.fromkeys(k for view, _ in reads for k in view.join_keys))
        with self._connection() as connection:
            connection.register("entity_input", _narrow(entity_rows, keys))
            ctes: list[str] = []
            asofs, matches, fetches, values = [], [], [], []
            for index, (view, features) in enumerate(reads):
                rows = self._stable_rows(connection, view, f"s{index}", ctes)
                best = f"b{index}"
                ctes.append(f"{best} AS ({_best_known_sql(view, rows, late_corrections)})")
                on_keys = " AND ".join(f"e.{quoted(k)} = {best}.{quoted(k)}"
                                       for k in view.join_keys)
                asofs.append(f"ASOF LEFT JOIN {best} ON {on_keys} "
                             f"AND e.{TIME} >= {best}._k")
                fresh = (f"{best}._e IS NOT NULL" if view.ttl is None else
                         f"{best}._e >= e.{TIME} - "
                         f"{int(view.ttl.total_seconds()) * MICROS_PER_SECOND}")
                matches.append(f"CASE WHEN {fresh} THEN {best}._r END AS _m{index}")
                columns = ", ".join(["_r", *(quoted(f) for f in features)])
                fetches.append(f"LEFT JOIN (SELECT {columns} FROM {rows}) v{index} "
                               f"ON v{index}._r = m._m{index}")
                values += [f"v{index}.{quoted(f)}" for f in features]
            ctes.append(f"m AS (SELECT e.{ROW}, {', '.join(matches)} "
                        f"FROM entity_input e {' '.join(asofs)})")
            sql = (f"WITH {', '.join(ctes)} SELECT m.{ROW}, {', '.join(values)} "
                   f"FROM m {' '.join(fetches)}")
            found = connection.sql(sql).to_arrow_table()
        return _in_entity_order(entity_rows.num_rows, found)

    def events_in_windows(self, entity_rows: pa.Table, view: FeatureView, *,
                          late_corrections: bool) -> pa.Table:
        """Each entity row's events within the view's longest window, known by its time."""
        window_us = int(view.max_window.total_seconds()) * MICROS_PER_SECOND
        on_keys = " AND ".join(f"e.{quoted(k)} = f.{quoted(k)}" for k in view.join_keys)
        known = "" if late_corrections else f"AND f._c <= e.{TIME}"
        columns = "".join(f", f.{quoted(c.name)}" for c in view.schema)
        with self._connection() as connection:
            connection.register("entity_input", _narrow(entity_rows, list(view.join_keys)))
            rows = self._normalised(connection, view, "s")
            sql = (f"SELECT e.{ROW} AS {ENTITY_ROW}, f._e, f._c{columns} "
                   f"FROM entity_input e JOIN ({rows}) f ON {on_keys} "
                   f"AND f._e <= e.{TIME} AND f._e > e.{TIME} - {window_us} "
                   f"{known} ORDER BY e.{ROW}, f._e, f._c, f._r")
            return _with_times(connection.sql(sql).to_arrow_table())

    def latest_rows(self, view: FeatureView, *, start: datetime | None,
                    end: datetime) -> Iterator[pa.Table]:
        """Each touched entity's latest row known at `end`.

        As in the point-in-time join, the latest row is picked over keys and times only
        and its values fetched by row number.
        """
        start_us, end_us = _optional_epoch_us(start), _epoch_us(end)
        keys = ", ".join(quoted(k) for k in view.join_keys)
        values = ", ".join(["_e", *(quoted(f.name) for f in view.schema)])
        with self._connection() as connection:
            ctes: list[str] = []
            rows = self._stable_rows(connection, view, "s", ctes)
            touched = _touched(keys, rows, start_us, end_us)
            # A hash aggregate, no sort: the struct orders by event, recorded time, source
            # order (a missing recorded time first, as it sorts last in the descending
            # order of the join). A row without an event time is never joined offline, so
            # it is not served either.
            ctes.append(f"latest AS (SELECT max({{'e': _e, 'c': coalesce(_c, {INT64_MIN}), "
                        "'r': _r}).r AS _r "
                        f"FROM {rows} WHERE _k <= {end_us} AND _e IS NOT NULL {touched} "
                        f"GROUP BY {keys})")
            sql = (f"WITH {', '.join(ctes)} SELECT {keys}, {values} FROM {rows} f "
                   "SEMI JOIN latest ON f._r = latest._r")
            yield from self._tables(connection.sql(sql))

    def recent_events(self, view: FeatureView, *, start: datetime | None,
                      end: datetime) -> Iterator[pa.Table]:
        """Each touched entity's events known at `end` within the view's longest window."""
        start_us, end_us = _optional_epoch_us(start), _epoch_us(end)
        window_us = int(view.max_window.total_seconds()) * MICROS_PER_SECOND
        keys = ", ".join(quoted(k) for k in view.join_keys)
        values = ", ".join(["_e", "_c", *(quoted(f.name) for f in view.schema)])
        with self._connection() as connection:
            rows = self._normalised(connection, view, "s")
            touched = _touched(keys, "f", start_us, end_us)
            sql = (f"WITH f AS ({rows}) SELECT {keys}, {values} FROM f WHERE _k <= {end_us} "
                   f"AND _e > {end_us - window_us} {touched} ORDER BY {keys}, _e, _c, _r")
            yield from self._tables(connection.sql(sql))

    def data_bounds(self, view: FeatureView) -> tuple[datetime, datetime] | None:
        """The earliest and latest time a row of the view became known."""
        with self._connection() as connection:
            rows = self._normalised(connection, view, "s")
            low, high = connection.execute(f"SELECT min(_k), max(_k) FROM ({rows})").fetchone() \
                or (None, None)
        return None if low is None else (_from_epoch_us(int(low)), _from_epoch_us(int(high)))

    def sample_keys(self, view: FeatureView, sample: int, seed: int) -> pa.Table:
        """Up to `sample` distinct entity keys of the view, the same ones for the same seed."""
        keys = ", ".join(quoted(k) for k in view.join_keys)
        with self._connection() as connection:
            rows = self._normalised(connection, view, "s")
            sql = (f"SELECT DISTINCT {keys} FROM ({rows}) ORDER BY hash({keys}, {int(seed)}), "
                   f"{keys} LIMIT {int(sample)}")
            return connection.sql(sql).to_arrow_table()

    # -- internals ----------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        spill = self._folder / ".spill"
        # No extension is installed at run time: the machine may have no network.
        config: dict[str, str | bool | int | float | list[str]] = {
            "memory_limit": self._memory_limit, "autoinstall_known_extensions": "false",
            "temp_directory": str(spill)}
        if self._threads:
            config["threads"] = str(self._threads)
        try:
            connection = duckdb.connect(config=config)
        except duckdb.Error as exc:
            raise StoreUnavailableError(f"DuckDB cannot start: {exc}") from exc
        try:
            yield connection
        finally:
            connection.close()

    def _tables(self, result: duckdb.DuckDBPyRelation) -> Iterator[pa.Table]:
        """The result in tables of up to `batch_rows` rows, `_e`/`_c` as public times."""
        for batch in result.to_arrow_reader(self._batch_rows):
            yield _with_times(pa.Table.from_batches([batch]))

    def _pushed_folder(self, view: str) -> Path:
        return self._folder / "pushed" / view

    def _source_sql(self, connection: duckdb.DuckDBPyConnection, view: FeatureView,
                    *, include_pushed: bool, alias: str = "s") -> str:
        source = view.source
        if isinstance(source, FileSource):
            reader = "read_parquet" if source.file_format == "parquet" else "read_csv"
            options = ", union_by_name = true" if source.file_format == "parquet" else ""
            relation = f"{reader}({literal(source.path)}{options})"
        elif isinstance(source, DuckDbQuerySource):
            relation = f"({source.query})"
        else:
            name = f"sql_{alias}"
            connection.register(name, _read_sql_table(source))
            relation = name
        pushed = self._pushed_folder(view.name)
        if include_pushed and pushed.is_dir() and any(pushed.glob("*.parquet")):
            glob = literal(str(pushed / "*.parquet"))
            relation = (f"(SELECT * FROM {relation} UNION ALL BY NAME "
                        f"SELECT * FROM read_parquet({glob}, union_by_name = true))")
        return relation

    def _normalised(self, connection: duckdb.DuckDBPyConnection, view: FeatureView,
                    alias: str) -> str:
        source = view.source
        files = self._parquet_files(connection, view)
        if files is None:
            relation = self._source_sql(connection, view, include_pushed=True, alias=alias)
            order = "row_number() OVER ()"
        else:
            # Numbered by position (file, row): the same numbers on every scan, and no
            # single-threaded window over the whole source.
            relation = (f"read_parquet([{', '.join(literal(f) for f in files)}], "
                        "union_by_name = true)")
            order = f"file_index * {ROWS_PER_FILE} + file_row_number"
        # epoch_us of the column itself: the instant of a TIMESTAMPTZ, and UTC for a naive
        # TIMESTAMP or DATE. A cast to TIMESTAMP would convert through the session's time
        # zone (costly per row, and shifted when the machine is not on UTC).
        event = f"epoch_us({quoted(source.timestamp_field)})"
        created = (event if source.created_timestamp_column is None else
                   f"epoch_us({quoted(source.created_timestamp_column)})")
        columns = ", ".join([*(quoted(k) for k in view.join_keys),
                             *(f"CAST({quoted(f.name)} AS {_sql_type(f.dtype)}) "
                               f"AS {quoted(f.name)}" for f in view.schema)])
        return (f"SELECT {columns}, {event} AS _e, {created} AS _c, "
                f"greatest({event}, {created}) AS _k, {order} AS _r FROM {relation}")

    def _stable_rows(self, connection: duckdb.DuckDBPyConnection, view: FeatureView,
                     alias: str, ctes: list[str]) -> str:
        """The view's rows as a relation whose `_r` is the same each time it is scanned.

        Parquet rows are numbered by position, so the files can be read twice; any other
        source is numbered once and kept (a CTE added to `ctes`).
        """
        rows = self._normalised(connection, view, alias)
        if self._parquet_files(connection, view) is not None:
            return f"({rows})"
        ctes.append(f"{alias} AS MATERIALIZED ({rows})")
        return alias

    def _parquet_files(self, connection: duckdb.DuckDBPyConnection,
                       view: FeatureView) -> list[str] | None:
        """The Parquet files of a Parquet source, then its pushed files; None otherwise.

        Listing them once fixes the set and order every scan of one query reads.
        """
        source = view.source
        if not isinstance(source, FileSource) or source.file_format != "parquet":
            return None
        files = sorted(str(row[0]) for row in connection.execute(
            "SELECT file FROM glob(?)", [source.path]).fetchall())
        if not files:
            return None  # the plain read reports the missing files
        pushed = self._pushed_folder(view.name)
        return [*files, *sorted(str(p) for p in pushed.glob("*.parquet"))]


def _sql_type(dtype: Dtype) -> str:
    return {Dtype.INT64: "BIGINT", Dtype.FLOAT64: "DOUBLE", Dtype.STRING: "VARCHAR",
            Dtype.BOOL: "BOOLEAN"}[dtype]


def _best_known_sql(view: FeatureView, rows: str, late_corrections: bool) -> str:
    """Per entity, from each time `_k` on: the best row `_r` known, and its event time `_e`.

    The best row is the latest by (event time, recorded time, source order). Only keys and
    times pass through the sorts here; the feature values are fetched by `_r` afterwards.
    """
    keys = ", ".join(quoted(k) for k in view.join_keys)
    if view.source.created_timestamp_column is None or late_corrections:
        # A row counts from its event time; among rows of one event time the last wins.
        return (f"SELECT {keys}, _e AS _k, _e, _r FROM {rows} QUALIFY row_number() OVER ("
                f"PARTITION BY {keys}, _e ORDER BY _c DESC, _r DESC) = 1")
    # A row counts once it is knowable (_k): the best row known by k is a running max over
    # rows in the order they became knowable.
    return (f"SELECT {keys}, _k, _b.e AS _e, _b.r AS _r FROM ("
            f"SELECT {keys}, _k, max({{'e': _e, 'c': _c, 'r': _r}}) OVER (PARTITION BY {keys} "
            f"ORDER BY _k, _r ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _b "
            f"FROM {rows} QUALIFY row_number() OVER (PARTITION BY {keys}, _k "
            "ORDER BY _r DESC) = 1)")


def _narrow(entity_rows: pa.Table, keys: Sequence[str]) -> pa.Table:
    """The entity rows as the join reads them: position, epoch microseconds, join keys."""
    times = pc.cast(pc.cast(entity_rows.column(EVENT_TIMESTAMP), UTC_MICROS, safe=False),
                    pa.int64())
    return pa.table({ROW: pa.array(np.arange(entity_rows.num_rows), pa.int64()),
                     TIME: times, **{k: entity_rows.column(k) for k in keys}})


def _in_entity_order(entity_rows: int, found: pa.Table) -> pa.Table:
    """The feature columns of `found`, gathered into entity order."""
    if found.num_rows != entity_rows:
        raise StoreUnavailableError(f"the point-in-time join returned {found.num_rows} rows "
                                    f"for {entity_rows} entity rows; please report this")
    position = np.empty(found.num_rows, dtype=np.int64)
    position[found.column(ROW).to_numpy()] = np.arange(found.num_rows)
    return found.drop_columns([ROW]).take(pa.array(position))


TIME_COLUMNS: Mapping[str, str] = {"_e": EVENT_TIMESTAMP, "_c": CREATED_TIMESTAMP}


def _with_times(table: pa.Table) -> pa.Table:
    """`_e` and `_c` (epoch microseconds) as the port's UTC timestamp columns."""
    for inner, public in TIME_COLUMNS.items():
        if inner in table.column_names:
            index = table.column_names.index(inner)
            table = table.set_column(index, public,
                                     pc.cast(table.column(index), UTC_MICROS))
    return table


def _epoch_us(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise InvalidInputError("time", f"{moment} has no time zone; use UTC",
                                rule="features.utc")
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * MICROS_PER_SECOND + delta.microseconds


def _optional_epoch_us(moment: datetime | None) -> int | None:
    return None if moment is None else _epoch_us(moment)


def _from_epoch_us(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def _touched(keys: str, rows: str, start_us: int | None, end_us: int) -> str:
    if start_us is None:
        return ""
    return (f"AND ({keys}) IN (SELECT ({keys}) FROM {rows} WHERE _k > {start_us} "
            f"AND _k <= {end_us})")


def _read_sql_table(source: SqlTableSource) -> pa.Table:
    import pandas as pd  # noqa: PLC0415 - only SQL sources need it

    engine = create_engine(source.url)
    try:
        with engine.connect() as connection:
            frame = pd.read_sql_table(source.table, connection)
    except Exception as exc:
        raise InvalidInputError(f"source {source.table}", f"cannot be read from "
                                f"{engine.url.render_as_string(hide_password=True)}: "
                                f"{_first_line(exc)}", rule="features.source") from exc
    finally:
        engine.dispose()
    return pa.Table.from_pandas(frame, preserve_index=False)


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
