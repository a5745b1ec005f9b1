"""Delayed ground truth on SQLite and PostgreSQL: late labels, duplicates, corrections as
versions, joins by entity and time, and bad files refused whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from bankml import Platform
from bankml.core.audit import AuditEvent
from bankml.core.canonical import utc_timestamp
from bankml.core.decisions import DecisionRecord
from bankml.core.errors import InvalidInputError, PermissionDeniedError
from bankml.monitoring.labels import LabelFileError
from support.people import staff
from support.served import tiny_endpoint
from support.trail import audit_events

LATER = utc_timestamp(datetime.now(UTC) + timedelta(days=30))


def decided(platform: Platform, count: int = 3) -> list[DecisionRecord]:
    tiny_endpoint(platform)
    requests = [{"customer_id": f"c{i}", "x0": -1.0 + 0.5 * i} for i in range(count)]
    return platform.decisions.decide(staff(platform, "ops"), "pd-decisions", requests)


def last_event(platform: Platform, action: str) -> AuditEvent:
    return [event for event in audit_events(platform) if event.action == action][-1]


def write(tmp_path: Path, rows: list[dict[str, object]], name: str = "labels.csv") -> Path:
    path = tmp_path / name
    frame = pd.DataFrame(rows)
    frame.to_csv(path, index=False) if name.endswith(".csv") else frame.to_parquet(path)
    return path


def test_late_labels_are_joined_by_decision_id(platform: Platform, tmp_path: Path) -> None:
    """A file of outcomes that arrive a month later is stored as version 1 of each."""
    records = decided(platform)
    path = write(tmp_path, [{"decision_id": r.decision_id, "outcome": i % 2,
                             "observed_at": LATER} for i, r in enumerate(records)])

    report = platform.labels.ingest_file(staff(platform, "ops"), path, endpoint="pd-decisions")

    assert (report.new, report.duplicates, report.corrections) == (3, 0, 0)
    history = platform.labels.history(staff(platform, "ops"), records[1].decision_id)
    assert [(label.version, label.outcome) for label in history] == [(1, 1)]
    assert last_event(platform, "labels.ingested").payload["new"] == 3


def test_duplicate_labels_change_nothing(platform: Platform, tmp_path: Path) -> None:
    """The same file twice (Parquet this time) stores each outcome once."""
    records = decided(platform)
    path = write(tmp_path, [{"decision_id": r.decision_id, "outcome": 1,
                             "observed_at": LATER} for r in records], "labels.parquet")
    ops = staff(platform, "ops")
    platform.labels.ingest_file(ops, path, endpoint="pd-decisions")

    again = platform.labels.ingest_file(ops, path, endpoint="pd-decisions")

    assert (again.new, again.duplicates, again.corrections) == (0, 3, 0)
    assert len(platform.labels.history(ops, records[0].decision_id)) == 1


def test_a_correction_is_the_next_version_and_the_latest_is_read(platform: Platform) -> None:
    """Another outcome for a decision is version 2; both stay queryable, 2 is read."""
    [record] = decided(platform, 1)
    ops = staff(platform, "ops")
    platform.labels.ingest(ops, [{"decision_id": record.decision_id, "outcome": 0,
                                  "observed_at": LATER}], endpoint="pd-decisions")

    report = platform.labels.ingest(ops, [{"decision_id": record.decision_id, "outcome": 1,
                                           "observed_at": LATER}], endpoint="pd-decisions")

    assert report.corrections == 1
    history = platform.labels.history(ops, record.decision_id)
    assert [(label.version, label.outcome) for label in history] == [(1, 0), (2, 1)]
    with platform.metadata.reading() as tx:
        assert tx.labels.latest([record.decision_id])[record.decision_id].outcome == 1


def test_labels_join_by_entity_and_time(platform: Platform) -> None:
    """Entity keys and the time of the decision find the customer's last decision then."""
    records = decided(platform)
    ops = staff(platform, "ops")

    platform.labels.ingest(ops, [{"customer_id": "c2", "decided_at": LATER, "outcome": 1,
                                  "observed_at": LATER}], endpoint="pd-decisions")

    assert [label.outcome for label in platform.labels.history(
        ops, records[2].decision_id)] == [1]


def test_a_bad_file_is_refused_whole_naming_row_field_and_rule(platform: Platform,
                                                               tmp_path: Path) -> None:
    """Four bad rows beside a good one: each is named, and not even the good row lands."""
    records = decided(platform)
    before = utc_timestamp(datetime.now(UTC) - timedelta(days=3))
    path = write(tmp_path, [
        {"decision_id": records[0].decision_id, "outcome": 1, "observed_at": LATER},
        {"decision_id": records[1].decision_id, "outcome": 2, "observed_at": LATER},
        {"decision_id": records[2].decision_id, "outcome": 1, "observed_at": "2026-13-01"},
        {"decision_id": "nobody", "outcome": 0, "observed_at": LATER},
        {"decision_id": records[2].decision_id, "outcome": 0, "observed_at": before},
    ])
    ops = staff(platform, "ops")

    with pytest.raises(LabelFileError, match="4 bad rows, nothing was stored") as caught:
        platform.labels.ingest_file(ops, path, endpoint="pd-decisions")

    assert [(p.row, p.field, p.rule) for p in caught.value.problems] == [
        (2, "outcome", "labels.outcome_binary"), (3, "observed_at", "labels.time_utc"),
        (4, "decision_id", "labels.decision_known"),
        (5, "observed_at", "labels.after_decision")]
    assert "row 2: outcome: 2 is not 0 or 1" in str(caught.value).replace("'", "")
    assert platform.labels.history(ops, records[0].decision_id) == []
    assert last_event(platform, "input.refused").payload["rule"] == "labels.file_valid"


def test_a_time_without_zone_is_refused(platform: Platform) -> None:
    """A naive time could be any zone's: the row is refused with rule labels.time_utc."""
    [record] = decided(platform, 1)

    with pytest.raises(LabelFileError) as caught:
        platform.labels.ingest(staff(platform, "ops"), [
            {"decision_id": record.decision_id, "outcome": 1,
             "observed_at": "2030-01-01T00:00:00"}], endpoint="pd-decisions")

    assert caught.value.problems[0].rule == "labels.time_utc"


def test_unknown_columns_are_refused(platform: Platform) -> None:
    """A misspelt column is named, not ignored."""
    [record] = decided(platform, 1)

    with pytest.raises(InvalidInputError, match="unknown \\['outcom'\\]"):
        platform.labels.ingest(staff(platform, "ops"), [
            {"decision_id": record.decision_id, "outcom": 1, "outcome": 1,
             "observed_at": LATER}], endpoint="pd-decisions")


def test_ingesting_labels_needs_the_permission(platform: Platform) -> None:
    """A validator may read evidence but not write outcomes."""
    [record] = decided(platform, 1)

    with pytest.raises(PermissionDeniedError, match="labels.ingest"):
        platform.labels.ingest(staff(platform, "vera"), [
            {"decision_id": record.decision_id, "outcome": 1, "observed_at": LATER}],
            endpoint="pd-decisions")
