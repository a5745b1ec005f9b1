"""Monitoring routes: ground truth in, runs and statuses out, and the one alerts door.

Every alert, raised by a monitoring run or opened by a person, is listed, acknowledged and
resolved here (`/v1/alerts`); resolving one lets governance re-read the gates it held.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from bankml.api.routing import Body, Context, calls
from bankml.api.views import alert_view, ingest_view, monitoring_run_view, trend_view
from bankml.core.identity import Permission

router = APIRouter(tags=["monitoring"])
Comment = Field(min_length=1, max_length=2_000, description="Who reads the trail sees why.")
MAX_LABELS = 10_000  # rows per call; larger files go through `bankml labels ingest`


class LabelsBody(Body):
    endpoint: str = Field(min_length=1, max_length=100)
    labels: list[dict[str, str | int | float | None]] = Field(
        min_length=1, max_length=MAX_LABELS,
        description="Rows as a label file holds them: `decision_id` (or the entity keys and "
                    "`decided_at`), `outcome` (0 or 1) and `observed_at`.")


class AlertBody(Body):
    model: str = Field(min_length=1, max_length=200)
    severity: str = Field(description="red or amber.")
    title: str = Field(min_length=1, max_length=2_000)


class MoveBody(Body):
    comment: str = Comment


@router.post("/v1/labels", status_code=201,
             summary="Ingest outcomes of logged decisions (all rows or none)",
             openapi_extra=calls(Permission.LABELS_INGEST))
def ingest_labels(body: LabelsBody, context: Context) -> dict[str, Any]:
    """New outcomes, duplicates (nothing stored) and corrections (the next version); one
    bad row refuses the call with its row, field and rule, and nothing is stored."""
    return ingest_view(context.platform.labels.ingest(context.principal, body.labels,
                                                      endpoint=body.endpoint))


@router.get("/v1/monitoring/status",
            summary="Each metric's latest status and its recent windows, for one endpoint",
            openapi_extra=calls(Permission.EVIDENCE_READ))
def status(context: Context, endpoint: str,
           weeks: Annotated[int, Query(ge=1, le=520)] = 8) -> dict[str, Any]:
    since = datetime.now(UTC) - timedelta(weeks=weeks)
    found = context.platform.monitor.status(context.principal, endpoint, since=since)
    return {"endpoint": endpoint, "metrics": [trend_view(t) for t in found]}


@router.get("/v1/monitoring/runs", summary="Monitoring runs, oldest window first",
            openapi_extra=calls(Permission.EVIDENCE_READ))
def list_runs(context: Context, endpoint: str | None = None) -> dict[str, Any]:
    found = context.platform.monitor.runs(context.principal, endpoint)
    return {"runs": [monitoring_run_view(run) for run in found]}


@router.get("/v1/monitoring/retrainings",
            summary="Retrainings red alerts started, oldest first; `?endpoint=` to narrow",
            openapi_extra=calls(Permission.EVIDENCE_READ))
def list_retrainings(context: Context, endpoint: str | None = None) -> dict[str, Any]:
    found = context.platform.retraining.retrainings(context.principal, endpoint)
    return {"retrainings": [r.describe() for r in found]}


@router.get("/v1/monitoring/runs/{run_id}", summary="A monitoring run and every point it stored",
            openapi_extra=calls(Permission.EVIDENCE_READ))
def show_run(run_id: str, context: Context) -> dict[str, Any]:
    monitor, by = context.platform.monitor, context.principal
    return monitoring_run_view(monitor.run_of(by, run_id), monitor.points(by, run_id))


@router.get("/v1/alerts", summary="Alerts, newest last; `?endpoint=`, `?unresolved=true`",
            openapi_extra=calls(Permission.EVIDENCE_READ))
def list_alerts(context: Context, endpoint: str | None = None,
                unresolved: bool = False) -> dict[str, Any]:
    found = context.platform.alerts.alerts(context.principal, endpoint=endpoint,
                                           unresolved=unresolved)
    return {"alerts": [alert_view(alert) for alert in found]}


@router.get("/v1/alerts/{alert_id}", summary="An alert and its webhook deliveries",
            openapi_extra=calls(Permission.EVIDENCE_READ))
def show_alert(alert_id: int, context: Context) -> dict[str, Any]:
    alert, deliveries = context.platform.alerts.alert(context.principal, alert_id)
    return alert_view(alert, deliveries)


@router.post("/v1/alerts", status_code=201, summary="Open an alert on a model by hand",
             openapi_extra=calls(Permission.ALERT_MANAGE))
def open_alert(body: AlertBody, context: Context) -> dict[str, Any]:
    platform, by = context.platform, context.principal
    alert_id = platform.oversight.open_alert(by, body.model, severity=body.severity,
                                             title=body.title)
    alert, _ = platform.alerts.alert(by, alert_id)
    return alert_view(alert)


@router.post("/v1/alerts/{alert_id}/acknowledge", summary="Acknowledge an open alert",
             openapi_extra=calls(Permission.ALERT_MANAGE))
def acknowledge(alert_id: int, body: MoveBody, context: Context) -> dict[str, Any]:
    return alert_view(context.platform.alerts.acknowledge(context.principal, alert_id,
                                                          comment=body.comment))


@router.post("/v1/alerts/{alert_id}/resolve",
             summary="Resolve an alert; a red one stops blocking promotion",
             openapi_extra=calls(Permission.ALERT_MANAGE))
def resolve(alert_id: int, body: MoveBody, context: Context) -> dict[str, Any]:
    return alert_view(context.platform.alerts.resolve(context.principal, alert_id,
                                                      comment=body.comment))
