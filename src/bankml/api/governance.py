"""Governance routes: gates, transition requests and their approvals, sign-offs, exceptions,
findings and the model inventory (alerts: api/monitoring.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from bankml.api.routing import Body, Context, calls
from bankml.api.views import (
    exception_view,
    finding_view,
    gates_view,
    inventory_view,
    request_view,
    signoff_view,
)
from bankml.core.identity import Permission, Role
from bankml.core.oversight import RequestStatus, Severity
from bankml.core.registry import Stage
from bankml.governance.inventory import build_inventory

router = APIRouter(tags=["governance"])
Ref = Field(min_length=1, max_length=200, description="NAME@VERSION (or NAME@ALIAS).")
Text = Field(min_length=1, max_length=2_000)


class TransitionBody(Body):
    ref: str = Ref
    target: Stage
    reason: str = Field("", max_length=2_000)


class ApprovalBody(Body):
    role: Role = Field(description="The role you approve in; you must hold it.")
    comment: str = Field("", max_length=2_000)


class RejectionBody(Body):
    role: Role = Field(description="The role you reject in; you must hold it.")
    comment: str = Text


class SignoffBody(Body):
    ref: str = Ref
    passed: bool
    summary: str = Text
    run_id: str | None = Field(
        None, max_length=64, description="Your validation run of this version the "
        "conclusion rests on (needed to pass); its fairness verdict is the sign-off's.")


class ExceptionBody(Body):
    ref: str = Ref
    gate: str = Field(min_length=1, max_length=100, examples=["gate.fairness"])
    justification: str = Field(max_length=2_000)
    expires: date = Field(description="The last day the exception holds.")


class FindingBody(Body):
    ref: str = Field(min_length=1, max_length=200,
                     description="NAME (the model) or NAME@VERSION (one version).")
    severity: Severity
    title: str = Text
    owner: str = Field(min_length=1, max_length=63, description="Who fixes it (username).")
    due: date


class ClosingBody(Body):
    note: str = Text


@router.get("/v1/models/{name}/versions/{number}/gates",
            summary="The gates between a version and a stage, and which hold now",
            openapi_extra=calls(Permission.EVIDENCE_READ))
def gates(name: str, number: int, target: Stage, context: Context) -> dict[str, Any]:
    ref = f"{name}@{number}"
    return gates_view(ref, str(target),
                      context.platform.oversight.gates(context.principal, ref, target))


@router.get("/v1/governance/requests", summary="Transition requests and their approvals",
            openapi_extra=calls(Permission.EVIDENCE_READ))
def list_requests(context: Context, model: str | None = None,
                  status: RequestStatus | None = None) -> dict[str, Any]:
    found = context.platform.oversight.requests(context.principal, model=model, status=status)
    return {"requests": [request_view(request) for request in found]}


@router.get("/v1/governance/requests/{request_id}",
            summary="A transition request, its approvals and its gates",
            openapi_extra=calls(Permission.EVIDENCE_READ))
def show_request(request_id: int, context: Context) -> dict[str, Any]:
    oversight, by = context.platform.oversight, context.principal
    request = oversight.request(by, request_id)
    return request_view(request, oversight.gates(by, request.ref, request.target, request))


@router.post("/v1/governance/requests", status_code=201,
             summary="Request a transition; it happens once every gate holds",
             openapi_extra=calls(Permission.TRANSITION_REQUEST))
def request_transition(body: TransitionBody, context: Context) -> dict[str, Any]:
    oversight, by = context.platform.oversight, context.principal
    made = oversight.request_transition(by, body.ref, body.target, reason=body.reason)
    return request_view(made, oversight.gates(by, made.ref, made.target, made))


@router.post("/v1/governance/requests/{request_id}/approve",
             summary="Approve a request in one of your roles (four eyes apply)",
             openapi_extra=calls(Permission.TRANSITION_APPROVE))
def approve(request_id: int, body: ApprovalBody, context: Context) -> dict[str, Any]:
    return request_view(context.platform.oversight.approve(
        context.principal, request_id, role=body.role, comment=body.comment))


@router.post("/v1/governance/requests/{request_id}/reject",
             summary="Reject a request; it closes",
             openapi_extra=calls(Permission.TRANSITION_APPROVE))
def reject(request_id: int, body: RejectionBody, context: Context) -> dict[str, Any]:
    return request_view(context.platform.oversight.reject(
        context.principal, request_id, role=body.role, comment=body.comment))


@router.post("/v1/governance/signoffs", status_code=201,
             summary="Record a validator's conclusion on a version",
             openapi_extra=calls(Permission.VALIDATION_RECORD))
def signoff(body: SignoffBody, context: Context) -> dict[str, Any]:
    return signoff_view(context.platform.oversight.record_validation(
        context.principal, body.ref, passed=body.passed, summary=body.summary,
        run_id=body.run_id))


@router.post("/v1/governance/exceptions", status_code=201,
             summary="Grant a time-boxed exception to one gate",
             openapi_extra=calls(Permission.EXCEPTION_GRANT))
def grant_exception(body: ExceptionBody, context: Context) -> dict[str, Any]:
    return exception_view(context.platform.oversight.grant_exception(
        context.principal, body.ref, gate=body.gate, justification=body.justification,
        expires=body.expires))


@router.get("/v1/governance/findings", summary="Findings with owner, due date and status",
            openapi_extra=calls(Permission.EVIDENCE_READ))
def list_findings(context: Context, model: str | None = None,
                  open_only: Annotated[bool, Query(alias="open")] = False) -> dict[str, Any]:
    found = context.platform.oversight.findings(context.principal, model=model,
                                                open_only=open_only)
    return {"findings": [finding_view(finding) for finding in found]}


@router.post("/v1/governance/findings", status_code=201,
             summary="Raise a finding on a model or one of its versions",
             openapi_extra=calls(Permission.FINDING_RECORD))
def raise_finding(body: FindingBody, context: Context) -> dict[str, Any]:
    return finding_view(context.platform.oversight.raise_finding(
        context.principal, body.ref, severity=body.severity, title=body.title,
        owner=body.owner, due=body.due))


@router.post("/v1/governance/findings/{finding_id}/close", summary="Close a finding",
             openapi_extra=calls(Permission.FINDING_CLOSE))
def close_finding(finding_id: int, body: ClosingBody, context: Context) -> dict[str, Any]:
    return finding_view(context.platform.oversight.close_finding(
        context.principal, finding_id, note=body.note))


@router.get("/v1/inventory",
            summary="The model inventory: owners, validators, reviews, findings",
            openapi_extra=calls(Permission.EVIDENCE_READ))
def inventory(context: Context, overdue: bool = False,
              retired: bool = False) -> dict[str, Any]:
    """One row per model, as `bankml inventory --format json` prints it; `overdue` keeps
    only models with an overdue review or finding; `retired` adds retired models (every
    version archived), as `bankml inventory --all` does."""
    platform = context.platform
    rows = build_inventory(context.principal, platform.registry, platform.oversight,
                           platform.oversight.policies, include_retired=retired)
    return {"models": [inventory_view(row) for row in rows
                       if row.is_overdue or not overdue]}
