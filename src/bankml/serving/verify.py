"""Checking the decision log at scale: every batch's proof (`bankml.core.proofs`), then
every decision made again.

Re-scoring: records are scored again in bulk, one frame per model version, from the
inputs they hold (parsed by Arrow a chunk at a time, `bankml.columns`), through the
model's own `predict_proba` (the general path, as replay), and decided again under the
policy they name, its bands looked up for all the scores at once.
With `recompute_features`, each record's online feature values are rebuilt from the
offline store as of the decision time, which shows train-serve skew after the fact.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bankml.arrays import FloatArray
from bankml.columns import parse_objects, series
from bankml.core.decisions import DecisionRecord, policy_from_description
from bankml.core.ports import Transaction
from bankml.core.proofs import (
    LOGGED,
    ProofProblem,
    batch_of_subject,
    batch_problems,
    batch_subject,
)
from bankml.core.replay import REPLAY_TOLERANCE

PARSE_CHUNK = 20_000  # records whose inputs are parsed at once


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


@dataclass(slots=True)
class LogScan:
    """One pass over the log: every batch's records in batch order (for the proofs) and
    the records in the window by model version (for re-scoring)."""

    members: dict[int | None, list[DecisionRecord]] = field(default_factory=dict)
    in_window: dict[str, list[DecisionRecord]] = field(default_factory=dict)
    windowed: bool = False  # False: the window is the whole log

    def batches_in_window(self) -> set[int | None]:
        chosen = {r.decision_id for records in self.in_window.values() for r in records}
        return {batch_id for batch_id, records in self.members.items()
                if any(r.decision_id in chosen for r in records)}


def scan(tx: Transaction, *, endpoint: str | None = None, since: str | None = None,
         until: str | None = None) -> LogScan:
    """Read the log once, in batch order; keep what is in the window apart."""
    found = LogScan(windowed=endpoint is not None or since is not None or until is not None)
    for batch_id, _index, record in tx.decisions.batched():
        found.members.setdefault(batch_id, []).append(record)
        if ((endpoint is None or record.endpoint == endpoint)
                and (since is None or record.decided_at >= since)
                and (until is None or record.decided_at < until)):
            found.in_window.setdefault(record.model_ref, []).append(record)
    return found


def check_proofs(tx: Transaction, report: VerifyReport, log: LogScan) -> None:
    """Every batch (or those holding a decision in the window) against its audit event."""
    vouched: dict[int, dict[str, Any]] = {}
    for event in tx.audit.events(action=LOGGED):
        vouched[batch_of_subject(event.subject)] = event.payload
    stored = tx.decisions.batches()
    batches = (log.batches_in_window() if log.windowed
               else set(log.members) | set(vouched) | set(stored))
    for batch_id in sorted(batches, key=lambda b: -1 if b is None else b):
        report.proofs_checked += batch_id is not None
        report.proof_problems += batch_problems(
            batch_id, log.members.get(batch_id, []),
            None if batch_id is None else vouched.get(batch_id),
            None if batch_id is None else stored.get(batch_id))


def record_problems(tx: Transaction, decision_id: str) -> list[ProofProblem]:
    """What is wrong with the proof of `decision_id`: its batch checked against its event,
    keeping the problems that concern this record (an edited neighbour does not)."""
    batch_id, stored, records = tx.decisions.batch_of(decision_id)
    if batch_id is None:
        return batch_problems(None, [r for r in records if r.decision_id == decision_id],
                              None, None)
    events = list(tx.audit.events(subject=batch_subject(batch_id)))
    vouching = next((e.payload for e in events if e.action == LOGGED), None)
    return [problem for problem in batch_problems(batch_id, records, vouching, stored)
            if problem.whole_batch or problem.decision_id == decision_id]


def rescore(records: Iterable[DecisionRecord], *, model: Any, inputs: list[str],
            report: VerifyReport) -> None:
    """Score `records` of one model version again in one frame; note every difference."""
    batch = list(records)
    if not batch:
        return
    frame = inputs_frame([r.inputs_json for r in batch], inputs)
    scores = np.asarray(model.predict_proba(frame)[:, 1], dtype=np.float64)
    logged = np.fromiter((r.score for r in batch), dtype=np.float64, count=len(batch))
    report.checked += len(batch)
    report.bitwise += int(np.count_nonzero(scores == logged))
    with np.errstate(invalid="ignore"):  # a NaN differs by nothing, as abs() > says
        off = np.abs(scores - logged) > REPLAY_TOLERANCE
    outcomes = decided_again(batch, scores)
    otherwise = outcomes != np.array([str(r.outcome) for r in batch], dtype=object)
    for position in np.flatnonzero(off | otherwise).tolist():  # in record order
        record = batch[position]
        if off[position]:
            report.mismatches.append(Mismatch(decision_id=record.decision_id, what="score",
                                              logged=record.score,
                                              now=float(scores[position])))
        if otherwise[position]:
            report.mismatches.append(Mismatch(decision_id=record.decision_id,
                                              what="decision", logged=str(record.outcome),
                                              now=str(outcomes[position])))


def inputs_frame(texts: Sequence[str], inputs: list[str]) -> pd.DataFrame:
    """The model's inputs of each record, as the frame of the rows' values would be
    (`bankml.columns`: parsed by Arrow a chunk at a time, the same Series)."""
    chunks = [parse_objects(texts[start:start + PARSE_CHUNK], names=inputs)
              for start in range(0, len(texts), PARSE_CHUNK)]
    return pd.DataFrame({name: series([chunk.piece(name) for chunk in chunks])
                         for name in inputs}, columns=inputs)


def decided_again(batch: Sequence[DecisionRecord], scores: FloatArray) -> Any:
    """Each record's outcome under the policy it names, at its new score: the bands of
    the policy (`DecisionPolicy.bands`, which `decide` looks up), a policy at a time."""
    outcomes = np.empty(len(batch), dtype=object)
    under: dict[str, list[int]] = {}
    for position, record in enumerate(batch):
        under.setdefault(record.policy_json, []).append(position)
    for described, positions in under.items():
        parsed = json.loads(described)
        policy = policy_from_description(parsed)
        if parsed.get("review"):
            outcomes[positions] = str(policy.review)
            continue
        cutoffs, band_outcomes = policy.bands()
        # side="right": a score at a cut-off falls in the band above it, as bisect_right
        bands = np.searchsorted(np.asarray(cutoffs, dtype=np.float64), scores[positions],
                                side="right")
        outcomes[positions] = np.array([str(o) for o in band_outcomes], dtype=object)[bands]
    return outcomes


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
