"""What every page shares: who visits, the templates, forms and their CSRF check, errors.

Pages authenticate and pass the principal on, as the API's routes do: the services they
call check every permission. `Visitor.can` only decides what a page offers (a button is
shown to those whose roles grant it); the server's answer to a posted form is the
service's, whatever the page showed.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool

from bankml.api.auth import Authenticator
from bankml.api.problems import TITLES, status_of
from bankml.api.ui.sessions import COOKIE_PATH, SESSION_COOKIE, Session, Sessions
from bankml.core.errors import AuthenticationError, BankmlError
from bankml.core.identity import Permission, Principal
from bankml.platform import Platform

FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_FIELDS = 20
# Inline SVG charts carry their own <style>; nothing else is inline, nothing is remote.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; "
                               "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages show personal data and evidence
}

templates = Environment(loader=PackageLoader("bankml.api.ui", "templates"),
                        autoescape=select_autoescape(default=True, default_for_string=True),
                        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


class SignInNeeded(Exception):  # noqa: N818 - answered by a redirect to the sign-in page
    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


class FormRefused(Exception):  # noqa: N818 - answered 403 by the page route
    """A POST without this session's CSRF token: refused before any service is called
    (and audited, naming whose session sent it, if any)."""

    def __init__(self, reason: str, *, session_of: str | None = None) -> None:
        super().__init__(reason)
        self.session_of = session_of


@dataclass(frozen=True, slots=True)
class Visitor:
    """A signed-in person on a page: the platform, who they are, their session."""

    platform: Platform
    principal: Principal
    session: Session

    def can(self, permission: Permission) -> bool:
        """Whether a page should offer what needs `permission`; the service decides."""
        return self.principal.can(permission)


@dataclass(frozen=True, slots=True)
class Form:
    """A posted form's fields (first value of each), its CSRF token already checked."""

    fields: Mapping[str, str] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default).strip()


async def visitor(request: Request) -> Visitor:
    """The signed-in visitor; SignInNeeded (a redirect to sign in) without a live session."""
    state = request.app.state
    sessions: Sessions = state.sessions
    session = sessions.open(SESSION_COOKIE, request.cookies.get(SESSION_COOKIE))
    if session is None or session.token is None:
        raise SignInNeeded()
    authenticator: Authenticator = state.authenticator
    try:
        principal = await run_in_threadpool(authenticator.principal,
                                            f"Bearer {session.token}")
    except AuthenticationError as exc:
        raise SignInNeeded(str(exc)) from exc
    return Visitor(state.platform, principal, session)


Visiting = Annotated[Visitor, Depends(visitor)]


async def read_form(request: Request) -> dict[str, str]:
    """A urlencoded body as fields; anything else holds no CSRF token and is refused."""
    if request.headers.get("content-type", "").split(";")[0].strip() != FORM_TYPE:
        raise FormRefused("The form was not sent as a form.")
    try:
        text = (await request.body()).decode("utf-8")
        parsed = parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormRefused(f"The form could not be read: {exc}") from None
    return {name: values[0] for name, values in parsed.items()}


async def posted(request: Request, visiting: Visiting) -> Form:
    """The form a signed-in visitor posted, refused unless it carries their CSRF token."""
    fields = await read_form(request)
    if not visiting.session.accepts(fields.get("csrf")):
        raise FormRefused("The form did not carry this session's CSRF token.",
                          session_of=visiting.principal.name)
    return Form(fields)


Posted = Annotated[Form, Depends(posted)]


def page(request: Request, template: str, *, visiting: Visitor | None,
         status: int = 200, csrf: str = "", **values: Any) -> HTMLResponse:
    """A template rendered for the visitor, with the security headers every page has; the
    forms carry the visitor's CSRF token (`csrf` before sign-in)."""
    html = templates.get_template(template).render(
        request=request, visitor=visiting, Permission=Permission,
        csrf=visiting.session.csrf if visiting is not None else csrf, **values)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def see_other(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303, headers=SECURITY_HEADERS)


def is_local(target: str) -> bool:
    """Only pages of the UI are places to go back to after signing in (no open redirect)."""
    return target.startswith(f"{COOKIE_PATH}/") and not target.startswith("//") \
        and "\\" not in target and ":" not in target.split("?", maxsplit=1)[0]


def refusal_page(request: Request, status: int, title: str, detail: str,
                 rule: str | None) -> HTMLResponse:
    return page(request, "refused.html", visiting=None, status=status, title=title,
                detail=detail, rule=rule)


class PageRoute(APIRoute):
    """A UI route: errors become pages (not problem+json), a missing session a redirect."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInNeeded as needed:
                # back to the page asked for; a form posted once the session ended is not
                # posted again, so it goes back to the inventory
                target = (request.url.path + (f"?{request.url.query}" if request.url.query
                                              else "")) if request.method == "GET" else \
                    f"{COOKIE_PATH}/models"
                location = f"{COOKIE_PATH}/signin?next={quote(target, safe='')}"
                if needed.reason:
                    location += "&ended=1"
                return see_other(location)
            except FormRefused as refused:
                platform: Platform = request.app.state.platform
                await run_in_threadpool(platform.identity.refuse_form, request.url.path,
                                        str(refused), session_of=refused.session_of)
                return refusal_page(request, 403, "Form refused", str(refused),
                                    "ui.csrf_token")
            except BankmlError as error:
                status = status_of(error)
                return refusal_page(request, status, TITLES.get(status, "Error"), str(error),
                                    error.rule)

        return handle


__all__ = ["Form", "FormRefused", "PageRoute", "Posted", "SignInNeeded", "Visiting",
           "Visitor", "is_local", "page", "posted", "read_form", "see_other", "templates",
           "visitor"]
