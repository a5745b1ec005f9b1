"""Every error as RFC 9457 problem+json, carrying the rule and field of the BankmlError.

Only this module picks HTTP statuses: from the error's kind (core/errors.py), nothing else.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from bankml.core.errors import (
    AuthenticationError,
    BankmlError,
    ConflictError,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
)

MEDIA_TYPE = "application/problem+json"
OIP_PREFIX = "/v2/"
MALFORMED = "request.json"
STATUS: dict[type[BankmlError], int] = {
    InvalidInputError: 422, NotFoundError: 404, ConflictError: 409,
    AuthenticationError: 401, PermissionDeniedError: 403, UnavailableError: 503,
    IntegrityError: 500,
}
TITLES = {400: "Bad request", 401: "Unauthenticated", 403: "Forbidden", 404: "Not found",
          405: "Method not allowed", 409: "Conflict", 413: "Request too large",
          422: "Invalid input", 500: "Record does not hold", 503: "Unavailable"}


def status_of(error: BankmlError) -> int:
    return next((STATUS[kind] for kind in type(error).__mro__ if kind in STATUS), 500)


def problem(status: int, detail: str, *, rule: str, field: str | None = None,
            instance: str | None = None, headers: dict[str, str] | None = None
            ) -> JSONResponse:
    body: dict[str, Any] = {"type": f"urn:bankml:problem:{rule}",
                            "title": TITLES.get(status, "Error"), "status": status,
                            "detail": detail, "rule": rule}
    if field is not None:
        body["field"] = field
    if instance is not None:
        body["instance"] = instance
        if instance.startswith(OIP_PREFIX):  # the protocol's clients read `error`
            body["error"] = detail
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


class MalformedBody(Exception):  # noqa: N818 - answered as 400, not a domain error
    """A request body that is not JSON."""


def error_problem(error: BankmlError | MalformedBody, *, instance: str
                  ) -> tuple[JSONResponse, str]:
    """The problem that answers `error`, and the rule it is counted under: a BankmlError's
    kind gives the status, and its rule and field are carried."""
    if isinstance(error, MalformedBody):
        return _malformed(str(error), instance=instance), MALFORMED
    status = status_of(error)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem(status, str(error), rule=error.rule, field=error.field, instance=instance,
                   headers=headers), error.rule


def _malformed(detail: str, *, instance: str) -> JSONResponse:
    return problem(400, f"The body is not valid JSON: {detail}", rule=MALFORMED,
                   instance=instance)


def install(app: FastAPI, *, count: Any = None) -> None:
    """Answer BankmlErrors, request validation and HTTP errors as problem+json; `count` is
    called with (rule, status) for every problem, for the metrics."""

    def counted(response: JSONResponse, rule: str) -> JSONResponse:
        if count is not None:
            count(rule, response.status_code)
        return response

    @app.exception_handler(BankmlError)
    async def bankml_error(request: Request, error: BankmlError) -> JSONResponse:
        return counted(*error_problem(error, instance=request.url.path))

    @app.exception_handler(MalformedBody)
    async def malformed(request: Request, error: MalformedBody) -> JSONResponse:
        return counted(*error_problem(error, instance=request.url.path))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0]
        location = [str(part) for part in first.get("loc", ()) if part != "body"]
        if first.get("type") == "json_invalid":
            return counted(_malformed(str(first.get("msg")), instance=request.url.path),
                           MALFORMED)
        field = ".".join(location) or "body"
        return counted(problem(422, f"{field}: {first.get('msg')}", rule="input.valid",
                               field=field, instance=request.url.path), "input.valid")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        rule = {404: "route.exists", 405: "route.method"}.get(error.status_code, "http")
        return counted(problem(error.status_code, str(error.detail), rule=rule,
                               instance=request.url.path), rule)
