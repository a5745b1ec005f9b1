"""Validation routes: run the battery on a version, list its runs, read one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from bankml.api.routing import Body, Context, calls
from bankml.api.views import run_view
from bankml.core.identity import Permission

router = APIRouter(tags=["validation"])


class RunBody(Body):
    ref: str = Field(min_length=1, max_length=200, description="NAME@VERSION to validate.")
    against: str | None = Field(None, max_length=200,
                                description="Compare with this version (default: the "
                                            "model's champion).")


@router.post("/v1/validation/runs", status_code=201,
             summary="Run the validation battery on a version (takes seconds)",
             openapi_extra=calls(Permission.VALIDATION_RUN))
def run(body: RunBody, context: Context) -> dict[str, Any]:
    """The version's out-of-time rows, scored and tested under the domain's shipped
    policy; the run and its stored result are evidence a sign-off can rest on. Policies
    and samples are files, which `bankml validate` takes: a server reads no file a caller
    names."""
    validation = context.platform.validation
    done = validation.run(context.principal, body.ref, against=body.against)
    return run_view(done)


@router.get("/v1/models/{name}/versions/{number}/runs",
            summary="A version's validation runs, oldest first", openapi_extra=calls(None))
def list_runs(name: str, number: int, context: Context) -> dict[str, Any]:
    return {"runs": [run_view(r) for r in context.platform.validation.runs(f"{name}@{number}")]}


@router.get("/v1/validation/runs/{run_id}", summary="A validation run and its stored result",
            openapi_extra=calls(None))
def show_run(run_id: str, context: Context) -> dict[str, Any]:
    validation = context.platform.validation
    found = validation.get(run_id)
    return run_view(found, validation.result(found))
