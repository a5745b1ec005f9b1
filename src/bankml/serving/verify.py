"""Checking the decision log at scale: every batch's proof, then every decision made again.

Proofs: the records of each batch hash to the Merkle root its `decisions.logged` audit
event holds (the chain vouches for the event); the batch's stored leaves name which record
was edited, removed or added. Re-scoring: records are scored again in bulk, one frame per
model version, from the inputs they hold, and decided again under the policy they name.
With `recompute_features`, each record's online feature values are rebuilt from the
offline store as of the decision time, which shows train-serve skew after the fact.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bankml.core.decisions import DecisionRecord, policy_from_description
from bankml.core.merkle import merkle_root
from bankml.core.ports import Transaction
from bankml.core.replay import REPLAY_TOLERANCE

LOGGED = "decisions.logged"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProofProblem:
    """A batch whose records do not add up to what the audit trail recorded."""

    batch_id: int | None
    decision_id: str | None
    problem: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Mismatch:
    """A decision made again that came out otherwise than logged."""

    decision_id: str
    what: str  # score, decision or feature
    logged: Any
    now: Any


@dataclass(slots=True, kw_only=True)
class VerifyReport:
    checked: int = 0
    bitwise: int = 0  # scores equal to the last bit
    proofs_checked: int = 0
    proof_problems: list[ProofProblem] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def is_intact(self) -> bool:
        return not self.proof_problems and not self.mismatches

    @property
    def rate_per_s(self) -> float:
        return self.checked / self.seconds if self.seconds else 0.0


def check_proofs(tx: Transaction, report: VerifyReport, *,
                 selected: set[str] | None = None) -> None:
    """Every batch (or those holding a `selected` decision) against its audit event."""
    vouched: dict[int, dict[str, Any]] = {}
    for event in tx.audit.events():
        if event.action == LOGGED:
            vouched[int(event.subject.rsplit(":", 1)[1])] = event.payload
    stored = tx.decisions.batches()
    members: dict[int | None, list[tuple[int | None, DecisionRecord]]] = defaultdict(list)
    for batch_id, index, record in tx.decisions.batched():
        members[batch_id].append((index, record))
    for record in (r for _, r in members.pop(None, [])):
        report.proof_problems.append(ProofProblem(
            batch_id=None, decision_id=record.decision_id,
            problem="the record belongs to no batch: nothing on the audit trail vouches for it"))
    for batch_id in sorted(set(members) | set(vouched) | set(stored), key=lambda b: b or 0):
        records = [r for _, r in sorted(members.get(batch_id, []), key=lambda m: m[0] or 0)]
        if selected is not None and not any(r.decision_id in selected for r in records):
            continue
        report.proofs_checked += 1
        report.proof_problems += _batch_problems(batch_id, records, vouched.get(batch_id or 0),
                                                 stored.get(batch_id or 0))


def _batch_problems(batch_id: int | None, records: Sequence[DecisionRecord],
                    event: dict[str, Any] | None, stored: Any) -> list[ProofProblem]:
    if event is None:
        return [ProofProblem(batch_id=batch_id, decision_id=None,
                             problem="no decisions.logged event vouches for this batch")]
    digests = [record.record_sha256 for record in records]
    if digests and merkle_root(digests) == event["merkle_root"]:
        return []
    leaves = tuple(stored.leaves) if stored is not None else ()
    if not leaves or merkle_root(leaves) != event["merkle_root"]:
        return [ProofProblem(batch_id=batch_id, decision_id=None, problem=(
            f"its {len(records)} records do not hash to the root the audit trail holds, and "
            "its stored leaves do not either: which record changed cannot be told"))]
    return _named(batch_id, records, leaves)


def _named(batch_id: int | None, records: Sequence[DecisionRecord],
           leaves: tuple[str, ...]) -> list[ProofProblem]:
    """The leaves hold: name each record that is not what was committed."""
    problems = []
    for index, record in enumerate(records):
        if index >= len(leaves):
            problems.append(ProofProblem(batch_id=batch_id, decision_id=record.decision_id,
                                         problem="added to the batch after it was committed"))
        elif record.record_sha256 != leaves[index]:
            problems.append(ProofProblem(batch_id=batch_id, decision_id=record.decision_id,
                                         problem="edited after it was committed"))
    if len(records) < len(leaves):
        problems.append(ProofProblem(
            batch_id=batch_id, decision_id=None,
            problem=f"{len(leaves) - len(records)} committed record(s) are missing"))
    return problems


def rescore(records: Iterable[DecisionRecord], *, model: Any, inputs: list[str],
            report: VerifyReport) -> None:
    """Score `records` of one model version again in one frame; note every difference."""
    batch = list(records)
    if not batch:
        return
    frame = pd.DataFrame([json.loads(r.inputs_json) for r in batch], columns=inputs)
    scores = np.asarray(model.predict_proba(frame)[:, 1], dtype=np.float64)
    logged = np.fromiter((r.score for r in batch), dtype=np.float64, count=len(batch))
    report.checked += len(batch)
    report.bitwise += int(np.count_nonzero(scores == logged))
    policies: dict[str, Any] = {}
    for record, score in zip(batch, scores, strict=True):
        if abs(float(score) - record.score) > REPLAY_TOLERANCE:
            report.mismatches.append(Mismatch(decision_id=record.decision_id, what="score",
                                              logged=record.score, now=float(score)))
        described = policies.get(record.policy_json)
        if described is None:
            parsed = json.loads(record.policy_json)
            described = policies[record.policy_json] = (policy_from_description(parsed),
                                                         bool(parsed.get("review")))
        policy, review = described
        outcome = policy.review if review else policy.decide(float(score))
        if outcome != record.outcome:
            report.mismatches.append(Mismatch(decision_id=record.decision_id,
                                              what="decision", logged=str(record.outcome),
                                              now=str(outcome)))


def compare_features(records: Sequence[DecisionRecord], rebuilt: pd.DataFrame,
                     refs: dict[str, str], report: VerifyReport) -> None:
    """Each record's online values against the offline store's as of its decision."""
    for position, record in enumerate(records):
        logged = json.loads(record.features_json).get("values", {})
        for name, ref in refs.items():
            then, now = logged.get(ref), rebuilt[name].iloc[position]
            now = None if pd.isna(now) else (now.item() if hasattr(now, "item") else now)
            if then != now:
                report.mismatches.append(Mismatch(decision_id=record.decision_id,
                                                  what=f"feature {ref}", logged=then, now=now))


def timed(report: VerifyReport, started: float) -> VerifyReport:
    report.seconds = time.perf_counter() - started
    return report
