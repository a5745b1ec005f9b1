"""Reading tier policies from YAML: the defaults shipped with bankml, or a bank's own folder."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bankml.core.canonical import sha256_hex
from bankml.core.errors import InvalidInputError
from bankml.core.identity import GRANTS, Permission, Role
from bankml.core.oversight import Severity
from bankml.core.policy import AccessPolicy, FairnessRule, StepRequirements, TierPolicy
from bankml.core.registry import Stage
from bankml.documents import parse_document

DEFAULTS = Path(__file__).parent / "policies"
FileShape = TypeVar("FileShape", bound=BaseModel)
TIERS = (1, 2, 3)


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    validation: bool = False
    independent_validator: bool = True
    approvals: list[Role] = Field(default_factory=list)
    fairness: FairnessRule = FairnessRule.NOT_REQUIRED
    blocking_findings: list[Severity] = Field(default_factory=list)
    no_open_red_alerts: bool = False

    @field_validator("approvals")
    @classmethod
    def _approvers_only(cls, roles: list[Role]) -> list[Role]:
        approvers = GRANTS[Permission.TRANSITION_APPROVE]
        wrong = [str(role) for role in roles if role not in approvers]
        if wrong:
            raise ValueError(f"{', '.join(wrong)} cannot approve; approvers are "
                             f"{', '.join(sorted(approvers))}")
        if len(set(roles)) != len(roles):
            raise ValueError("each role may be listed once")
        return roles


class _PolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tier: int = Field(ge=1, le=3)
    version: str = Field(min_length=1)
    review_months: int = Field(gt=0, le=60)
    steps: dict[Stage, _Step]


class _AccessFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1)
    second_admin_for: list[Role]
    grantor_cooldown_days: int = Field(ge=0, le=366)


def _parsed(path: Path, shape: type[FileShape]) -> tuple[FileShape, str]:
    """The file validated as `shape`, and its text; an error names the file and the field."""
    text = path.read_text(encoding="utf-8")
    return parse_document(shape, text, source=str(path), rule="policy.file_valid"), text


def load_access_policy(folder: Path | None = None) -> AccessPolicy:
    """Four eyes on access, from `folder`/access.yaml, else the shipped default."""
    path = (folder or DEFAULTS) / "access.yaml"
    if not path.is_file():
        path = DEFAULTS / "access.yaml"
    parsed, text = _parsed(path, _AccessFile)
    return AccessPolicy(version=f"access {parsed.version}+{sha256_hex(text)[:12]}",
                        second_admin_for=frozenset(parsed.second_admin_for),
                        grantor_cooldown_days=parsed.grantor_cooldown_days)


def load_policy(path: Path) -> TierPolicy:
    """One tier's policy; an error names the file and the field."""
    parsed, text = _parsed(path, _PolicyFile)
    return TierPolicy(
        tier=parsed.tier, version=f"{parsed.version}+{sha256_hex(text)[:12]}",
        review_months=parsed.review_months,
        steps={stage: StepRequirements(
            validation=step.validation, independent_validator=step.independent_validator,
            approvals=tuple(step.approvals), fairness=step.fairness,
            blocking_findings=frozenset(step.blocking_findings),
            no_open_red_alerts=step.no_open_red_alerts,
        ) for stage, step in parsed.steps.items()},
    )


def load_policies(folder: Path | None = None) -> dict[int, TierPolicy]:
    """The policy of every tier, from `folder` (tier-1.yaml ...) or the shipped defaults."""
    source = folder or DEFAULTS
    policies = {}
    for tier in TIERS:
        path = source / f"tier-{tier}.yaml"
        if not path.is_file():
            raise InvalidInputError("BANKML_POLICIES", f"{source} has no tier-{tier}.yaml; a "
                                    "policy folder needs one file per tier",
                                    rule="policy.every_tier")
        policy = load_policy(path)
        if policy.tier != tier:
            raise InvalidInputError(str(path), f"declares tier {policy.tier}",
                                    rule="policy.file_valid")
        policies[tier] = policy
    return policies
