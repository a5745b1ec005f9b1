"""Decision records and the policy that turns a score into a decision."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bankml.core.canonical import canonical_json, sha256_hex
from bankml.core.errors import InvalidInputError


class Outcome(StrEnum):
    APPROVE = "approve"
    REFER = "refer"
    DECLINE = "decline"


@dataclass(frozen=True, slots=True, kw_only=True)
class CutoffPolicy:
    """Probability-of-default cut-offs: approve below one, decline at or above the other.

    Scores in between go to a person (refer).
    """

    version: str
    approve_below: float
    decline_from: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.approve_below <= self.decline_from <= 1.0:
            raise InvalidInputError(
                "policy", f"cut-offs must satisfy 0 <= approve_below ({self.approve_below}) "
                f"<= decline_from ({self.decline_from}) <= 1", rule="policy.cutoffs_ordered",
            )

    def decide(self, probability_of_default: float) -> Outcome:
        if probability_of_default < self.approve_below:
            return Outcome.APPROVE
        if probability_of_default >= self.decline_from:
            return Outcome.DECLINE
        return Outcome.REFER

    def describe(self) -> dict[str, Any]:
        return {"version": self.version, "approve_below": self.approve_below,
                "decline_from": self.decline_from}


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionRecord:
    """Everything needed to explain and replay one decision, immutable once written."""

    decision_id: str
    decided_at: str
    customer_pseudo_id: str
    model_name: str
    model_version: int
    artifact_sha256: str
    inputs_json: str  # canonical JSON of the exact inputs the model saw
    score: float
    outcome: Outcome
    policy_json: str

    @property
    def inputs_sha256(self) -> str:
        return sha256_hex(self.inputs_json)

    @property
    def record_sha256(self) -> str:
        """Digest of the whole record; the audit trail stores it, so edits are caught."""
        return sha256_hex(canonical_json({
            "decision_id": self.decision_id, "decided_at": self.decided_at,
            "customer_pseudo_id": self.customer_pseudo_id, "model_name": self.model_name,
            "model_version": self.model_version, "artifact_sha256": self.artifact_sha256,
            "inputs": self.inputs_json, "score": self.score, "outcome": str(self.outcome),
            "policy": self.policy_json,
        }))


def pseudonymise(customer_id: str, key: bytes) -> str:
    """A keyed HMAC of the customer id: stable for joins, useless without the key."""
    return hmac.new(key, customer_id.encode("utf-8"), "sha256").hexdigest()
