"""Monitoring runs on a trained credit model behind its endpoint: drift planted in two
inputs and a performance decay give exactly those reds; immature labels are left out;
a window is measured once; reds open one alert each, which blocks promotion until resolved."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bankml import Platform
from bankml.core.canonical import utc_timestamp
from bankml.core.decisions import DecisionRecord
from bankml.core.monitoring import AlertStatus, AlertTransitionError, MetricPoint, Status
from bankml.core.registry import ModelVersion
from bankml.datasets import load_german_credit
from bankml.monitoring.policy import DEFAULT, MonitoringPolicy, parse_policy
from support.people import staff
from support.served import credit_endpoint, credit_in_prod, requests_from

PLANTED = ("duration_months", "credit_amount")
AS_OF = datetime.now(UTC) + timedelta(days=1)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, ModelVersion]]:
    home = tmp_path_factory.mktemp("monitored")
    with Platform.open(home / "home", metadata_url=f"sqlite:///{home / 'metadata.db'}") as p:
        version = credit_in_prod(p)
        credit_endpoint(p)
        yield p, version


def traffic(version: ModelVersion, *, drifted: bool) -> list[dict[str, Any]]:
    """Applications like the development sample's; drifted: the two planted inputs take
    the development sample's largest values only (all within the signature's range)."""
    frame = load_german_credit(None).frame
    requests = requests_from(frame, version, 600, start=0, entity=("customer_id", "row_id"))
    if drifted:
        for name in PLANTED:
            high = sorted(r[name] for r in requests)[-60:]
            for i, request in enumerate(requests):
                request[name] = high[i % len(high)]
    return requests


def decide(platform: Platform, requests: list[dict[str, Any]]) -> list[DecisionRecord]:
    ops = staff(platform, "ops")
    return [record for start in range(0, len(requests), 200) for record in
            platform.decisions.decide(ops, "credit-pd", requests[start:start + 200])]


def label(platform: Platform, records: list[DecisionRecord], *, decayed: bool) -> None:
    """Outcomes soon after: decayed, the safest-scored applicants default (and every
    seventh of the others, so the classes overlap)."""
    ranked = sorted(records, key=lambda r: r.score)
    cut = len(ranked) // 3
    chosen = ranked[:cut] if decayed else ranked[-cut:]
    worst = {r.decision_id for r in [*chosen, *ranked[cut::7]]}
    observed = utc_timestamp(datetime.now(UTC) + timedelta(hours=1))
    platform.labels.ingest(staff(platform, "ops"), [
        {"decision_id": r.decision_id, "outcome": int(r.decision_id in worst),
         "observed_at": observed} for r in records], endpoint="credit-pd")


def mature_now() -> MonitoringPolicy:
    """The shipped policy with credit-pd's labels mature at once."""
    return parse_policy(DEFAULT.read_text().replace(
        "maturity_days: {}", "maturity_days: {credit-pd: 0}"), source="test policy")


def by_status(points: list[MetricPoint], *statuses: Status) -> set[str]:
    return {p.metric for p in points if p.status in statuses}


def test_planted_drift_and_decay_give_exactly_those_reds(
        served: tuple[Platform, ModelVersion]) -> None:
    """Two drifted inputs and inverted outcomes: red CSI for those two inputs and red AUC
    drop; no stable input is amber or red on any statistic."""
    platform, version = served
    records = decide(platform, traffic(version, drifted=True))
    label(platform, records, decayed=True)
    mira = staff(platform, "mira")

    [run] = platform.monitor.run(mira, endpoint="credit-pd", as_of=AS_OF,
                                 policy=mature_now())

    points = platform.monitor.points(mira, run.run_id)
    reds = by_status(points, Status.RED)
    assert {f"feature.psi[{name}]" for name in PLANTED} <= reds
    assert "performance.auc_drop" in reds
    flagged = {m.split("[", 1)[1].rstrip("]") for m in by_status(points, Status.RED,
                                                                  Status.AMBER) if "[" in m}
    assert flagged == set(PLANTED)
    assert run.reds == len(reds)


def test_a_window_is_measured_once_and_reds_open_one_alert_each(
        served: tuple[Platform, ModelVersion]) -> None:
    """Running the same window again returns the stored run; every red metric has one
    unresolved alert, which blocks the model's promotion until resolved."""
    platform, version = served
    mira = staff(platform, "mira")
    [first] = platform.monitor.run(mira, endpoint="credit-pd", as_of=AS_OF,
                                   policy=mature_now())

    [again] = platform.monitor.run(mira, endpoint="credit-pd", as_of=AS_OF,
                                   policy=mature_now())
    platform.monitor.run(mira, endpoint="credit-pd", as_of=AS_OF + timedelta(hours=1),
                         policy=mature_now())

    assert again.run_id == first.run_id
    alerts = platform.alerts.alerts(mira, endpoint="credit-pd", unresolved=True)
    metrics = [a.metric for a in alerts]
    assert len(metrics) == len(set(metrics))
    assert "performance.auc_drop" in {a.metric for a in alerts if a.severity == "red"}
    with platform.metadata.reading() as tx:
        assert tx.oversight.open_red_alerts(version.name) > 0


def test_alerts_move_open_acknowledged_resolved_by_whom_with_a_comment(
        served: tuple[Platform, ModelVersion]) -> None:
    """Acknowledge then resolve, recorded with who and why; resolving twice is refused."""
    platform, _ = served
    mira = staff(platform, "mira")
    platform.monitor.run(mira, endpoint="credit-pd", as_of=AS_OF, policy=mature_now())
    alert = platform.alerts.alerts(mira, endpoint="credit-pd", unresolved=True)[0]

    acknowledged = platform.alerts.acknowledge(mira, alert.alert_id, comment="looking")
    resolved = platform.alerts.resolve(staff(platform, "ops"), alert.alert_id,
                                       comment="retrained")

    assert (acknowledged.status, acknowledged.acknowledged_by) == (AlertStatus.ACKNOWLEDGED,
                                                                   "mira")
    assert (resolved.status, resolved.closed_by, resolved.comment) == (
        AlertStatus.RESOLVED, "ops", "retrained")
    with pytest.raises(AlertTransitionError, match="is resolved and cannot become resolved"):
        platform.alerts.resolve(mira, alert.alert_id, comment="again")


def test_immature_decisions_are_excluded_and_counted(tmp_path: Path) -> None:
    """With credit's 365-day maturity, this week's labelled decisions are immature: no
    performance status, and the count of those left out is reported."""
    with Platform.open(tmp_path / "home") as platform:
        version = credit_in_prod(platform)
        credit_endpoint(platform)
        records = decide(platform, traffic(version, drifted=False))
        label(platform, records, decayed=True)
        mira = staff(platform, "mira")

        [run] = platform.monitor.run(mira, endpoint="credit-pd", as_of=AS_OF)

        points = {p.metric: p for p in platform.monitor.points(mira, run.run_id)}
    assert points["performance.immature"].value == len(records)
    assert points["performance.auc_drop"].status == Status.INSUFFICIENT
    assert not by_status(list(points.values()), Status.RED)


def test_performance_reads_the_cohort_whose_labels_have_matured(tmp_path: Path) -> None:
    """With a 21-day maturity, a week's run judges performance on the decisions of the week
    21 days earlier (their labels), and counts this week's decisions as immature."""
    now = datetime.now(UTC)
    moment = [now - timedelta(days=24)]
    with Platform.open(tmp_path / "home", clock=lambda: moment[0]) as platform:
        version = credit_in_prod(platform)
        credit_endpoint(platform)
        earlier = decide(platform, traffic(version, drifted=False))
        label(platform, earlier, decayed=False)
        moment[0] = now
        recent = decide(platform, traffic(version, drifted=False)[:300])
        policy = parse_policy(DEFAULT.read_text().replace(
            "maturity_days: {}", "maturity_days: {credit-pd: 21}"), source="test policy")
        mira = staff(platform, "mira")

        [run] = platform.monitor.run(mira, endpoint="credit-pd", as_of=AS_OF, policy=policy)

        points = {p.metric: p for p in platform.monitor.points(mira, run.run_id)}
    assert run.decisions == len(recent)
    assert points["performance.immature"].value == len(recent)
    assert points["performance.labelled"].value == len(earlier)
    assert points["performance.auc"].n == len(earlier)
