"""The web UI under /ui: server-rendered pages over the same services as the API.

`install(app)` adds the pages and the stylesheet; `open_sessions(settings)` makes the
session sealer once the server starts (it reads, or makes, the installation's session
key). See docs/ui.md.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from bankml.api.ui import (
    approvals,
    audit,
    decisions,
    deployments,
    models,
    monitoring,
    signin,
    weekly,
)
from bankml.api.ui.pages import PageRoute
from bankml.api.ui.sessions import COOKIE_PATH, Sessions
from bankml.core.errors import NotFoundError
from bankml.keys import installation_key
from bankml.settings import Settings

STATIC = Path(str(files("bankml.api.ui") / "static"))


def install(app: FastAPI) -> None:
    # the stylesheet first: the last router answers every other path under /ui
    app.mount(f"{COOKIE_PATH}/static", StaticFiles(directory=STATIC), name="ui-static")
    for part in (signin.router, models.router, approvals.router, deployments.router,
                 monitoring.router, decisions.router, audit.router, weekly.router,
                 missing):
        app.include_router(part)


missing = APIRouter(prefix=COOKIE_PATH, route_class=PageRoute, include_in_schema=False)


@missing.get("/{path:path}")
def no_such_page(path: str) -> None:
    """A path under /ui that is no page: a page saying so, not the API's JSON."""
    raise NotFoundError("page", f"{COOKIE_PATH}/{path}", "The inventory is at /ui/models.")


def open_sessions(settings: Settings) -> Sessions:
    key = installation_key(setting="SESSION_KEY", value=settings.session_key,
                           file=settings.session_key_file,
                           default_file=settings.session_key_path)
    return Sessions(key, lifetime_s=settings.ui_session_hours * 3600)


__all__ = ["install", "open_sessions"]
