"""One contract for every offline engine: DuckDB today, Spark with a fixture of its own.

Every test builds its source as Parquet under `tmp_path` and reads it through the engine's
port alone: entity rows go in and feature values come out in the port's public columns
(`event_timestamp`, `created_timestamp`, `entity_row`, join keys, feature names).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bankml.core.errors import InvalidInputError
from bankml.core.features import (
    CREATED_TIMESTAMP,
    ENTITY_ROW,
    EVENT_TIMESTAMP,
    Aggregation,
    AggregationFunction,
    Bool,
    Entity,
    FeatureView,
    Field,
    FileSource,
    Float64,
    Int64,
    String,
)
from bankml.core.ports import OfflineEngine
from bankml.stores.offline import DuckDbOfflineEngine

BASE = datetime(2024, 1, 1, tzinfo=UTC)
UTC_MICROS = pa.timestamp("us", tz="UTC")
CUSTOMER = Entity(name="customer", join_keys=("customer_id",), dtype=Int64)
Row = tuple[int, int, int | None, float]  # customer, event s, recorded s (None: no column), value


def at(seconds: float) -> datetime:
    return BASE + timedelta(seconds=seconds)


def write_rows(path: Path, rows: Sequence[Row], **extra: list[Any]) -> Path:
    """A Parquet file of (customer_id, event_timestamp, recorded_at, balance) rows."""
    frame = pd.DataFrame({
        "customer_id": pd.Series([r[0] for r in rows], dtype="int64"),
        "event_timestamp": pd.to_datetime([at(r[1]) for r in rows], utc=True),
        "balance": pd.Series([r[3] for r in rows], dtype="float64"), **extra})
    if any(r[2] is not None for r in rows):
        frame["recorded_at"] = pd.to_datetime([at(r[1] if r[2] is None else r[2])
                                               for r in rows], utc=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path)
    return path


def balances(path: Path | str, *, ttl_s: int | None = None, created: bool = True,
             name: str = "balances", extra: Sequence[Field] = (),
             windows_s: Sequence[int] = ()) -> FeatureView:
    return FeatureView(
        name=name, entities=(CUSTOMER,),
        source=FileSource(path=str(path),
                          created_timestamp_column="recorded_at" if created else None),
        schema=(Field(name="balance", dtype=Float64), *extra),
        ttl=None if ttl_s is None else timedelta(seconds=ttl_s),
        aggregations=tuple(Aggregation(function=AggregationFunction.SUM, column="balance",
                                       window=timedelta(seconds=w)) for w in windows_s))


def entity_rows(pairs: Sequence[tuple[int, float]]) -> pa.Table:
    """Entity rows asking about (customer, time in seconds after BASE)."""
    return pa.table({
        "customer_id": pa.array([k for k, _ in pairs], pa.int64()),
        EVENT_TIMESTAMP: pa.array([at(s) for _, s in pairs], UTC_MICROS)})


def balances_at(engine: OfflineEngine, view: FeatureView, pairs: Sequence[tuple[int, float]],
                *, late_corrections: bool = False) -> list[float | None]:
    result = engine.point_in_time(entity_rows(pairs), [(view, ["balance"])],
                                  late_corrections=late_corrections)
    return list(result.column("balance").to_pylist())


def all_rows(tables: Sequence[pa.Table]) -> list[dict[str, Any]]:
    return [row for table in tables for row in table.to_pylist()]


class OfflineEngineContract:
    """What every OfflineEngine must do; a backend subclasses this with an `engine` fixture."""

    # -- point in time ------------------------------------------------------------------

    def test_latest_row_at_or_before_the_time(self, engine: OfflineEngine,
                                              tmp_path: Path) -> None:
        """A row counts from its own event time on, and a later row replaces it."""
        view = balances(write_rows(tmp_path / "s.parquet", [(1, 0, None, 0.0),
                                                            (1, 10, None, 10.0),
                                                            (1, 20, None, 20.0)]),
                        created=False)

        assert balances_at(engine, view, [(1, 9), (1, 10), (1, 25)]) == [0.0, 10.0, 20.0]

    def test_no_row_from_the_future(self, engine: OfflineEngine, tmp_path: Path) -> None:
        """A row one microsecond after the entity row's time is not its feature."""
        view = balances(write_rows(tmp_path / "s.parquet", [(1, 5, None, 5.0)]), created=False)

        assert balances_at(engine, view, [(1, 5 - 1e-6), (1, 5)]) == [None, 5.0]

    def test_row_older_than_the_ttl_reads_as_null(self, engine: OfflineEngine,
                                                  tmp_path: Path) -> None:
        """A row exactly TTL old still counts; a microsecond older it does not."""
        view = balances(write_rows(tmp_path / "s.parquet", [(1, 0, None, 1.0)]),
                        created=False, ttl_s=10)

        assert balances_at(engine, view, [(1, 10), (1, 10 + 1e-6)]) == [1.0, None]

    def test_the_later_event_wins_whatever_was_recorded_later(
            self, engine: OfflineEngine, tmp_path: Path) -> None:
        """Rows order by event time first: a later record of an earlier event loses."""
        view = balances(write_rows(tmp_path / "s.parquet", [(1, 5, 6, 5.0),
                                                            (1, 4, 9, 4.0)]))

        assert balances_at(engine, view, [(1, 20)]) == [5.0]

    def test_a_tie_in_event_time_goes_to_the_later_record(self, engine: OfflineEngine,
                                                          tmp_path: Path) -> None:
        """Of two rows with one event time, the one recorded later wins, wherever it is."""
        view = balances(write_rows(tmp_path / "s.parquet", [(1, 5, 7, 7.0),
                                                            (1, 5, 6, 6.0)]))

        assert balances_at(engine, view, [(1, 20)]) == [7.0]

    def test_a_full_tie_goes_to_the_later_row_in_source_order(self, engine: OfflineEngine,
                                                              tmp_path: Path) -> None:
        """Same event and recorded time: the later file of the glob, then the later row."""
        write_rows(tmp_path / "rows" / "b.parquet", [(1, 5, 6, 3.0), (1, 5, 6, 4.0)])
        write_rows(tmp_path / "rows" / "a.parquet", [(1, 5, 6, 1.0), (1, 5, 6, 2.0)])
        view = balances(tmp_path / "rows" / "*.parquet")

        assert balances_at(engine, view, [(1, 20)]) == [4.0]

    def test_a_correction_counts_once_recorded(self, engine: OfflineEngine,
                                               tmp_path: Path) -> None:
        """A correction recorded at 50 is not known at 20, and is at 50."""
        view = balances(write_rows(tmp_path / "s.parquet", [(1, 0, 0, 100.0),
                                                            (1, 0, 50, -5.0)]))

        assert balances_at(engine, view, [(1, 20), (1, 50)]) == [100.0, -5.0]

    def test_late_corrections_count_from_their_event_time(self, engine: OfflineEngine,
                                                          tmp_path: Path) -> None:
        """With late corrections a row recorded after the entity row's time counts."""
        view = balances(write_rows(tmp_path / "s.parquet", [(1, 0, 0, 100.0),
                                                            (1, 0, 50, -5.0),
                                                            (2, 10, 90, 2.0)]))

        assert balances_at(engine, view, [(1, 20), (2, 20)], late_corrections=True) == [
            -5.0, 2.0]
        assert balances_at(engine, view, [(1, 20), (2, 20)]) == [100.0, None]

    def test_unknown_entity_reads_as_nulls(self, engine: OfflineEngine,
                                           tmp_path: Path) -> None:
        """An entity without rows gets a null for every feature asked, not an error."""
        view = balances(write_rows(tmp_path / "s.parquet", [(1, 0, None, 1.0)],
                                   segment=["a"]), created=False,
                        extra=[Field(name="segment", dtype=String)])

        result = engine.point_in_time(entity_rows([(99, 10)]), [(view, ["balance", "segment"])],
                                      late_corrections=False)

        assert result.to_pylist() == [{"balance": None, "segment": None}]

    def test_rows_come_back_in_entity_order_with_only_the_features(
            self, engine: OfflineEngine, tmp_path: Path) -> None:
        """One row per entity row, repeats included, in their order; only feature columns."""
        view = balances(write_rows(tmp_path / "s.parquet", [(k, 0, None, float(k))
                                                            for k in range(50)]),
                        created=False)
        pairs = [((7 * i) % 53, 5) for i in range(200)]

        result = engine.point_in_time(entity_rows(pairs), [(view, ["balance"])],
                                      late_corrections=False)

        assert result.column_names == ["balance"]
        assert result.column("balance").to_pylist() == [float(k) if k < 50 else None
                                                         for k, _ in pairs]

    def test_features_come_typed_as_declared(self, engine: OfflineEngine,
                                             tmp_path: Path) -> None:
        """Int64, Float64, String and Bool features arrive as int64, float64, string, bool."""
        view = balances(write_rows(tmp_path / "s.parquet", [(1, 0, None, 1.5)],
                                   count=[3], segment=["a"], active=[True]), created=False,
                        extra=[Field(name="count", dtype=Int64),
                               Field(name="segment", dtype=String),
                               Field(name="active", dtype=Bool)])

        result = engine.point_in_time(entity_rows([(1, 1)]),
                                      [(view, ["balance", "count", "segment", "active"])],
                                      late_corrections=False)

        types = [result.schema.field(n).type for n in result.column_names]
        assert types[:2] == [pa.float64(), pa.int64()]
        assert types[3] == pa.bool_()
        assert pa.types.is_string(types[2]) or pa.types.is_large_string(types[2])
        assert result.to_pylist() == [{"balance": 1.5, "count": 3, "segment": "a",
                                       "active": True}]

    def test_several_views_join_in_one_call(self, engine: OfflineEngine,
                                            tmp_path: Path) -> None:
        """Each view is joined on its own rows, TTL and times; columns in the order asked."""
        first = balances(write_rows(tmp_path / "a.parquet", [(1, 0, None, 1.0)]),
                         created=False, name="first")
        second = FeatureView(
            name="second", entities=(CUSTOMER,),
            source=FileSource(path=str(write_rows(tmp_path / "b.parquet",
                                                  [(1, 8, None, 0.0)], limit=[80.0]))),
            schema=(Field(name="limit", dtype=Float64),), ttl=timedelta(seconds=5))

        result = engine.point_in_time(entity_rows([(1, 10), (1, 20)]),
                                      [(second, ["limit"]), (first, ["balance"])],
                                      late_corrections=False)

        assert result.to_pylist() == [{"limit": 80.0, "balance": 1.0},
                                      {"limit": None, "balance": 1.0}]

    def test_every_join_key_must_match(self, engine: OfflineEngine, tmp_path: Path) -> None:
        """A view of two join keys joins on both."""
        path = tmp_path / "s.parquet"
        pd.DataFrame({"customer_id": [1, 1], "currency": ["EUR", "USD"],
                      "event_timestamp": pd.to_datetime([BASE, BASE], utc=True),
                      "balance": [1.0, 2.0]}).to_parquet(path)
        view = FeatureView(
            name="by_currency",
            entities=(CUSTOMER, Entity(name="currency", join_keys=("currency",))),
            source=FileSource(path=str(path)), schema=(Field(name="balance", dtype=Float64),))
        rows = pa.table({"customer_id": pa.array([1, 1, 1], pa.int64()),
                         "currency": ["USD", "EUR", "GBP"],
                         EVENT_TIMESTAMP: pa.array([at(1)] * 3, UTC_MICROS)})

        result = engine.point_in_time(rows, [(view, ["balance"])], late_corrections=False)

        assert result.column("balance").to_pylist() == [2.0, 1.0, None]

    def test_a_row_without_event_time_is_never_read(self, engine: OfflineEngine,
                                                    tmp_path: Path) -> None:
        """A row whose event time is missing joins nowhere and is served by nobody."""
        path = tmp_path / "s.parquet"
        pd.DataFrame({"customer_id": [1, 1], "balance": [1.0, 2.0],
                      "event_timestamp": pd.to_datetime([BASE, None], utc=True)}
                     ).to_parquet(path)
        view = balances(path, created=False)

        assert balances_at(engine, view, [(1, 5)]) == [1.0]
        assert [r["balance"] for r in all_rows(list(engine.latest_rows(view, start=None,
                                                                       end=at(5))))] == [1.0]

    def test_naive_source_times_are_utc(self, engine: OfflineEngine, tmp_path: Path) -> None:
        """A source timestamp without a zone is read as UTC, whatever the machine's zone."""
        path = tmp_path / "s.parquet"
        pd.DataFrame({"customer_id": [1], "balance": [1.0],
                      "event_timestamp": [pd.Timestamp("2024-01-01 00:00:10")]}
                     ).to_parquet(path)
        view = balances(path, created=False)

        assert balances_at(engine, view, [(1, 10 - 1e-6), (1, 10)]) == [None, 1.0]

    @settings(max_examples=40, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(rows=st.lists(st.tuples(st.sampled_from([1, 2, 3]), st.integers(0, 12),
                                   st.integers(0, 6)), max_size=30),
           asked=st.lists(st.tuples(st.sampled_from([1, 2, 3, 4]), st.integers(0, 20)),
                          min_size=1, max_size=15),
           ttl_s=st.sampled_from([None, 0, 3, 8]), late_corrections=st.booleans())
    def test_matches_a_brute_force_search(self, engine: OfflineEngine, tmp_path: Path, *,
                                          rows: list[tuple[int, int, int]],
                                          asked: list[tuple[int, int]], ttl_s: int | None,
                                          late_corrections: bool) -> None:
        """Every entity row gets the row a search over all rows picks: ties, TTL, lateness."""
        path = write_rows(tmp_path / f"{uuid.uuid4().hex}.parquet",
                          [(k, e, e + lag, float(i)) for i, (k, e, lag) in enumerate(rows)])
        view = balances(path, ttl_s=ttl_s) if rows else balances(path, created=False,
                                                                 ttl_s=ttl_s)

        def expected(key: int, when: int) -> float | None:
            eligible = [(e, e + lag, i) for i, (k, e, lag) in enumerate(rows)
                        if k == key and e <= when and (late_corrections or e + lag <= when)]
            if not eligible:
                return None
            event, _, index = max(eligible)
            return None if ttl_s is not None and event < when - ttl_s else float(index)

        assert balances_at(engine, view, asked, late_corrections=late_corrections) == [
            expected(k, t) for k, t in asked]

    # -- appended rows ------------------------------------------------------------------

    def test_appended_rows_are_read_with_the_source(self, engine: OfflineEngine,
                                                    tmp_path: Path) -> None:
        """Rows appended to a view join, count as latest, and reach bounds and samples."""
        view = balances(write_rows(tmp_path / "s.parquet", [(1, 0, 0, 1.0)]))
        engine.append(view, pa.table({
            "customer_id": pa.array([1, 2], pa.int64()),
            "event_timestamp": pa.array([at(10), at(20)], UTC_MICROS),
            "recorded_at": pa.array([at(10), at(30)], UTC_MICROS),
            "balance": [10.0, 20.0]}))

        assert balances_at(engine, view, [(1, 15), (2, 40)]) == [10.0, 20.0]
        latest = all_rows(list(engine.latest_rows(view, start=at(5), end=at(40))))
        assert sorted((r["customer_id"], r["balance"]) for r in latest) == [(1, 10.0),
                                                                           (2, 20.0)]
        assert engine.data_bounds(view) == (at(0), at(30))
        keys = engine.sample_keys(view, 10, 0).column("customer_id").to_pylist()
        assert sorted(keys) == [1, 2]

    def test_appended_rows_come_after_the_source_in_source_order(
            self, engine: OfflineEngine, tmp_path: Path) -> None:
        """A full tie goes to the appended row, and between appends to the later one."""
        view = balances(write_rows(tmp_path / "s.parquet", [(1, 5, None, 1.0)]),
                        created=False)
        for value in (2.0, 3.0, 4.0, 5.0):
            engine.append(view, pa.table({
                "customer_id": pa.array([1], pa.int64()),
                "event_timestamp": pa.array([at(5)], UTC_MICROS), "balance": [value]}))

        assert balances_at(engine, view, [(1, 5)]) == [5.0]

    def test_appended_rows_belong_to_every_version(self, engine: OfflineEngine,
                                                   tmp_path: Path) -> None:
        """Another version of the view (same name, new TTL) reads the appended rows too."""
        path = write_rows(tmp_path / "s.parquet", [(1, 0, None, 1.0)])
        engine.append(balances(path, created=False), pa.table({
            "customer_id": pa.array([1], pa.int64()),
            "event_timestamp": pa.array([at(10)], UTC_MICROS), "balance": [2.0]}))

        assert balances_at(engine, balances(path, created=False, ttl_s=60), [(1, 11)]) == [2.0]

    # -- latest rows --------------------------------------------------------------------

    def test_latest_rows_are_each_entitys_latest_known_at_the_end(
            self, engine: OfflineEngine, tmp_path: Path) -> None:
        """One row per entity: its latest known by `end`; later or later-recorded rows wait."""
        view = balances(write_rows(tmp_path / "s.parquet", [
            (1, 0, 0, 1.0), (1, 10, 10, 2.0), (1, 20, 60, 3.0), (1, 50, 50, 4.0),
            (2, 5, 5, 5.0)]), ttl_s=1)

        tables = list(engine.latest_rows(view, start=None, end=at(30)))

        assert all(t.schema.field(EVENT_TIMESTAMP).type == UTC_MICROS for t in tables)
        assert sorted(all_rows(tables), key=lambda r: r["customer_id"]) == [
            {"customer_id": 1, EVENT_TIMESTAMP: at(10), "balance": 2.0},
            {"customer_id": 2, EVENT_TIMESTAMP: at(5), "balance": 5.0}]

    def test_latest_rows_are_of_entities_touched_in_the_range(
            self, engine: OfflineEngine, tmp_path: Path) -> None:
        """Only entities with a row known in (start, end]; each gets its latest row still."""
        view = balances(write_rows(tmp_path / "s.parquet", [
            (1, 0, 0, 1.0), (2, 0, 0, 2.0), (2, 30, 30, 3.0), (3, 5, 25, 4.0),
            (3, 8, 8, 5.0), (4, 45, 45, 6.0)]))

        rows = all_rows(list(engine.latest_rows(view, start=at(20), end=at(40))))

        assert sorted((r["customer_id"], r["balance"]) for r in rows) == [(2, 3.0), (3, 5.0)]

    # -- events -------------------------------------------------------------------------

    def test_events_in_windows_are_each_entity_rows_known_events(
            self, engine: OfflineEngine, tmp_path: Path) -> None:
        """Per entity row at t: its entity's events in (t - longest window, t] known by t."""
        view = balances(write_rows(tmp_path / "s.parquet", [
            (1, 0, 0, 1.0), (1, 40, 40, 2.0), (1, 50, 70, 3.0), (1, 60, 60, 4.0),
            (1, 61, 61, 5.0), (2, 59, 59, 6.0)]), windows_s=[5, 30])

        events = engine.events_in_windows(entity_rows([(2, 60), (9, 60), (1, 60)]), view,
                                          late_corrections=False)

        assert events.schema.field(EVENT_TIMESTAMP).type == UTC_MICROS
        assert events.schema.field(CREATED_TIMESTAMP).type == UTC_MICROS
        assert [(r[ENTITY_ROW], r[EVENT_TIMESTAMP], r[CREATED_TIMESTAMP], r["balance"])
                for r in events.to_pylist()] == [
            (0, at(59), at(59), 6.0), (2, at(40), at(40), 2.0), (2, at(60), at(60), 4.0)]

    def test_events_in_windows_with_late_corrections(self, engine: OfflineEngine,
                                                     tmp_path: Path) -> None:
        """With late corrections an event recorded after t is in t's window, ordered by
        event then recorded time."""
        view = balances(write_rows(tmp_path / "s.parquet", [
            (1, 50, 70, 3.0), (1, 50, 65, 2.0), (1, 40, 40, 1.0)]), windows_s=[30])

        events = engine.events_in_windows(entity_rows([(1, 60)]), view, late_corrections=True)

        assert events.column("balance").to_pylist() == [1.0, 2.0, 3.0]

    def test_events_without_recorded_times_count_from_their_event_time(
            self, engine: OfflineEngine, tmp_path: Path) -> None:
        """A source without recorded times gives each event's time as its created time."""
        view = balances(write_rows(tmp_path / "s.parquet", [(1, 50, None, 1.0)]),
                        created=False, windows_s=[30])

        events = engine.events_in_windows(entity_rows([(1, 60)]), view, late_corrections=False)

        assert events.column(CREATED_TIMESTAMP).to_pylist() == [at(50)]

    def test_recent_events_are_the_known_ones_of_the_longest_window(
            self, engine: OfflineEngine, tmp_path: Path) -> None:
        """For each touched entity, consecutive and in order: events known at `end` with
        end - longest window < event time <= end."""
        view = balances(write_rows(tmp_path / "s.parquet", [
            (2, 95, 95, 1.0), (1, 50, 50, 2.0), (1, 80, 80, 3.0), (1, 75, 99, 4.0),
            (2, 90, 90, 5.0), (1, 90, 101, 6.0), (1, 70, 70, 7.0), (1, 101, 101, 8.0)]),
            windows_s=[10, 30])

        tables = list(engine.recent_events(view, start=None, end=at(100)))

        rows = [(r["customer_id"], r[EVENT_TIMESTAMP], r[CREATED_TIMESTAMP], r["balance"])
                for r in all_rows(tables)]
        by_entity = [rows[i][0] for i in range(len(rows))]
        assert by_entity in ([1, 1, 2, 2], [2, 2, 1, 1])
        assert sorted(rows) == [(1, at(75), at(99), 4.0), (1, at(80), at(80), 3.0),
                                (2, at(90), at(90), 5.0), (2, at(95), at(95), 1.0)]
        assert [r for r in rows if r[0] == 1] == sorted(r for r in rows if r[0] == 1)

    def test_recent_events_are_of_entities_touched_in_the_range(
            self, engine: OfflineEngine, tmp_path: Path) -> None:
        """An entity with no row known in (start, end] gives no events."""
        view = balances(write_rows(tmp_path / "s.parquet", [
            (1, 85, 85, 1.0), (2, 75, 95, 2.0), (2, 92, 92, 3.0)]), windows_s=[30])

        rows = all_rows(list(engine.recent_events(view, start=at(90), end=at(100))))

        assert [(r["customer_id"], r["balance"]) for r in rows] == [(2, 2.0), (2, 3.0)]

    # -- bounds, samples, sources -------------------------------------------------------

    def test_data_bounds_are_the_first_and_last_known_times(self, engine: OfflineEngine,
                                                            tmp_path: Path) -> None:
        """A row is known from the later of its event and recorded time."""
        view = balances(write_rows(tmp_path / "s.parquet", [(1, 10, 5, 1.0), (1, 20, 90, 2.0),
                                                            (2, 30, 40, 3.0)]))

        assert engine.data_bounds(view) == (at(10), at(90))

    def test_data_bounds_of_no_rows_are_none(self, engine: OfflineEngine,
                                             tmp_path: Path) -> None:
        """A source without rows has no bounds."""
        view = balances(write_rows(tmp_path / "s.parquet", []), created=False)

        assert engine.data_bounds(view) is None

    def test_sample_keys_are_distinct_entities(self, engine: OfflineEngine,
                                               tmp_path: Path) -> None:
        """A sample as large as the entities holds each entity once, as join key columns."""
        view = balances(write_rows(tmp_path / "s.parquet", [(k % 7, k, None, 0.0)
                                                            for k in range(40)]),
                        created=False)

        keys = engine.sample_keys(view, 100, 0)

        assert keys.column_names == ["customer_id"]
        assert sorted(keys.column("customer_id").to_pylist()) == list(range(7))

    def test_the_same_seed_samples_the_same_entities(self, engine: OfflineEngine,
                                                     tmp_path: Path) -> None:
        """A sample smaller than the entities has that size and repeats for its seed."""
        view = balances(write_rows(tmp_path / "s.parquet", [(k, 0, None, 0.0)
                                                            for k in range(100)]),
                        created=False)

        first = engine.sample_keys(view, 10, 3).column("customer_id").to_pylist()
        again = engine.sample_keys(view, 10, 3).column("customer_id").to_pylist()

        assert len(set(first)) == 10
        assert sorted(first) == sorted(again)

    def test_a_matching_source_passes_the_check(self, engine: OfflineEngine,
                                                tmp_path: Path) -> None:
        """A source with every key, time and column, rightly typed, raises nothing."""
        engine.check_source(balances(write_rows(tmp_path / "s.parquet", [(1, 0, 3, 1.0)])))

    def test_schema_check_names_every_culprit(self, engine: OfflineEngine,
                                              tmp_path: Path) -> None:
        """A missing join key, time and column and a wrongly typed column are all named."""
        path = tmp_path / "s.parquet"
        pd.DataFrame({"client": [1], "event_timestamp": ["2024-01-01"], "balance": ["x"]}
                     ).to_parquet(path)
        view = balances(path, extra=[Field(name="limit", dtype=Float64)])

        with pytest.raises(InvalidInputError, match=r"(?s)join key 'customer_id' is missing.*"
                           r"'event_timestamp' is \w+, not a timestamp.*"
                           r"'recorded_at' is missing.*'balance' is \w+ in the source but "
                           r"float64.*'limit' \(float64\) is missing") as caught:
            engine.check_source(view)
        assert caught.value.rule == "features.schema_matches_source"

    def test_an_unreadable_source_is_named(self, engine: OfflineEngine,
                                           tmp_path: Path) -> None:
        """A source that cannot be read is an error naming the view, not a crash."""
        view = balances(tmp_path / "nowhere" / "*.parquet")

        with pytest.raises(InvalidInputError, match="balances.*cannot be read") as caught:
            engine.check_source(view)
        assert caught.value.rule == "features.source"


class TestDuckDbOfflineEngine(OfflineEngineContract):
    @pytest.fixture
    def engine(self, tmp_path: Path) -> OfflineEngine:
        return DuckDbOfflineEngine(tmp_path / "offline", threads=1, batch_rows=2)
