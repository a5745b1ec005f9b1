"""What a batch of decision records proves: its records hash to the Merkle root its
`decisions.logged` audit event holds, and where they do not, which record changed.

The chain vouches for the event; the batch's stored leaves (each record's digest when it
was committed) name the record that was edited, removed or added since.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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
    return digest_problems(batch_id, [record.decision_id for record in records],
                           (record.record_sha256 for record in records), event, stored)


def digest_problems(batch_id: int | None, decision_ids: Sequence[str],
                    digests: Iterable[str], event: Mapping[str, Any] | None,
                    stored: DecisionBatch | None) -> list[ProofProblem]:
    """`batch_problems` of the records with these ids and digests (`record_sha256`), in
    batch order; the digests are taken only when an event vouches for the batch."""
    if batch_id is None:
        return [ProofProblem(batch_id=None, decision_id=decision_id, problem=UNBATCHED)
                for decision_id in decision_ids]
    if event is None:
        return [ProofProblem(batch_id=batch_id, decision_id=None, whole_batch=True,
                             problem="no decisions.logged event vouches for this batch")]
    found = list(digests)
    if found and merkle_root(found) == event["merkle_root"]:
        return []
    leaves = tuple(stored.leaves) if stored is not None else ()
    if not leaves or merkle_root(leaves) != event["merkle_root"]:
        return [ProofProblem(batch_id=batch_id, decision_id=None, whole_batch=True, problem=(
            f"its {len(decision_ids)} records do not hash to the root the audit trail "
            "holds, and its stored leaves do not either: which record changed cannot be "
            "told"))]
    return _named(batch_id, decision_ids, found, leaves)


def _named(batch_id: int, decision_ids: Sequence[str], digests: Sequence[str],
           leaves: tuple[str, ...]) -> list[ProofProblem]:
    """The leaves hold: name each record that is not what was committed."""
    problems = []
    for index, (decision_id, digest) in enumerate(zip(decision_ids, digests, strict=True)):
        if index >= len(leaves):
            problems.append(ProofProblem(batch_id=batch_id, decision_id=decision_id,
                                         problem="added to the batch after it was committed"))
        elif digest != leaves[index]:
            problems.append(ProofProblem(batch_id=batch_id, decision_id=decision_id,
                                         problem="edited after it was committed"))
    if len(decision_ids) < len(leaves):
        problems.append(ProofProblem(
            batch_id=batch_id, decision_id=None,
            problem=f"{len(leaves) - len(decision_ids)} committed record(s) are missing"))
    return problems
