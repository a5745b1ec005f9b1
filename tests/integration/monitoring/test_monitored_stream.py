"""The monitored stream carries each decision's latest label and override, read with its
row, on both backends: a correction outranks the first label, and the last override of a
decision outranks those before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bankml import Platform
from bankml.core.canonical import utc_timestamp
from support.people import staff
from support.served import tiny_endpoint


def test_the_stream_carries_each_decisions_latest_label_and_last_override(
        platform: Platform) -> None:
    endpoint = tiny_endpoint(platform)
    ops, bob = staff(platform, "ops"), staff(platform, "bob")
    records = platform.decisions.decide(ops, endpoint.name, [
        {"customer_id": f"c{i}", "x0": (-3.0, 0.0, 3.0)[i % 3]} for i in range(60)])
    observed = utc_timestamp(datetime.now(UTC) + timedelta(hours=1))
    platform.labels.ingest(ops, [{"decision_id": r.decision_id, "outcome": i % 2,
                                  "observed_at": observed}
                                 for i, r in enumerate(records[:40])], endpoint=endpoint.name)
    corrected = records[0:10:2]  # first labelled 0, then 1
    platform.labels.ingest(ops, [{"decision_id": r.decision_id, "outcome": 1,
                                  "observed_at": observed}
                                 for r in corrected], endpoint=endpoint.name)
    overridden: dict[str, str] = {}
    for record in records[5:15]:
        other = "approve" if record.outcome == "refer" else "refer"
        platform.decisions.override(bob, record.decision_id, outcome=other,
                                    reason_code="MANUAL", comment="second look")
        overridden[record.decision_id] = other
    first = overridden[records[5].decision_id]
    last = "approve" if records[5].outcome == "decline" else "decline"  # neither before
    platform.decisions.override(bob, records[5].decision_id, outcome=last,
                                reason_code="MANUAL", comment="third look")
    overridden[records[5].decision_id] = last
    labelled = {r.decision_id: i % 2 for i, r in enumerate(records[:40])}
    labelled |= {r.decision_id: 1 for r in corrected}
    since = utc_timestamp(datetime.now(UTC) - timedelta(days=1))
    until = utc_timestamp(datetime.now(UTC) + timedelta(days=1))

    with platform.metadata.reading() as tx:
        rows = [row for chunk in tx.decisions.monitored(endpoint.name, since, until,
                                                        requests=False) for row in chunk]

    assert first != last  # else the first override would pass for the last
    assert len(rows) == 60
    assert {row[0]: (row[9], row[10]) for row in rows} == {
        r.decision_id: (labelled.get(r.decision_id), overridden.get(r.decision_id))
        for r in records}
