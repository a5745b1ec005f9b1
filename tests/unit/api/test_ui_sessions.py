"""Web UI session cookies: sealed, for one purpose each, expiring, with their form token."""

from __future__ import annotations

import pytest

from bankml.api.ui.pages import is_local
from bankml.api.ui.sessions import SESSION_COOKIE, SIGNIN_COOKIE, Sessions

KEY = b"k" * 32
TOKEN = "bml_0123456789abcdef_" + "s" * 43


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_opens_as_it_was_sealed() -> None:
    """The cookie gives back the token and CSRF token it was made with."""
    sessions = Sessions(KEY, lifetime_s=60)
    made, cookie = sessions.signed_in(TOKEN)

    opened = sessions.open(SESSION_COOKIE, cookie)

    assert opened == made
    assert TOKEN not in cookie
    assert "s" * 43 not in cookie


def test_every_session_has_its_own_csrf_token() -> None:
    """Two sign-ins with one token get different CSRF tokens."""
    sessions = Sessions(KEY, lifetime_s=60)

    assert sessions.signed_in(TOKEN)[0].csrf != sessions.signed_in(TOKEN)[0].csrf


@pytest.mark.parametrize("position", [0, 10, -1])
def test_an_altered_cookie_opens_as_nothing(position: int) -> None:
    """A cookie with one character changed is no session."""
    sessions = Sessions(KEY, lifetime_s=60)
    _, cookie = sessions.signed_in(TOKEN)
    # A and g differ in the highest of a base64 character's six bits, which always counts
    swapped = "g" if cookie[position] == "A" else "A"
    altered = cookie[:position] + swapped + (cookie[position + 1:] if position != -1 else "")

    assert sessions.open(SESSION_COOKIE, altered) is None


@pytest.mark.parametrize("value", ["", "not base64 !", "AAAA", "é"])
def test_garbage_opens_as_nothing(value: str) -> None:
    """Whatever a cookie holds that bankml did not seal is no session, never an error."""
    assert Sessions(KEY, lifetime_s=60).open(SESSION_COOKIE, value) is None


def test_a_cookie_sealed_under_another_key_opens_as_nothing() -> None:
    """Another installation's (or a rotated key's) cookie is no session here."""
    _, cookie = Sessions(b"o" * 32, lifetime_s=60).signed_in(TOKEN)

    assert Sessions(KEY, lifetime_s=60).open(SESSION_COOKIE, cookie) is None


def test_a_session_ends_with_its_lifetime() -> None:
    """The sealed expiry is enforced whatever the browser keeps."""
    clock = Clock()
    sessions = Sessions(KEY, lifetime_s=60, clock=clock)
    _, cookie = sessions.signed_in(TOKEN)

    clock.now += 59
    assert sessions.open(SESSION_COOKIE, cookie) is not None
    clock.now += 1
    assert sessions.open(SESSION_COOKIE, cookie) is None


def test_a_sign_in_form_cookie_is_no_session() -> None:
    """The sign-in form's cookie cannot pass as a session, nor a session as it."""
    sessions = Sessions(KEY, lifetime_s=60)
    _, form = sessions.signing_in()
    _, session = sessions.signed_in(TOKEN)

    assert sessions.open(SESSION_COOKIE, form) is None
    assert sessions.open(SIGNIN_COOKIE, session) is None
    assert sessions.open(SIGNIN_COOKIE, form) is not None


def test_the_csrf_token_must_be_the_sessions() -> None:
    """Only the session's own CSRF token is accepted; none, or another, is not."""
    sessions = Sessions(KEY, lifetime_s=60)
    mine, _ = sessions.signed_in(TOKEN)
    other, _ = sessions.signed_in(TOKEN)

    assert mine.accepts(mine.csrf)
    assert not mine.accepts(other.csrf)
    assert not mine.accepts(None)
    assert not mine.accepts("")


@pytest.mark.parametrize(("target", "local"), [
    ("/ui/approvals", True), ("/ui/models?q=pd", True), ("/ui", False), ("/v1/models", False),
    ("//evil.example/ui/", False), ("https://evil.example/ui/", False),
    ("/ui/\\evil.example", False), ("/ui/x:y", False),
])
def test_only_pages_of_the_ui_are_places_to_go_back_to(target: str, local: bool) -> None:
    """After sign-in the browser goes back only to a page of the UI (no open redirect)."""
    assert is_local(target) is local
