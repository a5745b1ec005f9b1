"""`POST /v1/endpoints/{name}/decisions`, answered ahead of FastAPI's stack.

This is the route a bank's applications call thousands of times a second, and FastAPI's
layers (its middleware, the router, a Request object, dependency solving) cost more per
call than the decision's policy: answered here, as plain ASGI, the server makes 8 to 25 %
more decisions a second (docs/serving.md). `BankmlApp` (app.py) hands this one route to
`DecisionFront` and every other request to FastAPI. The route stays declared on the
router (decisions.py), which documents it in the OpenAPI schema; both answer through
`answer_decision`, and the body limit and problems are the same as FastAPI's.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers, State
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from bankml.api.decisions import answer_decision
from bankml.api.problems import MalformedBody, error_problem
from bankml.core.errors import BankmlError

PREFIX, SUFFIX = "/v1/endpoints/", "/decisions"


def decision_endpoint(scope: Scope) -> str | None:
    """The endpoint a single-decision request names, or None for any other request.
    `{name}` is matched as the router matches it: one non-empty path segment (bankml serve
    sets no root path, so the path is the route's)."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    path: str = scope["path"]
    if not (path.startswith(PREFIX) and path.endswith(SUFFIX)):
        return None
    name = path[len(PREFIX):len(path) - len(SUFFIX)]
    return name if name and "/" not in name else None


class DecisionFront:
    """Answers single-decision requests on `state`, the app's own (set by its lifespan)."""

    def __init__(self, state: State, count_error: Callable[[str, int], None]) -> None:
        self._state, self._count_error = state, count_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]  # one that `decision_endpoint` matched (BankmlApp)
        name = path[len(PREFIX):len(path) - len(SUFFIX)]
        headers = Headers(scope=scope)  # the first of a repeated header, as FastAPI reads it
        try:
            answer = await answer_decision(
                self._state, name, authorization=headers.get("authorization"),
                idempotency_key=headers.get("idempotency-key"),
                read_body=lambda: _body(receive))
        except (BankmlError, MalformedBody) as error:  # as FastAPI's handlers answer them
            response: Response
            response, rule = error_problem(error, instance=path)
            self._count_error(rule, response.status_code)
        except ClientDisconnect:  # the caller left before its body came: nothing decided
            return
        else:
            response = Response(answer, media_type="application/json")
        await response(scope, receive, send)


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
