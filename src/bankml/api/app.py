"""The HTTP service: decisions, the Open Inference Protocol, management, metrics, web UI.

`create_app()` opens the platform the settings name when the server starts, loads every
endpoint with its champion before it answers ready, and closes the platform (flushing the
decision log) when it stops; `bankml serve` runs it on uvicorn.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bankml import __version__
from bankml.api import decisions, endpoints, management, oip, ui
from bankml.api.auth import Authenticator
from bankml.api.batching import DecisionBatcher
from bankml.api.front import DecisionFront, decision_endpoint
from bankml.api.limits import BodyLimit
from bankml.api.metrics import Metrics
from bankml.api.problems import install
from bankml.platform import Platform
from bankml.serving.log import Committed
from bankml.settings import Settings, load_settings

LOG = logging.getLogger("bankml.serve")

DESCRIPTION = """The decisions service of bankml: one process hosts many endpoints.

Every call needs `Authorization: Bearer bml_...` (the health checks excepted). Every
error is RFC 9457 `application/problem+json` with the `rule` it enforces and, where one
input is at fault, its `field`."""


class BankmlApp(FastAPI):
    """FastAPI, with single decisions handed to its `front` ahead of the stack (front.py)."""

    front: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.front is not None and decision_endpoint(scope) is not None:
            await self.front(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    chosen = settings or load_settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        platform = Platform.from_settings(chosen)
        platform.decision_log.on_commit(lambda done: metrics.batch_size.observe(done.records))
        platform.decisions.observe(metrics.observe_stage)
        app.state.platform = platform
        app.state.batcher = DecisionBatcher(platform.decisions)
        app.state.authenticator = Authenticator(platform.identity.authenticate,
                                                platform.identity.refuse_credentials,
                                                ttl_s=chosen.serve_token_cache_s)
        app.state.sessions = ui.open_sessions(chosen)
        for name, why in platform.decisions.runtime.load_all().items():
            LOG.warning("endpoint %s is not loaded: %s", name, why)
        controller = platform.rollout_controller()
        controller.start()
        # what start-up built lives as long as the server: keep it out of full collections
        gc.freeze()
        try:
            yield
        finally:
            controller.stop()
            platform.close()  # the log commits what it holds before it closes

    app = BankmlApp(title="bankml", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan)
    app.state.metrics = metrics
    install(app, count=metrics.count_error)

    @app.get("/metrics", include_in_schema=False)
    def scrape() -> Response:
        body, media_type = metrics.exposition()
        return Response(body, media_type=media_type)

    for router in (decisions.router, endpoints.router, oip.router, management.router):
        app.include_router(router)
    ui.install(app)
    app.add_middleware(BodyLimit, max_bytes=chosen.serve_max_body_bytes,
                       count=metrics.count_error)
    app.front = BodyLimit(DecisionFront(app.state, metrics.count_error),
                          max_bytes=chosen.serve_max_body_bytes, count=metrics.count_error)
    return app


__all__ = ["BankmlApp", "Committed", "create_app"]
