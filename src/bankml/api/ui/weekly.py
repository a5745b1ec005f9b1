"""The weekly production model review as a page: the report `bankml report weekly` writes,
shown for any week, with the reviews of that week already kept (and their sha256) and a
form that writes and keeps one for the minutes."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from bankml.api.ui.pages import SECURITY_HEADERS, PageRoute, Posted, Visiting, page, see_other
from bankml.api.ui.sessions import COOKIE_PATH
from bankml.core.weeks import IsoWeek, parse_week, week_of
from bankml.reports.weekly import body_html

router = APIRouter(prefix=COOKIE_PATH, route_class=PageRoute, include_in_schema=False)
PAGE = f"{COOKIE_PATH}/reports/weekly"
MEDIA = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


def _week(text: str) -> IsoWeek:
    return parse_week(text) if text.strip() else week_of(datetime.now(UTC))


@router.get("/reports/weekly")
def weekly(request: Request, visiting: Visiting, *, week: str = "") -> HTMLResponse:
    chosen = _week(week)
    platform, by = visiting.platform, visiting.principal
    review = platform.weekly.assemble(by, chosen)
    later = week_of(chosen.end)
    return page(request, "weekly.html", visiting=visiting, week=chosen.label,
                previous=chosen.previous().label,
                next=later.label if later.start <= datetime.now(UTC) else None,
                written=platform.weekly.written(by, chosen),
                body=Markup(body_html(review)))  # noqa: S704 - escaped where it is built


@router.post("/reports/weekly")
def write(visiting: Visiting, form: Posted) -> RedirectResponse:
    chosen = _week(form.get("week"))
    visiting.platform.weekly.write(visiting.principal, chosen, fmt=form.get("format", "html"))
    return see_other(f"{PAGE}?week={quote(chosen.label)}#written")


@router.get("/reports/weekly/file")
def download(visiting: Visiting, *, week: str, format: str = "html") -> Response:
    """The latest review kept for the week in `format`, byte for byte."""
    stored = visiting.platform.weekly.stored(visiting.principal, parse_week(week), fmt=format)
    return Response(stored.content, media_type=MEDIA[stored.format], headers={
        **SECURITY_HEADERS, "ETag": f'"{stored.sha256}"', "Content-Disposition":
        f'attachment; filename="weekly-{stored.week}.{stored.format}"'})
