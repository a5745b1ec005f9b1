"""Point-in-time retrieval against a brute-force reference, and no leakage from the future."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bankml import Entity, FeatureView, Field, FileSource, Float64, Int64, Platform
from support.people import staff

BASE = datetime(2024, 1, 1, tzinfo=UTC)
KEYS = [1, 2, 3]

feature_rows = st.lists(st.tuples(st.sampled_from(KEYS), st.integers(0, 12),
                                  st.integers(0, 6)), min_size=0, max_size=40)
entity_rows = st.lists(st.tuples(st.sampled_from([*KEYS, 4]), st.integers(0, 20)),
                       min_size=1, max_size=20)


def view_over(path: Path, ttl_s: int | None, *, created: bool = True) -> FeatureView:
    return FeatureView(
        name="balances", entities=(Entity(name="customer", join_keys=("customer_id",),
                                          dtype=Int64),),
        source=FileSource(path=str(path),
                          created_timestamp_column="recorded_at" if created else None),
        schema=(Field(name="balance", dtype=Float64),),
        ttl=None if ttl_s is None else timedelta(seconds=ttl_s))


def brute_force(rows: list[tuple[int, int, int]], key: int, at: int, ttl_s: int | None,
                late_corrections: bool) -> float | None:
    """The latest row by (event, recorded, source order) known at `at`, within the TTL."""
    eligible = [(event, event + lag, order) for order, (k, event, lag) in enumerate(rows)
                if k == key and event <= at and (late_corrections or event + lag <= at)]
    if not eligible:
        return None
    event, _, order = max(eligible)
    if ttl_s is not None and event < at - ttl_s:
        return None
    return float(order)


def write_rows(path: Path, rows: list[tuple[int, int, int]]) -> None:
    pd.DataFrame({
        "customer_id": pd.Series([k for k, _, _ in rows], dtype="int64"),
        "event_timestamp": pd.to_datetime([BASE + timedelta(seconds=e) for _, e, _ in rows],
                                          utc=True),
        "recorded_at": pd.to_datetime([BASE + timedelta(seconds=e + lag)
                                       for _, e, lag in rows], utc=True),
        "balance": [float(i) for i in range(len(rows))],  # the value names the row
    }).to_parquet(path)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=feature_rows, entities=entity_rows, ttl_s=st.sampled_from([None, 0, 3, 8]),
       late_corrections=st.booleans())
def test_matches_brute_force(sqlite_platform: Platform, tmp_path: Path, *,
                             rows: list[tuple[int, int, int]],
                             entities: list[tuple[int, int]], ttl_s: int | None,
                             late_corrections: bool) -> None:
    """Each entity row gets the row a brute-force search picks: ties, TTL and lateness too."""
    path = tmp_path / f"{uuid.uuid4().hex}.parquet"
    write_rows(path, rows)
    sqlite_platform.features.apply(staff(sqlite_platform, "ops"), [view_over(path, ttl_s)])
    entity_df = pd.DataFrame({
        "customer_id": [k for k, _ in entities],
        "event_timestamp": [BASE + timedelta(seconds=t) for _, t in entities]})

    result = sqlite_platform.features.get_historical_features(staff(sqlite_platform, "ops"),
        entity_df, ["balances:balance"], late_corrections=late_corrections)

    expected = [brute_force(rows, k, t, ttl_s, late_corrections) for k, t in entities]
    actual = [None if pd.isna(v) else v for v in result["balance"]]
    assert actual == expected


def test_future_rows_never_join(sqlite_platform: Platform, tmp_path: Path) -> None:
    """Rows one microsecond after an entity row's time are never its features."""
    path = tmp_path / "rows.parquet"
    times = [BASE + timedelta(hours=h) for h in range(24)]
    pd.DataFrame({"customer_id": 1, "event_timestamp": pd.to_datetime(times, utc=True),
                  "balance": [float(h) for h in range(24)]}).to_parquet(path)
    sqlite_platform.features.apply(staff(sqlite_platform, "ops"),
                                   [view_over(path, None, created=False)])
    entity_df = pd.DataFrame({"customer_id": 1, "event_timestamp": [
        t - timedelta(microseconds=1) for t in times]})

    result = sqlite_platform.features.get_historical_features(staff(sqlite_platform, "ops"),
                                                              entity_df, ["balances:balance"])

    assert result["balance"].isna().iloc[0]
    assert list(result["balance"].iloc[1:]) == [float(h) for h in range(23)]


def test_late_correction_does_not_leak_unless_asked(sqlite_platform: Platform,
                                                    tmp_path: Path) -> None:
    """A correction recorded after the decision stays out of it, and comes in on request."""
    path = tmp_path / "rows.parquet"
    pd.DataFrame({
        "customer_id": [1, 1],
        "event_timestamp": pd.to_datetime([BASE, BASE], utc=True),
        "recorded_at": pd.to_datetime([BASE, BASE + timedelta(days=3)], utc=True),
        "balance": [100.0, -5.0],  # the second row corrects the first, three days later
    }).to_parquet(path)
    sqlite_platform.features.apply(staff(sqlite_platform, "ops"), [view_over(path, None)])
    decision = pd.DataFrame({"customer_id": [1], "event_timestamp": [BASE + timedelta(days=1)]})

    as_known = sqlite_platform.features.get_historical_features(staff(sqlite_platform, "ops"),
                                                                decision, ["balances:balance"])
    corrected = sqlite_platform.features.get_historical_features(staff(sqlite_platform, "ops"),
        decision, ["balances:balance"], late_corrections=True)

    assert as_known["balance"].tolist() == [100.0]
    assert corrected["balance"].tolist() == [-5.0]


@pytest.mark.parametrize("output", ["pandas", "arrow"])
def test_rows_keep_their_order_and_columns(sqlite_platform: Platform, tmp_path: Path,
                                           output: str) -> None:
    """Entity rows come back in their order with every column they had, as pandas or Arrow."""
    path = tmp_path / "rows.parquet"
    write_rows(path, [(1, 0, 0), (2, 0, 0)])
    sqlite_platform.features.apply(staff(sqlite_platform, "ops"), [view_over(path, None)])
    entity_df = pd.DataFrame({"customer_id": [2, 1, 2], "label": ["a", "b", "c"],
                              "event_timestamp": [BASE + timedelta(seconds=5)] * 3})

    result = sqlite_platform.features.get_historical_features(staff(sqlite_platform, "ops"),
        entity_df, ["balances:balance"], output=output)  # type: ignore[arg-type]

    frame = result if isinstance(result, pd.DataFrame) else result.to_pandas()
    assert frame["label"].tolist() == ["a", "b", "c"]
    assert frame["balance"].tolist() == [1.0, 0.0, 1.0]


def test_large_frame_matches_merge_asof_in_order(sqlite_platform: Platform,
                                                 tmp_path: Path) -> None:
    """Thousands of shuffled entity rows get pandas' merge_asof answer, in their own order."""
    rng = np.random.default_rng(7)
    rows = pd.DataFrame({
        "customer_id": rng.integers(0, 300, 20_000),
        "event_timestamp": pd.to_datetime(BASE) + pd.to_timedelta(
            rng.choice(2_000_000, 20_000, replace=False), unit="s"),  # no ties: one answer
        "balance": rng.random(20_000)})
    rows.to_parquet(tmp_path / "rows.parquet")
    sqlite_platform.features.apply(staff(sqlite_platform, "ops"),
                                   [view_over(tmp_path / "rows.parquet", 86_400,
                                              created=False)])
    entity_df = pd.DataFrame({
        "customer_id": rng.integers(0, 320, 30_000),
        "event_timestamp": pd.to_datetime(BASE) + pd.to_timedelta(
            rng.integers(0, 2_100_000, 30_000), unit="s"),
        "row": np.arange(30_000)})

    result = sqlite_platform.features.get_historical_features(staff(sqlite_platform, "ops"),
        entity_df, ["balances:balance"], output="arrow")

    expected = pd.merge_asof(
        entity_df.sort_values("event_timestamp"),
        rows.rename(columns={"event_timestamp": "feature_time"}).sort_values("feature_time"),
        left_on="event_timestamp", right_on="feature_time", by="customer_id",
        tolerance=pd.Timedelta(days=1)).sort_values("row")
    assert isinstance(result, pa.Table)
    assert result.column("row").to_pylist() == list(range(30_000))
    assert result.column("balance").to_pylist() == [
        None if pd.isna(v) else v for v in expected["balance"]]


def test_same_time_rows_in_later_files_win(sqlite_platform: Platform,
                                           tmp_path: Path) -> None:
    """Rows of one event time across the files of a glob: the later file, then row, wins."""
    folder = tmp_path / "rows"
    folder.mkdir()
    for name, balances in (("b.parquet", [3.0, 4.0]), ("a.parquet", [1.0, 2.0])):
        pd.DataFrame({"customer_id": [1, 1], "balance": balances,
                      "event_timestamp": pd.to_datetime([BASE, BASE], utc=True),
                      }).to_parquet(folder / name)
    sqlite_platform.features.apply(staff(sqlite_platform, "ops"),
                                   [view_over(folder / "*.parquet", None, created=False)])
    entity_df = pd.DataFrame({"customer_id": [1], "event_timestamp": [BASE]})

    result = sqlite_platform.features.get_historical_features(staff(sqlite_platform, "ops"),
                                                              entity_df, ["balances:balance"])

    assert result["balance"].tolist() == [4.0]


@pytest.mark.parametrize("late_corrections", [False, True])
def test_csv_source_matches_brute_force(sqlite_platform: Platform, tmp_path: Path, *,
                                        late_corrections: bool) -> None:
    """A CSV source, numbered once per query, picks the rows a brute-force search picks."""
    rows = [(1, 0, 0), (1, 0, 2), (1, 0, 2), (2, 3, 0), (1, 5, 9), (2, 3, 1), (1, 5, 0)]
    write_rows(tmp_path / "rows.parquet", rows)
    pd.read_parquet(tmp_path / "rows.parquet").to_csv(tmp_path / "rows.csv", index=False)
    view = view_over(tmp_path / "rows.parquet", None)
    source = FileSource(path=str(tmp_path / "rows.csv"), file_format="csv",
                        created_timestamp_column="recorded_at")
    sqlite_platform.features.apply(staff(sqlite_platform, "ops"), [FeatureView(
        name=view.name, entities=view.entities, source=source, schema=view.schema)])
    entities = [(k, t) for k in (1, 2, 3) for t in range(16)]
    entity_df = pd.DataFrame({"customer_id": [k for k, _ in entities],
                              "event_timestamp": [BASE + timedelta(seconds=t)
                                                  for _, t in entities]})

    result = sqlite_platform.features.get_historical_features(staff(sqlite_platform, "ops"),
        entity_df, ["balances:balance"], late_corrections=late_corrections)

    expected = [brute_force(rows, k, t, None, late_corrections) for k, t in entities]
    assert [None if pd.isna(v) else v for v in result["balance"]] == expected


def test_row_without_event_time_is_served_by_neither_path(sqlite_platform: Platform,
                                                          tmp_path: Path) -> None:
    """A row whose event time is missing is never joined offline nor materialised online."""
    path = tmp_path / "rows.parquet"
    pd.DataFrame({"customer_id": [1, 1], "balance": [1.0, 2.0],
                  "event_timestamp": pd.to_datetime([BASE, None], utc=True)}).to_parquet(path)
    sqlite_platform.features.apply(staff(sqlite_platform, "ops"),
                                   [view_over(path, None, created=False)])
    at = BASE + timedelta(seconds=5)
    sqlite_platform.features.materialize(staff(sqlite_platform, "ops"), end=at)

    offline = sqlite_platform.features.get_historical_features(staff(sqlite_platform, "ops"),
        pd.DataFrame({"customer_id": [1], "event_timestamp": [at]}), ["balances:balance"])
    online = sqlite_platform.features.get_online_features(staff(sqlite_platform, "ops"),
                                                          [{"customer_id": 1}],
                                                          ["balances:balance"], at=at)

    assert offline["balance"].tolist() == [1.0]
    assert online.rows[0]["balance"] == 1.0
