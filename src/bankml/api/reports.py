"""Report routes: the weekly production model review, written and read back.

`POST /v1/reports/weekly` writes a week's review (kept in the artifact store, its sha256
audited as `report.weekly_written`); `GET /v1/reports/weekly/{week}` serves the latest one
written, byte for byte what the audit event names, so the minutes and the download agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import Field

from bankml.api.routing import Body, Context, calls
from bankml.core.identity import Permission
from bankml.core.weeks import parse_week, week_of

router = APIRouter(tags=["reports"])
MEDIA = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}
Format = Literal["html", "pdf"]


class WeeklyBody(Body):
    week: str | None = Field(None, max_length=10,
                             description="ISO week, YYYY-Www (default: the current week).")
    format: Format = "html"


@router.post("/v1/reports/weekly", status_code=201,
             summary="Write a week's production model review (stored, sha256 audited)",
             openapi_extra=calls(Permission.EVIDENCE_READ))
def write_weekly(body: WeeklyBody, context: Context) -> dict[str, Any]:
    week = parse_week(body.week) if body.week is not None else week_of(datetime.now(UTC))
    written = context.platform.weekly.write(context.principal, week, fmt=body.format)
    return {"week": written.week, "format": written.format, "sha256": written.sha256,
            "bytes": len(written.content),
            "href": f"/v1/reports/weekly/{written.week}?format={written.format}"}


@router.get("/v1/reports/weekly/{week}",
            summary="The latest production model review written for a week",
            response_class=Response, openapi_extra={
                **calls(Permission.EVIDENCE_READ), "responses": {"200": {"content": {
                    kind: {"schema": {"type": "string"}} for kind in MEDIA.values()}}}})
def read_weekly(week: str, context: Context, format: Format = "html") -> Response:
    """404 until one is written; the `ETag` is the sha256 its audit event names."""
    written = context.platform.weekly.stored(context.principal, parse_week(week), fmt=format)
    disposition = "inline" if format == "html" else "attachment"
    return Response(written.content, media_type=MEDIA[format], headers={
        "ETag": f'"{written.sha256}"', "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'{disposition}; filename="weekly-{written.week}.{format}"'})
