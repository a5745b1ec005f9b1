"""Decision routes: decide (one or many), look a decision up, replay it, override it."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field

from bankml.api.context import Served, served
from bankml.core.decisions import DecisionOverride, DecisionRecord
from bankml.core.errors import InvalidInputError
from bankml.core.identity import Principal
from bankml.serving import Replay

router = APIRouter(tags=["decisions"])
MAX_BATCH = 1_000


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requests: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_BATCH)


class OverrideRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: str
    reason_code: str = Field(min_length=1, max_length=50)
    comment: str = Field(min_length=1, max_length=2_000)


def decision_view(record: DecisionRecord) -> dict[str, Any]:
    """What a caller is told about a decision."""
    reasons = json.loads(record.reasons_json)
    return {"decision_id": record.decision_id, "decision": str(record.outcome),
            "score": record.score, "reasons": reasons.get("codes", []),
            "endpoint": record.endpoint, "endpoint_version": record.endpoint_version,
            "model_version": record.model_ref, "route": record.route,
            "decided_at": record.decided_at}


def record_view(record: DecisionRecord) -> dict[str, Any]:
    """The whole record, for those who may read personal data."""
    return {**decision_view(record), "received_at": record.received_at,
            "customer_pseudo_id": record.customer_pseudo_id,
            "artifact_sha256": record.artifact_sha256,
            "inputs": json.loads(record.inputs_json),
            "request": json.loads(record.request_json),
            "features": json.loads(record.features_json),
            "policy": json.loads(record.policy_json),
            "explanation": {k: v for k, v in json.loads(record.reasons_json).items()
                            if k != "codes"},
            "requested_by": record.requested_by, "code_version": record.code_version,
            "latency_us": record.latency_us, "schema_version": record.schema_version,
            "record_sha256": record.record_sha256}


def replay_view(replay: Replay) -> dict[str, Any]:
    return {"decision_id": replay.record.decision_id, "identical": replay.is_identical,
            "bitwise": replay.is_bitwise_identical, "logged_score": replay.record.score,
            "score": replay.score, "delta": replay.delta,
            "logged_decision": str(replay.record.outcome), "decision": replay.outcome,
            "reasons_equal": replay.reasons_equal}


def override_view(override: DecisionOverride) -> dict[str, Any]:
    return {"override_id": override.override_id, "decision_id": override.decision_id,
            "decision": str(override.outcome), "reason_code": override.reason_code,
            "comment": override.comment, "overridden_by": override.overridden_by,
            "overridden_at": override.overridden_at}


async def _fields(request: Request) -> dict[str, Any]:
    """The body as a JSON object; the endpoint's schema checks its fields."""
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise MalformedBody(str(exc)) from None
    if not isinstance(body, dict):
        raise InvalidInputError("body", "must be a JSON object of the endpoint's fields",
                                rule="decision.body_object")
    return body


class MalformedBody(Exception):  # noqa: N818 - answered as 400 by the app
    pass


@router.post("/v1/endpoints/{name}/decisions", summary="Decide on one application")
async def decide(name: str, request: Request, context: Annotated[Served, Depends(served)],
                 idempotency_key: Annotated[str | None, Header(max_length=200)] = None
                 ) -> dict[str, Any]:
    """Entity keys and request fields in (see GET /v1/endpoints/{name} for the schema);
    decision id, decision, score, reasons and versions out, once the record is durable.
    A retry with the same `Idempotency-Key` returns the same decision."""
    fields = await _fields(request)
    [record] = await context.platform.decisions.decide_async(
        context.principal, name, [fields], idempotency_key=idempotency_key)
    context.count(record)
    return decision_view(record)


@router.post("/v1/endpoints/{name}/decisions:batch", summary="Decide on many applications")
async def decide_batch(name: str, body: BatchRequest,
                       context: Annotated[Served, Depends(served)]) -> dict[str, Any]:
    records = await context.platform.decisions.decide_async(context.principal, name,
                                                            body.requests)
    for record in records:
        context.count(record)
    return {"decisions": [decision_view(record) for record in records]}


@router.get("/v1/decisions/{decision_id}", summary="A logged decision, in full")
def get_decision(decision_id: str, context: Annotated[Served, Depends(served)]
                 ) -> dict[str, Any]:
    platform, by = context.platform, context.principal
    record = platform.decisions.get(by, decision_id)
    return {**record_view(record), "overrides": [
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


__all__ = ["MalformedBody", "Principal", "router"]
