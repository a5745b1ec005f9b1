"""Decision routes: decide (one or many), look a decision up, replay it, override it."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from bankml.api.batching import DecisionBatcher
from bankml.api.context import Served, served
from bankml.api.metrics import Metrics
from bankml.api.problems import MalformedBody
from bankml.core.errors import InvalidInputError
from bankml.core.identity import Principal
from bankml.platform import Platform
from bankml.presenters import (
    decision_answer_view,
    decision_view,
    override_view,
    replay_view,
)

router = APIRouter(tags=["decisions"])
MAX_BATCH = 1_000
MAX_KEY = 200


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requests: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_BATCH)


class OverrideRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: str
    reason_code: str = Field(min_length=1, max_length=50)
    comment: str = Field(min_length=1, max_length=2_000)


def _fields(body: bytes) -> dict[str, Any]:
    """The body as a JSON object; the endpoint's schema checks its fields."""
    try:
        fields = json.loads(body)
    except ValueError as exc:
        raise MalformedBody(str(exc)) from None
    if not isinstance(fields, dict):
        raise InvalidInputError("body", "must be a JSON object of the endpoint's fields",
                                rule="decision.body_object")
    return fields


async def answer_decision(state: Any, name: str, *, authorization: str | None,
                          idempotency_key: str | None,
                          read_body: Callable[[], Awaitable[bytes]]) -> bytes:
    """The JSON answer to one decision request on endpoint `name`, once its record is
    durable: the app's `state` (its platform, batcher, authenticator, metrics), the
    request's two headers and its body, read after the caller is known."""
    principal = await state.authenticator.of_header(authorization)
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_KEY:
        raise InvalidInputError("Idempotency-Key", f"must hold 1 to {MAX_KEY} characters",
                                rule="decision.idempotency_key")
    fields = _fields(await read_body())
    if idempotency_key is None:  # decided with the requests that wait with it, in one call
        batcher: DecisionBatcher = state.batcher
        record = await batcher.decide(principal, name, fields)
    else:  # settled against the log's keys, alone
        platform: Platform = state.platform
        [record] = await platform.decisions.decide_async(principal, name, [fields],
                                                         idempotency_key=idempotency_key)
    metrics: Metrics = state.metrics
    metrics.count_decision(record)
    return json.dumps(decision_answer_view(record)).encode()


IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False,
               "description": "A retry with the same key returns the same decision, never "
                              "a second one (also across workers).",
               "schema": {"type": "string", "maxLength": MAX_KEY}}


@router.post("/v1/endpoints/{name}/decisions", summary="Decide on one application",
             response_model=None, openapi_extra={
                 "parameters": [IDEMPOTENCY],
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": {"type": "object", "description": "The entity keys and "
                                "request fields of GET /v1/endpoints/{name}."}}}}})
async def decide(name: str, request: Request) -> Response:
    """Entity keys and request fields in (see GET /v1/endpoints/{name} for the schema);
    decision id, decision, score, reasons and versions out, once the record is durable.
    A retry with the same `Idempotency-Key` returns the same decision."""
    # `BankmlApp` answers this route ahead of FastAPI's stack (api/front.py); both call
    # `answer_decision`, which reads the headers and body itself and encodes once.
    answer = await answer_decision(request.app.state, name,
                                   authorization=request.headers.get("authorization"),
                                   idempotency_key=request.headers.get("idempotency-key"),
                                   read_body=request.body)
    return Response(answer, media_type="application/json")


@router.post("/v1/endpoints/{name}/decisions:batch", summary="Decide on many applications")
async def decide_batch(name: str, body: BatchRequest,
                       context: Annotated[Served, Depends(served)]) -> dict[str, Any]:
    records = await context.platform.decisions.decide_async(context.principal, name,
                                                            body.requests)
    for record in records:
        context.metrics.count_decision(record)
    return {"decisions": [decision_answer_view(record) for record in records]}


@router.get("/v1/decisions/{decision_id}", summary="A logged decision, in full")
def get_decision(decision_id: str, context: Annotated[Served, Depends(served)]
                 ) -> dict[str, Any]:
    platform, by = context.platform, context.principal
    record = platform.decisions.get(by, decision_id)
    return {**decision_view(record), "overrides": [
        override_view(o) for o in platform.decisions.overrides(by, decision_id)]}


@router.post("/v1/decisions/{decision_id}/replay", summary="Make a logged decision again")
def replay_decision(decision_id: str, context: Annotated[Served, Depends(served)]
                    ) -> dict[str, Any]:
    return replay_view(context.platform.decisions.replay(context.principal, decision_id))


@router.post("/v1/decisions/{decision_id}/override",
             summary="Record a person's different outcome beside a decision")
def override_decision(decision_id: str, body: OverrideRequest,
                      context: Annotated[Served, Depends(served)]) -> dict[str, Any]:
    return override_view(context.platform.decisions.override(
        context.principal, decision_id, outcome=body.outcome, reason_code=body.reason_code,
        comment=body.comment))


__all__ = ["Principal", "answer_decision", "router"]
