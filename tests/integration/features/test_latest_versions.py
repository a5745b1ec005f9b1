"""Which version is latest comes from the metadata database; caches stay bounded."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from bankml import Entity, FeatureView, Field, FileSource, Float64, Int64, Platform
from bankml.features import FeatureStore
from bankml.features.online import LATEST_MAX_AGE_S, RESOLUTIONS
from bankml.features.plans import PLANS
from bankml.stores.offline import DuckDbOfflineEngine
from support.people import staff

BASE = datetime(2024, 1, 1, tzinfo=UTC)
FEATURES = [f"f{i}" for i in range(12)]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "wide.parquet"
    pd.DataFrame({"customer_id": [1, 2], "event_timestamp": pd.to_datetime([BASE, BASE]),
                  **{name: [1.0, 2.0] for name in FEATURES}}).to_parquet(path)
    return path


def wide(source: Path, *, ttl_days: int = 30) -> FeatureView:
    return FeatureView(
        name="wide", entities=(Entity(name="customer", join_keys=("customer_id",),
                                      dtype=Int64),),
        source=FileSource(path=str(source)),
        schema=tuple(Field(name=name, dtype=Float64) for name in FEATURES),
        ttl=timedelta(days=ttl_days))


@pytest.fixture
def two_platforms(tmp_path: Path, metadata_url: str) -> Iterator[tuple[Platform, Platform]]:
    """Two processes' platforms on one home and one metadata database."""
    with Platform.open(tmp_path / "home", metadata_url=metadata_url) as first, \
            Platform.open(tmp_path / "home", metadata_url=metadata_url) as second:
        yield first, second


def test_a_view_applied_elsewhere_resolves_at_once(two_platforms: tuple[Platform, Platform],
                                                   source: Path) -> None:
    """After another platform applies version 2, `wide:f0` resolves to it, no refresh."""
    first, second = two_platforms
    first.features.apply(staff(first, "ops"), [wide(source)])
    assert second.features.resolve(["wide:f0"])[0].number == 1

    first.features.apply(staff(first, "ops"), [wide(source, ttl_days=1)])

    assert second.features.resolve(["wide:f0"])[0].number == 2
    assert second.features.definition("wide").ttl == timedelta(days=1)  # type: ignore[union-attr]
    later = pd.DataFrame({"customer_id": [1], "event_timestamp": [BASE + timedelta(days=5)]})
    assert second.features.get_historical_features(staff(second, "ops"),
                                                   later, ["wide:f0"])["f0"].isna().all()


def test_lookups_see_an_apply_elsewhere_within_the_time_limit(
        two_platforms: tuple[Platform, Platform], source: Path) -> None:
    """A lookup may use a latest version read up to LATEST_MAX_AGE_S ago, never older."""
    first, second = two_platforms
    now = [0.0]
    serving = FeatureStore(second.metadata,
                           DuckDbOfflineEngine(second.settings.resolved_offline_folder),
                           second.online, second.artifacts, monotonic=lambda: now[0])
    first.features.apply(staff(first, "ops"), [wide(source)])
    first.features.materialize(staff(first, "ops"), end=BASE + timedelta(days=1))
    assert serving.for_services.get_online_features([{"customer_id": 1}], ["wide:f0"]).found == [
        {"wide@1": True}]
    first.features.apply(staff(first, "ops"), [wide(source, ttl_days=1)])

    now[0] += LATEST_MAX_AGE_S
    within = serving.for_services.get_online_features([{"customer_id": 1}], ["wide:f0"])
    now[0] += 0.001
    after = serving.for_services.get_online_features([{"customer_id": 1}], ["wide:f0"])

    assert within.found == [{"wide@1": True}]
    assert after.found == [{"wide@2": False}]  # version 2 is not materialised yet


def test_caches_stay_bounded_after_many_distinct_requests(sqlite_platform: Platform,
                                                          source: Path) -> None:
    """Thousands of distinct feature lists leave at most PLANS plans and RESOLUTIONS lists."""
    features = sqlite_platform.features
    ops = staff(sqlite_platform, "ops")
    features.apply(ops, [wide(source)])
    features.materialize(ops, end=BASE + timedelta(days=1))
    requests = [[f"wide:{a}", f"wide:{b}", f"wide@1:{c}"]
                for a, b, c in itertools.permutations(FEATURES, 3)]
    assert len(requests) > RESOLUTIONS > PLANS

    for refs in requests:
        [row] = features.for_services.get_online_features([{"customer_id": 2}], refs,
                                                          at=BASE + timedelta(days=1)).rows
        assert [row[r.split(":")[1]] for r in refs] == [2.0, 2.0, 2.0]

    assert len(features.planner) == PLANS
    assert features.serving.remembered_lists == RESOLUTIONS


def test_pinned_and_latest_references_share_a_plan(sqlite_platform: Platform,
                                                   source: Path) -> None:
    """`wide:f0` and `wide@1:f0` read one version, so they are planned once."""
    features = sqlite_platform.features
    features.apply(staff(sqlite_platform, "ops"), [wide(source)])
    entity_df = pd.DataFrame({"customer_id": [1], "event_timestamp": [BASE]})

    features.for_services.get_historical_features(entity_df, ["wide:f0"])
    features.for_services.get_historical_features(entity_df, ["wide@1:f0"])

    assert len(features.planner) == 1
