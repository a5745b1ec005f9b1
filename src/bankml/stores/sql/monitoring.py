"""Monitoring in SQL: label versions, runs and their time series, alerts and deliveries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bankml.core.errors import ConflictError, NotFoundError
from bankml.core.monitoring import (
    Alert,
    AlertStatus,
    Delivery,
    Label,
    MetricPoint,
    MonitoringRun,
    Status,
)
from bankml.stores.sql.tables import (
    alert_deliveries,
    alerts,
    labels,
    monitoring_metrics,
    monitoring_runs,
)

CHUNK = 500  # ids per IN (...) list


class SqlLabels:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, new: Sequence[Label]) -> None:
        if not new:
            return
        try:
            self._connection.execute(insert(labels), [_label_row(label) for label in new])
        except IntegrityError as exc:
            raise ConflictError("Another writer stored a label version for one of these "
                                "decisions at the same time; nothing was stored.",
                                rule="labels.version_unique") from exc

    def latest(self, decision_ids: Iterable[str]) -> dict[str, Label]:
        ids = list(dict.fromkeys(decision_ids))
        found: dict[str, Label] = {}
        for start in range(0, len(ids), CHUNK):
            newest = (select(labels.c.decision_id, func.max(labels.c.version).label("v"))
                      .where(labels.c.decision_id.in_(ids[start:start + CHUNK]))
                      .group_by(labels.c.decision_id).subquery())
            rows = self._connection.execute(select(labels).join(newest, and_(
                labels.c.decision_id == newest.c.decision_id,
                labels.c.version == newest.c.v)))
            found |= {row.decision_id: _label(row._asdict()) for row in rows}
        return found

    def history(self, decision_id: str) -> list[Label]:
        rows = self._connection.execute(select(labels).where(
            labels.c.decision_id == decision_id).order_by(labels.c.version))
        return [_label(row._asdict()) for row in rows]


class SqlMonitoring:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def find_run(self, endpoint: str, window_start: str, window_end: str,
                 as_of: str) -> MonitoringRun | None:
        row = self._connection.execute(select(monitoring_runs).where(
            monitoring_runs.c.endpoint == endpoint,
            monitoring_runs.c.window_start == window_start,
            monitoring_runs.c.window_end == window_end,
            monitoring_runs.c.as_of == as_of)).first()
        return None if row is None else MonitoringRun(**row._asdict())

    def add_run(self, run: MonitoringRun, points: Sequence[MetricPoint]) -> None:
        """Raises ConflictError when the window was measured already (another process)."""
        try:
            self._connection.execute(insert(monitoring_runs).values(**_fields(run)))
        except IntegrityError as exc:
            raise ConflictError(f"{run.endpoint}'s window {run.window_start} .. "
                                f"{run.window_end} as of {run.as_of} was measured at the "
                                "same time by another run.",
                                rule="monitoring.run_unique") from exc
        if points:
            self._connection.execute(insert(monitoring_metrics), [{
                "run_id": run.run_id, "endpoint": run.endpoint, "window_end": run.window_end,
                "model": p.model, "route": p.route, "metric": p.metric, "value": p.value,
                "p_value": p.p_value, "baseline": p.baseline, "n": p.n,
                "status": str(p.status), "detail": p.detail} for p in points])

    def runs(self, endpoint: str | None = None) -> list[MonitoringRun]:
        query = select(monitoring_runs).order_by(monitoring_runs.c.window_end,
                                                 monitoring_runs.c.created_at)
        if endpoint is not None:
            query = query.where(monitoring_runs.c.endpoint == endpoint)
        return [MonitoringRun(**row._asdict()) for row in self._connection.execute(query)]

    def run(self, run_id: str) -> MonitoringRun:
        row = self._connection.execute(select(monitoring_runs).where(
            monitoring_runs.c.run_id == run_id)).first()
        if row is None:
            raise NotFoundError("monitoring run", run_id, field="run_id")
        return MonitoringRun(**row._asdict())

    def points(self, run_id: str) -> list[MetricPoint]:
        rows = self._connection.execute(select(monitoring_metrics).where(
            monitoring_metrics.c.run_id == run_id).order_by(monitoring_metrics.c.metric_id))
        return [_point(row._asdict()) for row in rows]

    def series(self, endpoint: str, *, since: str | None = None
               ) -> list[tuple[str, MetricPoint]]:
        """(window end, point) of every metric of `endpoint`, oldest window first."""
        query = (select(monitoring_metrics).where(monitoring_metrics.c.endpoint == endpoint)
                 .order_by(monitoring_metrics.c.window_end, monitoring_metrics.c.metric_id))
        if since is not None:
            query = query.where(monitoring_metrics.c.window_end >= since)
        return [(row.window_end, _point(row._asdict()))
                for row in self._connection.execute(query)]


class SqlAlerts:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def find_open(self, endpoint: str, metric: str) -> Alert | None:
        row = self._connection.execute(select(alerts).where(
            alerts.c.endpoint == endpoint, alerts.c.metric == metric,
            alerts.c.closed_at.is_(None))).first()
        return None if row is None else _alert(row._asdict())

    def open(self, alert: Alert) -> int:
        """Raises ConflictError when the endpoint's metric has an unresolved alert. The
        insert runs in a savepoint, so the caller's transaction survives the refusal (and
        may refresh the alert that won)."""
        try:
            with self._connection.begin_nested():
                result = self._connection.execute(insert(alerts).values(
                    model=alert.model, severity=alert.severity, title=alert.title,
                    opened_by=alert.opened_by, opened_at=alert.opened_at,
                    endpoint=alert.endpoint, metric=alert.metric,
                    status=str(AlertStatus.OPEN), last_seen_at=alert.last_seen_at,
                    comment=""))
        except IntegrityError as exc:
            raise ConflictError(f"{alert.endpoint}'s {alert.metric} has an unresolved alert "
                                "already.", rule="alert.one_open") from exc
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def seen_again(self, alert_id: int, *, severity: str, title: str, seen_at: str) -> None:
        self._connection.execute(update(alerts).where(alerts.c.alert_id == alert_id).values(
            severity=severity, title=title, last_seen_at=seen_at))

    def get(self, alert_id: int) -> Alert:
        row = self._connection.execute(select(alerts).where(
            alerts.c.alert_id == alert_id)).first()
        if row is None:
            raise NotFoundError("alert", f"#{alert_id}", field="alert_id")
        return _alert(row._asdict())

    def move(self, alert_id: int, *, was: AlertStatus, to: AlertStatus, by: str, at: str,
             comment: str) -> None:
        """Compare-and-set: raises ConflictError when the alert is no longer `was`."""
        values: dict[str, Any] = {"status": str(to), "comment": comment}
        if to == AlertStatus.ACKNOWLEDGED:
            values |= {"acknowledged_by": by, "acknowledged_at": at}
        else:
            values |= {"closed_by": by, "closed_at": at}
        moved = self._connection.execute(update(alerts).where(
            alerts.c.alert_id == alert_id, alerts.c.status == str(was)).values(**values))
        if moved.rowcount != 1:
            raise ConflictError(f"Alert #{alert_id} changed while this was decided (it is no "
                                f"longer {was}); nothing was changed.",
                                rule="alert.status_unchanged")

    def all(self, *, endpoint: str | None = None, unresolved: bool = False) -> list[Alert]:
        query = select(alerts).order_by(alerts.c.alert_id)
        if endpoint is not None:
            query = query.where(alerts.c.endpoint == endpoint)
        if unresolved:
            query = query.where(alerts.c.closed_at.is_(None))
        return [_alert(row._asdict()) for row in self._connection.execute(query)]

    def add_delivery(self, delivery: Delivery) -> None:
        self._connection.execute(insert(alert_deliveries).values(
            alert_id=delivery.alert_id, url=delivery.url, attempt=delivery.attempt,
            delivered=int(delivery.delivered), http_status=delivery.http_status,
            error=delivery.error, attempted_at=delivery.attempted_at))

    def deliveries(self, alert_id: int) -> list[Delivery]:
        rows = self._connection.execute(select(alert_deliveries).where(
            alert_deliveries.c.alert_id == alert_id).order_by(alert_deliveries.c.delivery_id))
        return [Delivery(alert_id=row.alert_id, url=row.url, attempt=row.attempt,
                         delivered=bool(row.delivered), http_status=row.http_status,
                         error=row.error, attempted_at=row.attempted_at) for row in rows]


def _label_row(label: Label) -> dict[str, Any]:
    return _fields(label)


def _label(values: dict[str, Any]) -> Label:
    values.pop("label_id", None)
    return Label(**values)


def _point(values: dict[str, Any]) -> MetricPoint:
    return MetricPoint(metric=values["metric"], model=values["model"], route=values["route"],
                       value=values["value"], n=values["n"], status=Status(values["status"]),
                       p_value=values["p_value"], baseline=values["baseline"],
                       detail=values["detail"])


def _alert(values: dict[str, Any]) -> Alert:
    values["status"] = AlertStatus(values["status"])
    values["comment"] = values.get("comment") or ""
    return Alert(**values)


def _fields(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}
