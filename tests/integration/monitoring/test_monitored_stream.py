"""The monitored stream carries each decision's latest label and override, read with its
row: on both backends they equal what the window's own queries give (the labels of the
window, corrections included, and the overrides, the latest one winning)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bankml import Platform
from bankml.core.canonical import utc_timestamp
from support.people import staff
from support.served import tiny_endpoint


def test_labels_and_overrides_in_the_stream_equal_the_window_queries(
        platform: Platform) -> None:
    endpoint = tiny_endpoint(platform)
    ops, bob = staff(platform, "ops"), staff(platform, "bob")
    records = platform.decisions.decide(ops, endpoint.name, [
        {"customer_id": f"c{i}", "x0": (-3.0, 0.0, 3.0)[i % 3]} for i in range(60)])
    observed = utc_timestamp(datetime.now(UTC) + timedelta(hours=1))
    platform.labels.ingest(ops, [{"decision_id": r.decision_id, "outcome": i % 2,
                                  "observed_at": observed}
                                 for i, r in enumerate(records[:40])], endpoint=endpoint.name)
    platform.labels.ingest(ops, [{"decision_id": r.decision_id, "outcome": 1,  # corrections
                                  "observed_at": observed}
                                 for r in records[:10:2]], endpoint=endpoint.name)
    for record in records[5:15]:
        other = "approve" if record.outcome == "refer" else "refer"
        platform.decisions.override(bob, record.decision_id, outcome=other,
                                    reason_code="MANUAL", comment="second look")
    last = "approve" if records[5].outcome == "decline" else "decline"  # neither before
    platform.decisions.override(bob, records[5].decision_id, outcome=last,
                                reason_code="MANUAL", comment="third look")
    since = utc_timestamp(datetime.now(UTC) - timedelta(days=1))
    until = utc_timestamp(datetime.now(UTC) + timedelta(days=1))

    with platform.metadata.reading() as tx:
        rows = [row for chunk in tx.decisions.monitored(endpoint.name, since, until,
                                                        requests=False) for row in chunk]
        labels = tx.labels.outcomes_of_window(endpoint.name, since, until)
        overridden = tx.decisions.overridden(endpoint.name, since, until)

    assert len(rows) == 60
    assert {row[0]: row[9] for row in rows if row[9] is not None} == labels
    assert {row[0]: row[10] for row in rows if row[10] is not None} == overridden
    assert (len(labels), len(overridden)) == (40, 10)
    assert overridden[records[5].decision_id] == last
