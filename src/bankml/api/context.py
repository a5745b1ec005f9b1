"""What every route works with: the process's platform, the caller, the metrics."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from bankml.api.auth import Authenticator
from bankml.api.metrics import Metrics
from bankml.core.identity import Principal
from bankml.platform import Platform


@dataclass(frozen=True, slots=True)
class Served:
    platform: Platform
    principal: Principal
    metrics: Metrics


async def served(request: Request) -> Served:
    """The route's context; the caller must present a valid token (401 otherwise)."""
    state = request.app.state
    authenticator: Authenticator = state.authenticator
    return Served(platform=state.platform, principal=await authenticator(request),
                  metrics=state.metrics)


def platform_of(request: Request) -> Platform:
    """For routes anyone may call (health): no token."""
    found: Platform = request.app.state.platform
    return found
