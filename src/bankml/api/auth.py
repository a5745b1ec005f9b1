"""Who calls: a bearer token turned into a principal, for a few seconds at most.

Authenticating reads the token and its owner from the metadata store; a decision endpoint
serves thousands of requests a second, so the answer is kept for `ttl_s` (the setting
BANKML_SERVE_TOKEN_CACHE_S). A revoked token, or a role taken away, counts within that
time in every worker; mutating management calls re-read the principal in their own
transaction anyway.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from fastapi import Request

from bankml.core.errors import AuthenticationError
from bankml.core.identity import Principal

SCHEME = "bearer"
MAX_ENTRIES = 10_000


class Authenticator:
    def __init__(self, authenticate: Callable[[str | None], Principal], *, ttl_s: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._authenticate, self._ttl_s, self._monotonic = authenticate, ttl_s, monotonic
        self._known: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Principal:
        return self.principal(request.headers.get("authorization"))

    def principal(self, header: str | None) -> Principal:
        if not header:
            return self._authenticate(None)  # refused, and audited, by the identity service
        scheme, _, token = header.partition(" ")
        if scheme.lower() != SCHEME or not token.strip():
            raise AuthenticationError("Send the token as `Authorization: Bearer bml_...`.")
        key = hashlib.sha256(token.strip().encode()).hexdigest()
        now = self._monotonic()
        with self._lock:
            known = self._known.get(key)
        if known is not None and known[1] > now:
            return known[0]
        principal = self._authenticate(token.strip())
        with self._lock:
            if len(self._known) >= MAX_ENTRIES:
                self._known.clear()
            self._known[key] = (principal, now + self._ttl_s)
        return principal
