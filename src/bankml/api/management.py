"""The management API: what the CLI does, over HTTP, through the same services.

Each route authenticates the caller (api/context.py) and passes the principal to the same
service method the CLI command calls; the service checks the permission, holds the rules
and records the audit event. Routes decide nothing: they turn paths and bodies into
arguments and results into JSON views (api/views.py).
"""

from __future__ import annotations

from fastapi import APIRouter

from bankml.api import (
    audit,
    governance,
    monitoring,
    people,
    registry,
    reports,
    rollouts,
    validation,
)

router = APIRouter()
for part in (registry.router, governance.router, validation.router, monitoring.router,
             people.router, audit.router, rollouts.router, reports.router):
    router.include_router(part)
