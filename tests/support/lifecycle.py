"""Moving versions between stages in tests that are about something else.

Governance is the only public way a stage changes; tests of the registry, decisions or
inventory that need a version in prod take the lifecycle's internal door directly, as
governance does once a request's gates hold.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bankml import Platform
from bankml.core.canonical import utc_timestamp
from bankml.core.identity import Role
from bankml.core.registry import ModelVersion, Stage
from bankml.registry.lifecycle import move
from support.people import staff


def move_to(platform: Platform, ref: str, *stages: Stage | str, actor: str = "ops",
            reason: str = "") -> ModelVersion:
    """Move `ref` through `stages` in turn (e.g. staging, prod); returns the last move."""
    moved = None
    for stage in stages:
        with platform.metadata.transaction() as tx:
            moved = move(tx, ref, stage, actor=actor, moment=utc_timestamp(datetime.now(UTC)),
                         reason=reason)
    assert moved is not None
    return moved


def approved_for_prod(platform: Platform, ref: str) -> None:
    """Four eyes on `ref`'s move to prod (a tier-1 policy's model risk and business owner):
    a rolled-out challenger's request stays open until its rollout promotes it."""
    request = platform.oversight.request_transition(staff(platform, "dev"), ref, Stage.PROD,
                                                    reason="challenger approved")
    for name, role in (("mira", Role.MODEL_RISK), ("bob", Role.BUSINESS_OWNER)):
        platform.oversight.approve(staff(platform, name), request.request_id, role=role)
