"""What a batch of decision records proves: its records hash to the Merkle root its
`decisions.logged` audit event holds, and where they do not, which record changed.

The chain vouches for the event; the batch's stored leaves (each record's digest when it
was committed) name the record that was edited, removed or added since.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bankml.core.decisions import DecisionBatch, DecisionRecord
from bankml.core.merkle import merkle_root

LOGGED = "decisions.logged"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProofProblem:
    """A batch whose records do not add up to what the audit trail recorded."""

    batch_id: int | None
    decision_id: str | None
    problem: str
    whole_batch: bool = False  # no record of the batch can be trusted, not only the named


def batch_subject(batch_id: int) -> str:
    """The subject of the audit event that vouches for batch `batch_id`."""
    return f"decisions:batch:{batch_id}"


def batch_of_subject(subject: str) -> int:
    return int(subject.rsplit(":", 1)[1])


UNBATCHED = "the record belongs to no batch: nothing on the audit trail vouches for it"


def batch_problems(batch_id: int | None, records: Sequence[DecisionRecord],
                   event: Mapping[str, Any] | None,
                   stored: DecisionBatch | None) -> list[ProofProblem]:
    """Every problem with one batch: its `records` in batch order, the payload of the event
    that vouches for it (None: no such event) and its stored row (None: gone)."""
    if batch_id is None:
        return [ProofProblem(batch_id=None, decision_id=record.decision_id, problem=UNBATCHED)
                for record in records]
    if event is None:
        return [ProofProblem(batch_id=batch_id, decision_id=None, whole_batch=True,
                             problem="no decisions.logged event vouches for this batch")]
    digests = [record.record_sha256 for record in records]
    if digests and merkle_root(digests) == event["merkle_root"]:
        return []
    leaves = tuple(stored.leaves) if stored is not None else ()
    if not leaves or merkle_root(leaves) != event["merkle_root"]:
        return [ProofProblem(batch_id=batch_id, decision_id=None, whole_batch=True, problem=(
            f"its {len(records)} records do not hash to the root the audit trail holds, and "
            "its stored leaves do not either: which record changed cannot be told"))]
    return _named(batch_id, records, leaves)


def _named(batch_id: int, records: Sequence[DecisionRecord],
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
