"""The audit trail: events with filters, the chain verified on request, the auditor's
export (JSON lines, as `GET /v1/audit/export` streams it; the export is audited)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from bankml.api.audit import NDJSON, chunks
from bankml.api.ui.pages import SECURITY_HEADERS, PageRoute, Posted, Visiting, Visitor, page
from bankml.api.ui.sessions import COOKIE_PATH
from bankml.core.audit import ChainReport
from bankml.core.errors import InvalidInputError

router = APIRouter(prefix=COOKIE_PATH, route_class=PageRoute, include_in_schema=False)
LIMITS = (50, 200, 1000)


@router.get("/audit")
def trail(request: Request, visiting: Visiting, *, subject: str = "", since: str = "",
          until: str = "", limit: int = 50, action: str = "", actor: str = ""
          ) -> HTMLResponse:
    return _trail(request, visiting, subject=subject, since=since, until=until,
                  limit=limit, report=None, action=action, actor=actor)


@router.get("/audit/verify")
def verify(request: Request, visiting: Visiting) -> HTMLResponse:
    report = visiting.platform.audit.verify(visiting.principal)
    return _trail(request, visiting, subject="", since="", until="", limit=50,
                  report=report, action="", actor="")


@router.post("/audit/export")
def export(visiting: Visiting, form: Posted) -> StreamingResponse:
    lines = visiting.platform.audit.export(
        visiting.principal, since=_moment("since", form.get("since")),
        until=_moment("until", form.get("until")))
    return StreamingResponse(chunks(lines), media_type=NDJSON, headers={
        **SECURITY_HEADERS,
        "Content-Disposition": 'attachment; filename="bankml-audit-export.jsonl"'})


def _trail(request: Request, visiting: Visitor, *, subject: str, since: str, until: str,
           limit: int, report: ChainReport | None, action: str, actor: str) -> HTMLResponse:
    chosen = limit if limit in LIMITS else LIMITS[0]
    events = visiting.platform.audit.events(
        visiting.principal, subject=subject.strip() or None,
        since=_moment("since", since), until=_moment("until", until), limit=chosen,
        newest_first=True, action=action.strip() or None, actor=actor.strip() or None)
    return page(request, "audit.html", visiting=visiting, events=events, report=report,
                filters={"subject": subject, "since": since, "until": until,
                         "action": action, "actor": actor},
                limit=chosen, limits=LIMITS)


def _moment(name: str, text: str) -> datetime | None:
    """A filter's date or time (ISO 8601), read as UTC when it names no zone."""
    if not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(name, f"{text!r} is not a date or time; write it as "
                                "YYYY-MM-DD or YYYY-MM-DDTHH:MM", rule="input.valid") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
