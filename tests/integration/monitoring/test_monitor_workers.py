"""Monitoring runs measured in worker processes: the same stored runs, points, alerts and
audit events as one process stores, followed up in endpoint order by the caller; a worker
count out of range is refused naming the field and rule; an endpoint that cannot be
measured in its worker raises the very error one process raises."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from bankml import Platform
from bankml.core.canonical import parse_utc_timestamp, utc_timestamp
from bankml.core.errors import InvalidInputError, UnavailableError
from bankml.core.identity import Principal, Role
from bankml.core.monitoring import MonitoringRun
from bankml.datasets import load_german_credit
from bankml.monitoring.policy import DEFAULT, MonitoringPolicy, parse_policy
from bankml.monitoring.workers import WorkerError, measure_in_workers
from bankml.stores.sql.tables import alert_deliveries, alerts, decisions, monitoring_metrics
from bankml.stores.sql.tables import monitoring_runs as runs_table
from support.dying_workers import die_on_open
from support.people import staff
from support.served import credit_endpoint, credit_in_prod, requests_from
from support.trail import audit_events

ENDPOINTS = ("credit-a", "credit-b", "credit-c")
DRIFTED = "credit-b"
AS_OF = datetime.now(UTC) + timedelta(days=1)


def served(platform: Platform) -> None:
    """The credit model behind three endpoints, each with a week of labelled decisions;
    on one of them two inputs drifted (reds, so alerts open)."""
    version = credit_in_prod(platform)
    ops = staff(platform, "ops")
    frame = load_german_credit(None).frame
    for number, name in enumerate(ENDPOINTS):
        credit_endpoint(platform, name=name)
        requests = requests_from(frame, version, 200, start=number * 100,
                                 entity=("customer_id", "row_id"))
        if name == DRIFTED:
            for field in ("duration_months", "credit_amount"):
                high = sorted(r[field] for r in requests)[-30:]
                for i, request in enumerate(requests):
                    request[field] = high[i % len(high)]
        records = platform.decisions.decide(ops, name, requests)
        platform.labels.ingest(ops, [
            {"decision_id": r.decision_id, "outcome": int(r.score > 0.4),
             "observed_at": utc_timestamp(datetime.now(UTC) + timedelta(hours=1))}
            for r in records], endpoint=name)


def mature_now() -> MonitoringPolicy:
    """The shipped policy with every endpoint's labels mature at once."""
    return parse_policy(DEFAULT.read_text().replace(
        "maturity_days: {}", "maturity_days: {" + ", ".join(
            f"{name}: 0" for name in ENDPOINTS) + "}"), source="test policy")


def run(platform: Platform, workers: int) -> list[MonitoringRun]:
    return platform.monitor.run(staff(platform, "mira"), as_of=AS_OF, policy=mature_now(),
                                workers=workers)


def stored(platform: Platform) -> dict[str, Any]:
    """What a run leaves behind, without its ids and times of writing."""
    mira = staff(platform, "mira")
    found: dict[str, Any] = {}
    for done in platform.monitor.runs(mira):
        points = platform.monitor.points(mira, done.run_id)
        found[done.endpoint] = (
            (done.window_start, done.window_end, done.as_of, done.policy_version,
             done.created_by, done.decisions, done.greens, done.ambers, done.reds),
            sorted((p.metric, p.model, p.route, p.value, p.n, str(p.status), p.p_value,
                    p.baseline, p.detail) for p in points))
    found["alerts"] = sorted((a.endpoint, a.model, a.metric, a.severity, str(a.status),
                              a.title, a.opened_by) for a in platform.alerts.alerts(mira))
    return found


def measured_events(platform: Platform, since: int) -> list[tuple[str, str, str]]:
    """The audit events of monitoring after `since`, by endpoint, without run and alert ids."""
    found = []
    for event in audit_events(platform):
        if event.sequence <= since or not event.action.startswith(("monitoring.", "alert.")):
            continue
        payload = json.loads(event.payload_json)
        payload.pop("run_id", None)
        payload["alerts"] = len(payload.get("alerts", []))
        found.append((event.actor, event.action, json.dumps(payload, sort_keys=True)))
    return sorted(found)


def forget_runs(metadata_url: str) -> None:
    """Clear the stored runs and alerts, as the schema's owner, so the windows are
    measured again."""
    engine = create_engine(metadata_url)
    with engine.begin() as connection:
        for table in (alert_deliveries, alerts, monitoring_metrics, runs_table):
            connection.execute(table.delete())
    engine.dispose()


def last_sequence(platform: Platform) -> int:
    return max(e.sequence for e in audit_events(platform))


def test_workers_store_what_one_process_stores(platform: Platform,
                                               metadata_url: str) -> None:
    """Two workers over three endpoints: the same runs, points, alerts and audit events as
    one process, and the after-run hooks called in endpoint order by the caller."""
    served(platform)
    followed: list[str] = []
    platform.monitor.after_run(lambda done, _policy, _data: followed.append(done.endpoint))
    before = last_sequence(platform)
    alone = run(platform, workers=1)
    in_one = stored(platform), measured_events(platform, before)
    forget_runs(metadata_url)
    before = last_sequence(platform)

    together = run(platform, workers=2)

    assert [r.endpoint for r in together] == [r.endpoint for r in alone] == list(ENDPOINTS)
    assert (stored(platform), measured_events(platform, before)) == in_one
    assert in_one[0]["alerts"]  # the drifted endpoint's reds opened alerts
    assert followed == [*ENDPOINTS, *ENDPOINTS]


@pytest.mark.parametrize("workers", [0, -1, 65])
def test_a_worker_count_out_of_range_is_refused(platform: Platform, workers: int) -> None:
    """No endpoint is measured; the refusal names the field and its rule, and is on the
    audit trail."""
    served(platform)

    with pytest.raises(InvalidInputError, match=r"^workers: .* from 1 .* to 64") as refused:
        run(platform, workers)

    assert (refused.value.field, refused.value.rule) == ("workers", "monitoring.workers")
    assert platform.monitor.runs(staff(platform, "mira")) == []
    last = audit_events(platform)[-1]
    assert (last.action, last.payload["field"], last.payload["rule"]) == (
        "input.refused", "workers", "monitoring.workers")


def test_an_endpoint_that_fails_in_its_worker_raises_that_error(platform: Platform) -> None:
    """A decision whose recorded policy this release cannot read (a kind written by a
    newer one) stops its endpoint: the caller gets the error one process raises, with its
    field and rule and the worker's traceback; the endpoint before it is stored."""
    served(platform)
    record_unreadable_policy(platform, DRIFTED)
    with pytest.raises(InvalidInputError) as in_one:
        platform.monitor.run(staff(platform, "mira"), endpoint=DRIFTED, as_of=AS_OF,
                             policy=mature_now())

    with pytest.raises(InvalidInputError) as in_workers:
        run(platform, workers=2)

    assert (type(in_workers.value), str(in_workers.value), in_workers.value.field,
            in_workers.value.rule) == (type(in_one.value), str(in_one.value),
                                       "decision_policy.kind", "policy.kind_known")
    assert isinstance(in_workers.value.__cause__, WorkerError)
    assert "policy_from_description" in str(in_workers.value.__cause__)
    measured = {r.endpoint for r in platform.monitor.runs(staff(platform, "mira"))}
    assert ENDPOINTS[0] in measured
    assert DRIFTED not in measured


def record_unreadable_policy(platform: Platform, endpoint: str) -> None:
    """A copy of the endpoint's first decision, a second earlier (so the window's first),
    recording a policy kind that does not exist here."""
    with platform.metadata._engine.begin() as connection:
        first = dict(connection.execute(
            select(decisions).where(decisions.c.endpoint == endpoint)
            .order_by(decisions.c.decided_at).limit(1)).mappings().one())
        earlier = parse_utc_timestamp(first["decided_at"]) - timedelta(seconds=1)
        connection.execute(decisions.insert().values({
            **first, "decision_id": "from-a-newer-release", "decided_at": utc_timestamp(earlier),
            "policy_json": json.dumps({"kind": "lottery", "version": "1"}),
            "batch_id": None, "batch_index": None, "idempotency_key": None}))


def test_a_worker_that_dies_is_our_error_naming_the_endpoint() -> None:
    """Not Python's BrokenProcessPool: the rule, the endpoint, what to do."""
    mira = Principal(name="mira", roles=frozenset({Role.MODEL_RISK}))
    found = measure_in_workers(die_on_open, mira, ["credit-a", "credit-b"],
                               start="2026-01-01T00:00:00Z", end="2026-01-08T00:00:00Z",
                               policy=mature_now(), workers=2)

    assert [type(one) for one in found] == [UnavailableError] * len(found)
    assert found[0].rule == "monitoring.worker_alive"
    assert "before credit-a was measured" in str(found[0])
