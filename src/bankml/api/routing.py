"""What every management route shares: its context, its body base, and what the OpenAPI
document says of who may call it.

Routes check nothing themselves: the service they call checks the permission named here.
`calls(...)` only documents it (`x-permission`, `x-roles` in the OpenAPI operation), and
the HTTP permission test holds each route to what it declares.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends
from pydantic import BaseModel, ConfigDict

from bankml.api.context import Served, served
from bankml.core.identity import GRANTS, SERVICE_GRANTS, Permission

Context = Annotated[Served, Depends(served)]
ANY_CALLER = "authenticated"  # what the service does not check beyond a valid token


class Body(BaseModel):
    """A request body: unknown fields are refused (422), never ignored."""

    model_config = ConfigDict(extra="forbid")


def calls(permission: Permission | None, *, own: bool = False) -> dict[str, Any]:
    """The `openapi_extra` of a route whose service checks `permission`; None: any valid
    token. `own`: on another person's records it needs users.manage instead."""
    if permission is None:
        return {"x-permission": ANY_CALLER, "x-roles": []}
    extra: dict[str, Any] = {"x-permission": str(permission),
                             "x-roles": sorted(GRANTS[permission]),
                             "x-service-accounts": permission in SERVICE_GRANTS}
    if own:
        extra["x-others-need"] = str(Permission.USERS_MANAGE)
    return extra


def utc(moment: datetime | None) -> datetime | None:
    """A query's time, read as UTC when it names no zone (as the CLI reads it)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
