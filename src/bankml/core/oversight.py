"""What governance keeps about a model version: validations, findings, exceptions, approvals."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bankml.core.identity import Role
from bankml.core.registry import Stage


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class FindingStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class RequestStatus(StrEnum):
    OPEN = "open"
    EXECUTED = "executed"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"  # a prod request whose rollout was rolled back: it never moves


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationSignoff:
    """A validator's conclusion on one model version: the evidence gates read."""

    model: str
    version: int
    validator: str
    passed: bool
    fairness_passed: bool
    summary: str
    recorded_at: str
    run_id: str | None = None  # the validation run the conclusion rests on


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """An issue a validator or model risk raised, owned by someone, due by a date."""

    finding_id: int
    model: str
    version: int | None  # None: about the model as a whole
    severity: Severity
    title: str
    owner: str
    due_date: str  # YYYY-MM-DD
    status: FindingStatus
    raised_by: str
    raised_at: str
    closed_by: str | None = None
    closed_at: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyException:
    """A time-boxed permission to proceed without a gate, with its justification."""

    model: str
    version: int
    gate: str
    justification: str
    granted_by: str
    expires_at: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Approval:
    approver: str
    role: Role
    approved: bool
    comment: str
    recorded_at: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TransitionRequest:
    request_id: int
    model: str
    version: int
    target: Stage
    requested_by: str
    reason: str
    status: RequestStatus
    created_at: str
    approvals: tuple[Approval, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.model}@{self.version}"
