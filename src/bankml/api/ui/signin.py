"""Signing in with an API token, and out again.

The token is checked by the identity service, as the API checks it: a wrong one is
refused with the reason and audited (`auth.refused`). The sign-in form has its own CSRF
token (in a short cookie of its own), so nobody can sign a visitor in as someone else.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from bankml.api.ui.pages import (
    FormRefused,
    PageRoute,
    Posted,
    is_local,
    page,
    read_form,
    see_other,
)
from bankml.api.ui.sessions import COOKIE_PATH, SESSION_COOKIE, SIGNIN_COOKIE, Sessions
from bankml.core.errors import AuthenticationError

router = APIRouter(prefix=COOKIE_PATH, route_class=PageRoute, include_in_schema=False)
HOME = f"{COOKIE_PATH}/models"


@router.get("/signin")
def signin_form(request: Request, next: str = HOME, ended: bool = False) -> HTMLResponse:
    sessions: Sessions = request.app.state.sessions
    session, cookie = sessions.signing_in()
    notice = "Your session ended; sign in again." if ended else ""
    shown = page(request, "signin.html", visiting=None, csrf=session.csrf,
                 next=next if is_local(next) else HOME, error="", notice=notice)
    _set(request, shown, SIGNIN_COOKIE, cookie, max_age=None)
    return shown


@router.post("/signin")
async def signin(request: Request) -> Response:
    sessions: Sessions = request.app.state.sessions
    fields = await read_form(request)
    form_session = sessions.open(SIGNIN_COOKIE, request.cookies.get(SIGNIN_COOKIE))
    if form_session is None or not form_session.accepts(fields.get("csrf")):
        raise FormRefused("The sign-in form did not carry its CSRF token; reload the page.")
    target = fields.get("next", HOME)
    target = target if is_local(target) else HOME
    token = fields.get("token", "").strip()
    try:
        await run_in_threadpool(request.app.state.platform.identity.authenticate, token)
    except AuthenticationError as refused:  # audited by the identity service
        again = page(request, "signin.html", visiting=None, status=401,
                     csrf=form_session.csrf, next=target, error=str(refused),
                     notice="")
        return again
    _, cookie = sessions.signed_in(token)
    done = see_other(target)
    _set(request, done, SESSION_COOKIE, cookie, max_age=int(sessions.lifetime_s))
    done.delete_cookie(SIGNIN_COOKIE, path=COOKIE_PATH)
    return done


@router.post("/signout")
def signout(request: Request, _: Posted) -> Response:
    """Forget the session in this browser; the token itself stays valid (revoke it to end
    every session made with it)."""
    done = see_other(f"{COOKIE_PATH}/signin")
    done.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, secure=_is_https(request),
                       httponly=True, samesite="strict")
    return done


def _set(request: Request, response: Response, name: str, value: str, *,
         max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path=COOKIE_PATH, httponly=True,
                        samesite="strict", secure=_is_https(request))


def _is_https(request: Request) -> bool:
    return request.url.scheme == "https"
