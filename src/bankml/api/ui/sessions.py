"""Web UI sessions: the API token, sealed in a cookie, with the form token that goes with it.

A session is the token the person signed in with, a CSRF token and an expiry, encrypted
and authenticated with AES-GCM under the installation's session key. Nothing is kept on
the server, so every worker reads every session, and each request authenticates the
token again exactly as the API does: a revoked token or a deactivated person ends the
session within the API's token cache time. The cookie is HttpOnly and SameSite=Strict,
Secure when the page came over https; the CSRF token goes in every form and is checked
on every POST (SameSite alone is not a defence a bank should rest on).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SESSION_COOKIE = "bankml_session"
SIGNIN_COOKIE = "bankml_signin"  # carries the sign-in form's CSRF token, before a session
COOKIE_PATH = "/ui"
SIGNIN_LIFETIME_S = 3_600
NONCE_BYTES = 12
# sealed for one purpose each: a sign-in form cookie cannot pass as a session
PURPOSES = {SESSION_COOKIE: b"session", SIGNIN_COOKIE: b"signin"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """What a sealed cookie holds: the token (None before sign-in), the form token, the
    moment (Unix seconds) it stops being accepted."""

    token: str | None
    csrf: str
    expires_at: float

    def accepts(self, offered: str | None) -> bool:
        """Whether a form's CSRF token is this session's (constant time)."""
        return offered is not None and hmac.compare_digest(offered.encode(),
                                                           self.csrf.encode())


class Sessions:
    """Seals and opens session cookies under one key; `lifetime_s` bounds a sign-in."""

    def __init__(self, key: bytes, *, lifetime_s: float,
                 clock: Callable[[], float] = time.time) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                       info=b"bankml web ui session cookies").derive(key)
        self._aead, self._clock = AESGCM(derived), clock
        self.lifetime_s = lifetime_s

    def signed_in(self, token: str) -> tuple[Session, str]:
        """A new session for `token`, with a fresh CSRF token, and its cookie value."""
        session = Session(token=token, csrf=secrets.token_urlsafe(32),
                          expires_at=self._clock() + self.lifetime_s)
        return session, self._seal(SESSION_COOKIE, session)

    def signing_in(self) -> tuple[Session, str]:
        """The sign-in form's own short session: a CSRF token and no token yet."""
        session = Session(token=None, csrf=secrets.token_urlsafe(32),
                          expires_at=self._clock() + SIGNIN_LIFETIME_S)
        return session, self._seal(SIGNIN_COOKIE, session)

    def open(self, cookie: str, value: str | None) -> Session | None:
        """The session a cookie holds; None when absent, forged, altered or expired."""
        if not value:
            return None
        try:
            sealed = base64.urlsafe_b64decode(value.encode("ascii") + b"==")
            plain = self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:],
                                       PURPOSES[cookie])
            fields = json.loads(plain)
            session = Session(token=fields["token"], csrf=str(fields["csrf"]),
                              expires_at=float(fields["expires_at"]))
        except (InvalidTag, ValueError, KeyError, TypeError, binascii.Error,
                UnicodeEncodeError):
            return None
        if session.expires_at <= self._clock():
            return None
        if (cookie == SESSION_COOKIE) != (session.token is not None):
            return None
        return session

    def _seal(self, cookie: str, session: Session) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        plain = json.dumps({"token": session.token, "csrf": session.csrf,
                            "expires_at": session.expires_at}).encode()
        sealed = nonce + self._aead.encrypt(nonce, plain, PURPOSES[cookie])
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")


__all__ = ["COOKIE_PATH", "SESSION_COOKIE", "SIGNIN_COOKIE", "Session", "Sessions"]
