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
from starlette.concurrency import run_in_threadpool

from bankml.core.errors import AuthenticationError
from bankml.core.identity import Principal

SCHEME = "bearer"
MAX_ENTRIES = 10_000


class Authenticator:
    def __init__(self, authenticate: Callable[[str | None], Principal],
                 refuse: Callable[[str], AuthenticationError], *, ttl_s: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._authenticate, self._refuse = authenticate, refuse
        self._ttl_s, self._monotonic = ttl_s, monotonic
        self._known: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    async def __call__(self, request: Request) -> Principal:
        """The caller of `request`."""
        return await self.of_header(request.headers.get("authorization"))

    async def of_header(self, header: str | None) -> Principal:
        """The caller presenting the Authorization `header`; a token seen within `ttl_s`
        costs a dictionary probe, any other is read from the store off the event loop."""
        known = self._cached(header)
        if known is not None:
            return known
        return await run_in_threadpool(self.principal, header)

    def principal(self, header: str | None) -> Principal:
        known = self._cached(header)
        if known is not None:
            return known
        if not header:
            return self._authenticate(None)  # refused, and audited, by the identity service
        scheme, _, token = header.partition(" ")
        if scheme.lower() != SCHEME or not token.strip():
            raise self._refuse("Send the token as `Authorization: Bearer bml_...`.")
        principal = self._authenticate(token.strip())
        with self._lock:
            if len(self._known) >= MAX_ENTRIES:
                self._known.clear()
            self._known[_key(header)] = (principal, self._monotonic() + self._ttl_s)
        return principal

    def _cached(self, header: str | None) -> Principal | None:
        if not header:
            return None
        with self._lock:
            known = self._known.get(_key(header))
        return known[0] if known is not None and known[1] > self._monotonic() else None


def _key(header: str) -> str:
    return hashlib.sha256(header.strip().encode()).hexdigest()
