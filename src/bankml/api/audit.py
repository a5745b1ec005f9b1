"""Audit routes: read the hash-chained trail, verify it, export it as JSON lines."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from bankml.api.routing import Context, calls, utc
from bankml.api.views import chain_report_view
from bankml.core.identity import Permission
from bankml.presenters import audit_event_view

router = APIRouter(tags=["audit"])
MAX_EVENTS = 1_000
CHUNK_LINES = 500  # lines per chunk of an export: one hop to the thread pool each
NDJSON = "application/x-ndjson"
Since = Annotated[datetime | None, Query(description="From this time (ISO 8601; UTC when it "
                                                     "names no zone), inclusive.")]
Until = Annotated[datetime | None, Query(description="Up to this time, exclusive.")]


@router.get("/v1/audit/events", summary="Audit events, the newest `limit`, oldest first",
            openapi_extra=calls(Permission.AUDIT_READ))
def events(context: Context, *, subject: str | None = None, since: Since = None,
           until: Until = None,
           limit: Annotated[int, Query(ge=1, le=MAX_EVENTS)] = 50,
           action: Annotated[str | None, Query(
               description="Exact, or a prefix ending in a dot (`rollout.`).")] = None,
           actor: str | None = None) -> dict[str, Any]:
    found = context.platform.audit.events(context.principal, subject=subject,
                                          since=utc(since), until=utc(until), limit=limit,
                                          newest_first=True, action=action, actor=actor)
    return {"events": [audit_event_view(event) for event in reversed(found)]}


@router.get("/v1/audit/verify", summary="Re-compute the chain and name the first break",
            openapi_extra=calls(Permission.AUDIT_READ))
def verify(context: Context) -> dict[str, Any]:
    return chain_report_view(context.platform.audit.verify(context.principal))


@router.get("/v1/audit/export", summary="Export events with their chain hashes (JSON lines)",
            response_class=StreamingResponse, openapi_extra={
                **calls(Permission.AUDIT_EXPORT),
                "responses": {"200": {"content": {NDJSON: {"schema": {"type": "string"}}}}}})
def export(context: Context, since: Since = None, until: Until = None) -> StreamingResponse:
    """A header line, then one line per event with the exact text its hash covers, so it
    can be verified without bankml (docs/audit.md). The export itself is audited."""
    lines = context.platform.audit.export(context.principal, since=utc(since),
                                          until=utc(until))
    return StreamingResponse(chunks(lines), media_type=NDJSON)


def chunks(lines: Iterator[str]) -> Iterator[str]:
    """Lines in groups, streamed as the store reads them."""
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) == CHUNK_LINES:
            yield "\n".join(batch) + "\n"
            batch = []
    if batch:
        yield "\n".join(batch) + "\n"
