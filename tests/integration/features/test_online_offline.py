"""Online and offline give the same values: plain, windowed and on-demand, SQLite and Redis."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from bankml import Platform
from bankml.datasets import synthesize_card_transactions
from support.people import staff

DEFINITIONS = Path(__file__).with_name("definitions_card.py")
PLAIN = ["card_last:amount", "card_last:merchant_id"]
WINDOWED = ["card_activity:events_count_1h", "card_activity:amount_sum_24h",
            "card_activity:amount_mean_24h", "card_activity:amount_max_7d",
            "card_activity:merchant_id_distinct_count_24h"]
ON_DEMAND = ["amount_ratio:amount_vs_usual"]


@pytest.fixture
def transactions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pd.DataFrame:
    frame = synthesize_card_transactions(1_500, cards=40, seed=3)
    frame.to_parquet(tmp_path / "transactions.parquet")
    shutil.copy(DEFINITIONS, tmp_path / "definitions.py")
    monkeypatch.setenv("CARD_TRANSACTIONS", str(tmp_path / "transactions.parquet"))
    return frame


@pytest.fixture
def applied(features_platform: Platform, transactions: pd.DataFrame,
            tmp_path: Path) -> Platform:
    features_platform.features.apply(staff(features_platform, "ops"), tmp_path / "definitions.py")
    return features_platform


def offline_and_online(platform: Platform, cards: list[str], at: pd.Timestamp,
                       features: list[str]) -> tuple[list[dict[str, object]],
                                                     list[dict[str, object]]]:
    names = [ref.split(":")[1] for ref in features]
    entity_df = pd.DataFrame({"card_id": cards, "event_timestamp": at,
                              "request_amount": 42.0})
    offline = platform.features.get_historical_features(staff(platform, "ops"), entity_df, features)
    assert isinstance(offline, pd.DataFrame)
    online = platform.features.get_online_features(staff(platform, "ops"),
        [{"card_id": c, "request_amount": 42.0} for c in cards], features, at=at)
    offline_rows = [{n: (None if pd.isna(v) else v) for n, v in zip(names, row, strict=True)}
                    for row in offline[names].itertuples(index=False)]
    online_rows = [{n: row[n] for n in names} for row in online.rows]
    return offline_rows, online_rows


@pytest.mark.parametrize("features", [PLAIN, WINDOWED, ON_DEMAND],
                         ids=["plain", "windowed", "on_demand"])
def test_materialized_values_equal_offline(applied: Platform, transactions: pd.DataFrame,
                                           features: list[str]) -> None:
    """After materialisation, every sampled card reads the same online as offline."""
    end = transactions["event_timestamp"].max() + timedelta(seconds=1)
    applied.features.materialize(staff(applied, "ops"), end=end.to_pydatetime())
    cards = sorted(transactions["card_id"].unique())

    offline, online = offline_and_online(applied, cards, end, features)

    assert online == offline
    assert any(value is not None for row in online for value in row.values())


def test_pushed_events_keep_both_paths_equal(applied: Platform,
                                             transactions: pd.DataFrame) -> None:
    """Events pushed after materialisation update online and offline alike."""
    end = transactions["event_timestamp"].max() + timedelta(seconds=1)
    applied.features.materialize(staff(applied, "ops"), end=end.to_pydatetime())
    card = transactions["card_id"].iloc[-1]
    events = pd.DataFrame({"card_id": [card, card, "card-new"],
                           "event_timestamp": [end, end + timedelta(minutes=5), end],
                           "amount": [999.5, 1.25, 10.0],
                           "merchant_id": ["m-new", "m-001", "m-002"]})
    for view in ("card_activity", "card_last"):
        applied.features.push(staff(applied, "ops"), view, events)
    later = end + timedelta(minutes=10)

    offline, online = offline_and_online(applied, [card, "card-new"], later,
                                         PLAIN + WINDOWED + ON_DEMAND)

    assert online == offline
    assert online[0]["amount"] == 1.25


def test_a_later_push_wins_a_tie_on_both_paths(applied: Platform,
                                               transactions: pd.DataFrame) -> None:
    """Pushes of one card at one event time: the last one pushed is served by both paths."""
    end = transactions["event_timestamp"].max() + timedelta(seconds=1)
    applied.features.materialize(staff(applied, "ops"), end=end.to_pydatetime())
    card = transactions["card_id"].iloc[-1]
    for amount in (1.0, 2.0, 3.0, 4.0):
        applied.features.push(staff(applied, "ops"), "card_last", pd.DataFrame({
            "card_id": [card], "event_timestamp": [end], "amount": [amount],
            "merchant_id": ["m-001"]}))

    offline, online = offline_and_online(applied, [card], end, PLAIN)

    assert offline == online == [{"amount": 4.0, "merchant_id": "m-001"}]


def test_skew_check_finds_no_mismatch(applied: Platform, transactions: pd.DataFrame) -> None:
    """The skew check of a freshly materialised view reports zero mismatches."""
    end = (transactions["event_timestamp"].max() + timedelta(seconds=1)).to_pydatetime()
    applied.features.materialize(staff(applied, "ops"), end=end)

    for view in ("card_activity", "card_last"):
        report = applied.features.skew_check(staff(applied, "ops"), view, sample=25, at=end)

        assert report.entities == 25
        assert report.mismatches == []


def test_skew_check_reports_a_stale_online_value(applied: Platform,
                                                 transactions: pd.DataFrame) -> None:
    """Rows recorded after materialisation show up as mismatches, named by feature."""
    middle = transactions["event_timestamp"].iloc[len(transactions) // 2].to_pydatetime()
    applied.features.materialize(staff(applied, "ops"), end=middle)
    end = (transactions["event_timestamp"].max() + timedelta(seconds=1)).to_pydatetime()

    report = applied.features.skew_check(staff(applied, "ops"), "card_last", sample=40, at=end)

    assert report.by_feature()["amount"] > 0


def test_unknown_entity_gives_nulls_and_a_flag(applied: Platform,
                                               transactions: pd.DataFrame) -> None:
    """A card the online store never saw reads as nulls with found False, no exception."""
    applied.features.materialize(staff(applied, "ops"),
                                 end=transactions["event_timestamp"].max().to_pydatetime())

    result = applied.features.get_online_features(staff(applied, "ops"),
                                                  [{"card_id": "nobody"}], PLAIN)

    assert result.rows[0]["amount"] is None
    assert result.found == [{"card_last@1": False}]
    assert result.to_frame()["found"].tolist() == [False]


def test_incremental_starts_from_the_watermark(applied: Platform,
                                               transactions: pd.DataFrame) -> None:
    """The second incremental run loads only the cards with rows recorded since the first."""
    times = transactions["event_timestamp"]
    middle = times.iloc[len(times) - 5].to_pydatetime()
    first = applied.features.materialize_incremental(staff(applied, "ops"),
                                                     middle, views=["card_last"])
    second = applied.features.materialize_incremental(staff(applied, "ops"),
        (times.max() + timedelta(seconds=1)).to_pydatetime(), views=["card_last"])

    assert first[0].start is None
    assert second[0].start == first[0].end
    assert second[0].entities == transactions.iloc[-5:]["card_id"].nunique()
