"""The decision front takes exactly the requests FastAPI's router would give the
single-decision route, and leaves FastAPI every other one."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.datastructures import State
from starlette.routing import Match

from bankml.api import decisions
from bankml.api.app import BankmlApp, create_app
from bankml.api.auth import Authenticator
from bankml.api.front import DecisionFront, decision_endpoint
from bankml.core.errors import AuthenticationError
from bankml.core.identity import Principal

PATHS = ["/v1/endpoints/credit-pd/decisions", "/v1/endpoints/a/decisions",
         "/v1/endpoints/credit-pd/decisions:batch", "/v1/endpoints/decisions",
         "/v1/endpoints//decisions", "/v1/endpoints/a/b/decisions",
         "/v1/endpoints/credit-pd/decisions/", "/v1/endpoints/credit-pd",
         "/v2/models/credit-pd/infer", "/x/v1/endpoints/a/decisions"]


def _scope(method: str, path: str) -> dict[str, object]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": [],
            "query_string": b""}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_the_front_matches_what_the_router_routes_to_decide(method: str, path: str) -> None:
    [decide] = [route for route in decisions.router.routes
                if getattr(route, "name", "") == "decide"]
    match, params = decide.matches(_scope(method, path))  # type: ignore[arg-type]

    name = decision_endpoint(_scope(method, path))

    assert (name is not None) == (match == Match.FULL)
    if name is not None:
        assert name == params["path_params"]["name"]


def test_the_app_has_its_front_and_lifespans_pass_it_by() -> None:
    app = create_app()

    assert isinstance(app, BankmlApp)
    assert app.front is not None
    assert decision_endpoint({"type": "lifespan"}) is None


def test_a_caller_who_leaves_before_the_body_is_answered_nothing() -> None:
    """The token is known, then the connection ends instead of a body: no decision is
    made, nothing is sent, no problem is counted."""
    caller = Principal(name="loans-app", display_name="Loans", roles=frozenset())
    state = State({"authenticator": Authenticator(
        lambda _token: caller, AuthenticationError, ttl_s=60.0)})
    counted: list[tuple[str, int]] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {**_scope("POST", "/v1/endpoints/credit-pd/decisions"),
             "headers": [(b"authorization", b"Bearer bml_token")]}
    front = DecisionFront(state, lambda rule, status: counted.append((rule, status)))
    asyncio.run(front(scope, receive, send))  # type: ignore[arg-type]

    assert (sent, counted) == ([], [])
