"""Rollout routes: deploy a challenger on an endpoint, see its rollout, pause, resume,
promote or roll it back. The service checks each permission and holds every rule."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from bankml.api.routing import Body, Context, calls
from bankml.core.identity import Permission
from bankml.core.rollouts import Rollout, Strategy, choose_plan

router = APIRouter(tags=["rollouts"])
Comment = Field("", max_length=2_000)


class DeployBody(Body):
    version: str = Field(min_length=1, max_length=200, description="NAME@VERSION, in staging.")
    strategy: Strategy | None = Field(None, description="A default plan: shadow, canary, full.")
    plan: dict[str, Any] | None = Field(
        None, description="Steps and guardrails, as in a plan file (docs/rollouts.md).")


class CommentBody(Body):
    comment: str = Comment


def rollout_view(rollout: Rollout) -> dict[str, Any]:
    return {"rollout_id": rollout.rollout_id, "endpoint": rollout.endpoint,
            "status": str(rollout.status), "champion": rollout.champion_ref,
            "challenger": rollout.challenger_ref, "step": rollout.step,
            "plan": rollout.plan.describe(), "revision": rollout.revision,
            "outcome": rollout.outcome, "comparison": rollout.comparison,
            "created_by": rollout.created_by,
            "created_at": rollout.created_at, "ended_at": rollout.ended_at}


@router.post("/v1/endpoints/{name}/rollouts", status_code=201,
             summary="Deploy a challenger: a rollout by plan or strategy",
             openapi_extra=calls(Permission.ROLLOUT_DEPLOY))
async def deploy(name: str, body: DeployBody, context: Context) -> dict[str, Any]:
    plan = choose_plan(body.strategy, body.plan)
    rollout = await run_in_threadpool(context.platform.rollouts.deploy, context.principal,
                                      name, body.version, plan=plan)
    return rollout_view(rollout)


@router.get("/v1/endpoints/{name}/rollout",
            summary="The endpoint's rollout: steps, guardrails against thresholds, routes",
            openapi_extra=calls(Permission.EVIDENCE_READ))
async def status(name: str, context: Context) -> dict[str, Any]:
    evaluation = await run_in_threadpool(context.platform.rollouts.status, context.principal,
                                         name)
    return evaluation.describe()


def _operation(verb: str, permission: Permission, summary: str) -> None:
    @router.post(f"/v1/endpoints/{{name}}/rollout/{verb}", summary=summary,
                 openapi_extra=calls(permission), name=f"rollout_{verb}")
    async def operate(name: str, context: Context,
                      body: CommentBody | None = None) -> dict[str, Any]:
        act = getattr(context.platform.rollouts, verb)
        done = await run_in_threadpool(act, context.principal, name,
                                       comment=body.comment if body else "")
        return rollout_view(done)


_operation("pause", Permission.ROLLOUT_PAUSE, "Hold the rollout at its step")
_operation("resume", Permission.ROLLOUT_PAUSE, "Let a paused rollout go on")
_operation("promote", Permission.ROLLOUT_PROMOTE, "Make the challenger champion now")
_operation("rollback", Permission.ROLLOUT_ROLLBACK, "Send every decision back to the champion")
