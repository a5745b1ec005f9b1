"""A limit on request bodies, enforced before any route reads one (413 beyond it)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bankml.api.problems import MEDIA_TYPE


class BodyTooLarge(Exception):  # noqa: N818 - an ASGI-level signal, not a domain error
    pass


class BodyLimit:
    """Refuse a body over `max_bytes`, whether it announces its length or streams."""

    def __init__(self, app: ASGIApp, *, max_bytes: int,
                 count: Callable[[str, int], None] | None = None) -> None:
        self.app, self.max_bytes, self._count = app, max_bytes, count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        seen = 0
        started = False

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, tracking)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        if self._count is not None:
            self._count("request.size", 413)
        body: dict[str, Any] = {
            "type": "urn:bankml:problem:request.size", "title": "Request too large",
            "status": 413, "rule": "request.size", "instance": scope.get("path"),
            "detail": f"The body is larger than {self.max_bytes} bytes "
                      "(BANKML_SERVE_MAX_BODY_BYTES)."}
        payload = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", MEDIA_TYPE.encode()),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})
