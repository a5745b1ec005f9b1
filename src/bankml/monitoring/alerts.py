"""Monitoring alerts: opened from amber and red points, one per endpoint and metric until
resolved, moved open -> acknowledged -> resolved by people, delivered to webhooks.

A point that is amber or red opens an alert, or refreshes the endpoint's unresolved alert
on that metric (its severity rises to red, its last-seen time moves); the unique index on
unresolved (endpoint, metric) holds the one-alert rule against racing runs: the loser's
insert fails inside a savepoint, and it refreshes the winner's alert instead. A red alert
that is not resolved blocks promotions of the model (the tier policy's
`no_open_red_alerts` gate counts it). State changes are compare-and-set and audited.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from bankml.access import acting, viewing
from bankml.core.canonical import utc_timestamp
from bankml.core.errors import ConflictError, InvalidInputError
from bankml.core.identity import Permission, Principal
from bankml.core.limits import ALERT_TITLE_CHARS, check_integer
from bankml.core.monitoring import (
    Alert,
    AlertStatus,
    Delivery,
    MetricPoint,
    MonitoringRun,
    Status,
    check_alert_move,
)
from bankml.core.ports import MetadataStore, Transaction
from bankml.monitoring.webhooks import Webhooks

RAISING = {Status.AMBER: "amber", Status.RED: "red"}


class AlertDesk:
    """Raises, moves and delivers monitoring alerts."""

    def __init__(self, metadata: MetadataStore, webhooks: Webhooks, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 on_resolved: Callable[[Transaction, str], None] | None = None) -> None:
        """`on_resolved(tx, model)` runs in the transaction that resolves an alert:
        governance re-reads the gates of the model's open requests there."""
        self._metadata, self._webhooks, self._clock = metadata, webhooks, clock
        self._on_resolved = on_resolved

    def raise_for(self, tx: Transaction, by: Principal, run: MonitoringRun,
                  points: Sequence[MetricPoint]) -> list[int]:
        """Open or refresh an alert for every amber or red point, in the run's transaction;
        returns the alerts opened or made red (to deliver once committed)."""
        now = utc_timestamp(self._clock())
        raised: list[int] = []
        for point in points:
            severity = RAISING.get(point.status)
            if severity is None:
                continue
            title = (f"{run.endpoint}: {point.metric} is {severity} ({_shown(point)}) in the "
                     f"window to {run.window_end}, {point.model} {point.route}")[
                :ALERT_TITLE_CHARS]
            known = tx.alerts.find_open(run.endpoint, point.metric)
            if known is None:
                try:
                    alert_id = tx.alerts.open(Alert(
                        alert_id=0, model=point.model.rpartition("@")[0], severity=severity,
                        title=title, status=AlertStatus.OPEN, opened_by=by.name,
                        opened_at=now, endpoint=run.endpoint, metric=point.metric,
                        last_seen_at=now))
                except ConflictError as raced:
                    # another run opened it since we looked: refresh theirs instead
                    known = tx.alerts.find_open(run.endpoint, point.metric)
                    if raced.rule != "alert.one_open" or known is None:
                        raise
                else:
                    tx.audit.record(by.name, "alert.opened", f"alert:{alert_id}", {
                        "endpoint": run.endpoint, "metric": point.metric,
                        "severity": severity, "run_id": run.run_id, "value": point.value,
                        "p_value": point.p_value})
                    raised.append(alert_id)
                    continue
            worse = severity == "red" and known.severity != "red"
            tx.alerts.seen_again(known.alert_id, severity="red" if worse else known.severity,
                                 title=title if worse else known.title, seen_at=now)
            if worse:
                tx.audit.record(by.name, "alert.escalated", f"alert:{known.alert_id}", {
                    "metric": point.metric, "run_id": run.run_id, "value": point.value})
                raised.append(known.alert_id)
        return raised

    def raise_one(self, tx: Transaction, by: Principal, *, endpoint: str, model: str,
                  metric: str, title: str, detail: dict[str, object]) -> int:
        """Open a red alert on `endpoint` and `metric` (or make the unresolved one red and
        seen again), in the caller's transaction; returns its id, to deliver once committed.
        Rollouts raise their guardrail breaches here."""
        now = utc_timestamp(self._clock())
        title = title[:ALERT_TITLE_CHARS]
        known = tx.alerts.find_open(endpoint, metric)
        if known is not None:
            tx.alerts.seen_again(known.alert_id, severity="red", title=title, seen_at=now)
            tx.audit.record(by.name, "alert.escalated", f"alert:{known.alert_id}",
                            {"metric": metric, **detail})
            return known.alert_id
        alert_id = tx.alerts.open(Alert(
            alert_id=0, model=model, severity="red", title=title, status=AlertStatus.OPEN,
            opened_by=by.name, opened_at=now, endpoint=endpoint, metric=metric,
            last_seen_at=now))
        tx.audit.record(by.name, "alert.opened", f"alert:{alert_id}", {
            "endpoint": endpoint, "metric": metric, "severity": "red", **detail})
        return alert_id

    def deliver(self, alert_ids: Sequence[int]) -> None:
        """POST each alert to every configured webhook (retries, each attempt logged)."""
        for alert_id in alert_ids:
            with self._metadata.reading() as tx:
                alert = tx.alerts.get(alert_id)
            for delivery in self._webhooks.deliver(alert):
                with self._metadata.transaction() as tx:
                    tx.alerts.add_delivery(delivery)

    def alerts(self, by: Principal, *, endpoint: str | None = None,
               unresolved: bool = False) -> list[Alert]:
        with viewing(self._metadata, by, Permission.EVIDENCE_READ,
                     f"alerts:{endpoint or '*'}") as tx:
            return tx.alerts.all(endpoint=endpoint, unresolved=unresolved)

    def alert(self, by: Principal, alert_id: int) -> tuple[Alert, list[Delivery]]:
        """The alert and every attempt to deliver it."""
        with viewing(self._metadata, by, Permission.EVIDENCE_READ, f"alert:{alert_id}") as tx:
            check_integer("alert_id", alert_id)
            return tx.alerts.get(alert_id), tx.alerts.deliveries(alert_id)

    def acknowledge(self, by: Principal, alert_id: int, *, comment: str) -> Alert:
        return self._move(by, alert_id, AlertStatus.ACKNOWLEDGED, comment)

    def resolve(self, by: Principal, alert_id: int, *, comment: str) -> Alert:
        return self._move(by, alert_id, AlertStatus.RESOLVED, comment)

    def _move(self, by: Principal, alert_id: int, target: AlertStatus, comment: str) -> Alert:
        subject = f"alert:{alert_id}"
        with acting(self._metadata, by, Permission.ALERT_MANAGE, subject) as tx:
            check_integer("alert_id", alert_id)
            if not comment.strip():
                raise InvalidInputError("comment", f"say why the alert is {target}",
                                        rule="alert.comment_given")
            alert = tx.alerts.get(alert_id)
            check_alert_move(alert_id, alert.status, target)
            tx.alerts.move(alert_id, was=alert.status, to=target, by=by.name,
                           at=utc_timestamp(self._clock()), comment=comment)
            tx.audit.record(by.name, f"alert.{target}", subject, {
                "from": str(alert.status), "comment": comment, "metric": alert.metric,
                "endpoint": alert.endpoint})
            if target == AlertStatus.RESOLVED and self._on_resolved is not None:
                self._on_resolved(tx, alert.model)
            return tx.alerts.get(alert_id)


def _shown(point: MetricPoint) -> str:
    value = "n/a" if point.value is None else f"{point.value:.4g}"
    return value if point.p_value is None else f"{value}, p {point.p_value:.2g}"
