"""Versions of feature views: re-apply, change, pin, resolve, audit; bad input writes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from bankml import Entity, FeatureView, Field, FileSource, Float64, Int64, Platform, String
from bankml.core.errors import InvalidInputError, NotFoundError
from support.people import staff
from support.trail import audit_events

BASE = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "balances.parquet"
    pd.DataFrame({"customer_id": [1, 2], "event_timestamp": pd.to_datetime([BASE, BASE]),
                  "balance": [10.0, 20.0], "limit": [100.0, 50.0],
                  "segment": ["a", "b"]}).to_parquet(path)
    return path


def balances(source: Path, *, ttl_days: int = 30, description: str = "",
             extra: tuple[Field, ...] = ()) -> FeatureView:
    return FeatureView(
        name="balances", entities=(Entity(name="customer", join_keys=("customer_id",),
                                          dtype=Int64),),
        source=FileSource(path=str(source)),
        schema=(Field(name="balance", dtype=Float64), *extra), ttl=timedelta(days=ttl_days),
        description=description)


def test_unchanged_definition_keeps_its_version(sqlite_platform: Platform,
                                                source: Path) -> None:
    """Re-applying the same definition (even with a new description) makes no new version."""
    [first] = sqlite_platform.features.apply(staff(sqlite_platform, "ops"), [balances(source)])
    [again] = sqlite_platform.features.apply(staff(sqlite_platform, "ops"),
                                             [balances(source, description="new words")])

    assert (first.number, first.created) == (1, True)
    assert (again.number, again.created, again.digest) == (1, False, first.digest)


def test_changed_definition_is_a_new_version(sqlite_platform: Platform, source: Path) -> None:
    """A new TTL is a new version; the old one stays retrievable."""
    sqlite_platform.features.apply(staff(sqlite_platform, "ops"), [balances(source)])
    [second] = sqlite_platform.features.apply(staff(sqlite_platform, "ops"),
                                              [balances(source, ttl_days=1)])

    assert (second.number, second.created) == (2, True)
    assert sqlite_platform.features.definition("balances@1").ttl == timedelta(days=30)  # type: ignore[union-attr]
    assert sqlite_platform.features.definition("balances").ttl == timedelta(days=1)  # type: ignore[union-attr]


def test_pinned_reference_reads_the_old_version(sqlite_platform: Platform,
                                                source: Path) -> None:
    """`balances@1:balance` reads with version 1's TTL after version 2 shortened it."""
    sqlite_platform.features.apply(staff(sqlite_platform, "ops"), [balances(source)])
    sqlite_platform.features.apply(staff(sqlite_platform, "ops"), [balances(source, ttl_days=1)])
    entity_df = pd.DataFrame({"customer_id": [1], "event_timestamp": [BASE + timedelta(days=5)]})

    pinned = sqlite_platform.features.get_historical_features(staff(sqlite_platform, "ops"),
                                                              entity_df, ["balances@1:balance"])
    latest = sqlite_platform.features.get_historical_features(staff(sqlite_platform, "ops"),
                                                              entity_df, ["balances:balance"])

    assert pinned["balance"].tolist() == [10.0]
    assert latest["balance"].isna().all()


def test_resolve_pins_references_to_digests(sqlite_platform: Platform, source: Path) -> None:
    """resolve() gives view, number and digest for what a model records."""
    [applied] = sqlite_platform.features.apply(staff(sqlite_platform, "ops"), [balances(source)])

    [resolved] = sqlite_platform.features.resolve(["balances:balance"])

    assert (resolved.view, resolved.number, resolved.digest, resolved.feature) == (
        "balances", 1, applied.digest, "balance")
    assert resolved.pinned == "balances@1:balance"


def test_every_apply_is_audited(sqlite_platform: Platform, source: Path) -> None:
    """Each apply records an event, new version or not."""
    sqlite_platform.features.apply(staff(sqlite_platform, "ops"), [balances(source)])
    sqlite_platform.features.apply(staff(sqlite_platform, "eli"), [balances(source)])

    events = [e for e in audit_events(sqlite_platform) if e.action == "feature_view.applied"]
    assert [(e.actor, e.payload["new_version"]) for e in events] == [("ops", True),
                                                                      ("eli", False)]


def test_schema_mismatch_is_named_and_nothing_written(sqlite_platform: Platform,
                                                      source: Path) -> None:
    """A column the source lacks and a wrong type are both named; no version appears."""
    wrong = balances(source, extra=(Field(name="missing_col", dtype=Float64),
                                    Field(name="segment", dtype=Float64)))

    with pytest.raises(InvalidInputError, match=r"'missing_col'.*missing.*'segment' is VARCHAR"):
        sqlite_platform.features.apply(staff(sqlite_platform, "ops"),
                                       [replace(balances(source), name="good"), wrong])

    assert sqlite_platform.features.versions() == []


def test_entity_frame_without_keys_is_refused(sqlite_platform: Platform,
                                              source: Path) -> None:
    """An entity frame lacking the join key and event_timestamp names both."""
    sqlite_platform.features.apply(staff(sqlite_platform, "ops"), [balances(source)])

    with pytest.raises(InvalidInputError,
                       match=r"event_timestamp \(the time of each row\), customer_id"):
        sqlite_platform.features.get_historical_features(staff(sqlite_platform, "ops"),
                                                         pd.DataFrame({"x": [1]}),
                                                         ["balances:balance"])


@pytest.mark.parametrize(("ref", "message"), [
    ("balances:nothing", r"No feature 'balances:nothing'.*has: balance"),
    ("balances@7:balance", r"No feature view version 'balances@7'.*Known versions: 1"),
    ("nowhere:balance", r"No feature view 'nowhere'.*Known views: balances"),
])
def test_unknown_references_are_named(sqlite_platform: Platform, source: Path, ref: str,
                                      message: str) -> None:
    """Unknown features, versions and views each get an error naming them."""
    sqlite_platform.features.apply(staff(sqlite_platform, "ops"), [balances(source)])

    with pytest.raises(NotFoundError, match=message):
        sqlite_platform.features.resolve([ref])


def test_duplicate_feature_names_across_views(sqlite_platform: Platform,
                                              source: Path) -> None:
    """Two views giving `balance` in one request is an error naming both."""
    other = FeatureView(
        name="ledger", entities=(Entity(name="customer", join_keys=("customer_id",),
                                        dtype=Int64),),
        source=FileSource(path=str(source)), schema=(Field(name="balance", dtype=Float64),
                                                     Field(name="segment", dtype=String)))
    sqlite_platform.features.apply(staff(sqlite_platform, "ops"), [balances(source), other])

    with pytest.raises(InvalidInputError, match=r"'balance' comes from both balances@1:balance "
                                                r"and ledger@1:balance"):
        sqlite_platform.features.resolve(["balances:balance", "ledger:balance"])


def test_training_set_stores_profiles(sqlite_platform: Platform, source: Path) -> None:
    """Building training data stores the dataset and each feature's profile by digest."""
    sqlite_platform.features.apply(staff(sqlite_platform, "ops"), [balances(source)])
    entity_df = pd.DataFrame({"customer_id": [1, 2, 3], "event_timestamp": [BASE] * 3})

    built = sqlite_platform.features.build_training_set(staff(sqlite_platform, "ops"),
                                                        entity_df, ["balances:balance"],
                                                        name="pd-train")

    stored = sqlite_platform.features.profile(built.profile_sha256)
    assert stored["features"]["balance"]["missing_rate"] == pytest.approx(1 / 3, abs=1e-12)
    assert sum(stored["features"]["balance"]["bin_counts"]) == 2
    assert stored == built.profile
    assert sqlite_platform.artifacts.exists(built.dataset_sha256)
