"""Decision lookup: a logged decision's inputs, score, outcome, reasons (as a waterfall),
overrides, and a replay that shows whether the model says the same again."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from bankml.api.ui.pages import PageRoute, Posted, Visiting, Visitor, page, see_other
from bankml.api.ui.sessions import COOKIE_PATH
from bankml.core.replay import Replay
from bankml.reports import charts

router = APIRouter(prefix=COOKIE_PATH, route_class=PageRoute, include_in_schema=False)


@router.get("/decisions")
def lookup(request: Request, visiting: Visiting, decision_id: str = "") -> Response:
    if decision_id.strip():
        return see_other(f"{COOKIE_PATH}/decisions/{quote(decision_id.strip(), safe='')}")
    return page(request, "lookup.html", visiting=visiting, found=None)


@router.post("/decisions/customer")
def by_customer(request: Request, visiting: Visiting, form: Posted) -> HTMLResponse:
    """Posted, not a query: the customer's id in clear stays out of addresses, history
    and access logs; the service pseudonymises it with the installation's key."""
    found = visiting.platform.decisions.of_customer(visiting.principal,
                                                    form.get("customer_id"))
    return page(request, "lookup.html", visiting=visiting, found=found)


@router.get("/decisions/{decision_id}")
def decision(request: Request, decision_id: str, visiting: Visiting) -> HTMLResponse:
    return _decision(request, visiting, decision_id, replay=None)


@router.post("/decisions/{decision_id}/replay")
def replay(request: Request, decision_id: str, visiting: Visiting, _: Posted) -> HTMLResponse:
    again = visiting.platform.decisions.replay(visiting.principal, decision_id)
    return _decision(request, visiting, decision_id, replay=again)


def _decision(request: Request, visiting: Visitor, decision_id: str, *,
              replay: Replay | None) -> HTMLResponse:
    decisions, by = visiting.platform.decisions, visiting.principal
    record = decisions.get(by, decision_id)
    explanation: dict[str, Any] = json.loads(record.reasons_json) or {}
    reasons = explanation.get("codes", [])
    figure = charts.reason_waterfall([(r["code"], float(r["contribution"]))
                                      for r in reasons])
    waterfall = Markup(charts.svg(figure)) if figure is not None else None  # noqa: S704 - matplotlib's SVG, text escaped
    return page(request, "decision.html", visiting=visiting, record=record,
                inputs=json.loads(record.inputs_json), request_fields=json.loads(
                    record.request_json), features=json.loads(record.features_json),
                policy=json.loads(record.policy_json), reasons=reasons,
                explanation=explanation, waterfall=waterfall,
                overrides=decisions.overrides(by, decision_id), replay=replay)
