"""Score applicants, decide by policy, and log each decision before anyone sees it.

A decision record holds the model's artifact digest and the exact inputs it saw, so
`replay` can rebuild the same score from the registry alone, long after the fact.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from bankml.access import acting, require, viewing
from bankml.core.canonical import canonical_json, to_plain, utc_timestamp
from bankml.core.decisions import (
    DecisionPolicy,
    DecisionRecord,
    policy_from_description,
    pseudonymise,
)
from bankml.core.errors import InvalidInputError
from bankml.core.identity import Permission, Principal
from bankml.core.ports import MetadataStore
from bankml.registry import Registry

CUSTOMER_ID = "customer_id"
# Scoring one row and scoring it inside a batch may differ in the last bits (BLAS sums in
# another order); regulators accept |delta| <= 1e-9 for such models (TR-02).
REPLAY_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True, kw_only=True)
class Replay:
    """A logged decision scored again from its recorded artifact and inputs."""

    record: DecisionRecord
    score: float
    outcome: str

    @property
    def delta(self) -> float:
        return abs(self.score - self.record.score)

    @property
    def is_bitwise_identical(self) -> bool:
        return self.score == self.record.score and self.outcome == self.record.outcome

    @property
    def is_identical(self) -> bool:
        """Same decision, and the score equal within `REPLAY_TOLERANCE`."""
        return self.delta <= REPLAY_TOLERANCE and self.outcome == self.record.outcome


class DecisionService:
    def __init__(self, metadata: MetadataStore, registry: Registry, pseudonym_key: bytes,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._metadata, self._registry = metadata, registry
        self._key, self._clock = pseudonym_key, clock

    def decide(self, by: Principal, model_ref: str, applicants: pd.DataFrame,
               policy: DecisionPolicy) -> list[DecisionRecord]:
        """Score every row of `applicants` (a `customer_id` column plus the model's inputs).

        Returns only once every decision and its audit event are committed together.
        """
        require(self._metadata, by, Permission.DECISION_MAKE, f"model:{model_ref}")
        version = self._registry.get(model_ref)
        _require_columns(applicants, [CUSTOMER_ID, *version.inputs])
        inputs = applicants[version.inputs]
        scores = self._registry.load(version).predict_proba(inputs)[:, 1]
        decided_at = utc_timestamp(self._clock())
        records = [
            DecisionRecord(
                decision_id=uuid.uuid4().hex, decided_at=decided_at,
                customer_pseudo_id=pseudonymise(str(customer), self._key),
                model_name=version.name, model_version=version.number,
                artifact_sha256=version.artifact_sha256,
                inputs_json=inputs_json(row), score=float(score),
                outcome=policy.decide(float(score)),
                policy_json=canonical_json(policy.describe()),
            )
            for customer, row, score in zip(applicants[CUSTOMER_ID],
                                            inputs.to_dict(orient="records"), scores,
                                            strict=True)
        ]
        with acting(self._metadata, by, Permission.DECISION_MAKE,
                    f"model:{version.ref}") as tx:
            for record in records:
                tx.decisions.add(record)
                tx.audit.record(by.name, "decision.made", f"decision:{record.decision_id}", {
                    "model": f"{record.model_name}@{record.model_version}",
                    "artifact_sha256": record.artifact_sha256,
                    "record_sha256": record.record_sha256, "outcome": str(record.outcome),
                })
        return records

    def get(self, by: Principal, decision_id: str) -> DecisionRecord:
        """A logged decision (its inputs are personal data: reading it is a permission)."""
        with viewing(self._metadata, by, Permission.DECISION_READ,
                     f"decision:{decision_id}") as tx:
            return tx.decisions.get(decision_id)

    def replay(self, by: Principal, decision_id: str) -> Replay:
        """Re-score a logged decision from its artifact digest and recorded inputs (audited)."""
        subject = f"decision:{decision_id}"
        with viewing(self._metadata, by, Permission.DECISION_REPLAY, subject) as tx:
            record = tx.decisions.get(decision_id)
        version = self._registry.get(f"{record.model_name}@{record.model_version}")
        inputs = pd.DataFrame([json.loads(record.inputs_json)], columns=version.inputs)
        score = float(self._registry.load(version).predict_proba(inputs)[0, 1])
        policy = policy_from_description(json.loads(record.policy_json))
        replayed = Replay(record=record, score=score, outcome=str(policy.decide(score)))
        with acting(self._metadata, by, Permission.DECISION_REPLAY, subject) as tx:
            tx.audit.record(by.name, "decision.replayed", subject, {
                "record_sha256": record.record_sha256, "score": score,
                "outcome": replayed.outcome, "identical": replayed.is_identical})
        return replayed


def _require_columns(frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise InvalidInputError("applicants", f"missing column(s) {', '.join(missing)}; the "
                                "model needs these inputs", rule="decision.inputs_complete")


def inputs_json(row: Mapping[Hashable, object]) -> str:
    """The canonical JSON of the inputs a model saw, which the decision record keeps.

    A missing number (NaN) is written as null, which pandas reads back as NaN when the
    decision is replayed; an infinity has no such form and is refused, rather than a
    different input recorded.
    """
    return canonical_json(to_plain(row, non_finite="missing"))
