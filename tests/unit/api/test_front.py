"""The decision front takes exactly the requests FastAPI's router would give the
single-decision route, and leaves FastAPI every other one."""

from __future__ import annotations

import pytest
from starlette.routing import Match

from bankml.api import decisions
from bankml.api.app import BankmlApp, create_app
from bankml.api.front import decision_endpoint

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
