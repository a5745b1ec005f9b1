"""The audit trail's rules: how an event is hashed into the chain and how a chain is checked.

Each event's hash is ``sha256(previous hash || canonical JSON of the event)``, so editing,
deleting or reordering any event breaks every link after it. The store keeps a head
(last sequence and hash) beside the events, which catches a deleted tail as well.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bankml.core.canonical import canonical_json, sha256_hex, utc_timestamp
from bankml.core.errors import InvalidInputError

GENESIS_HASH = "0" * 64
SUBJECT_CHARS = 500  # audit_events.subject
HASH_PATTERN = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """One recorded state change, linked to the one before it."""

    sequence: int
    recorded_at: str  # UTC, as written by `utc_timestamp`; kept as text so it hashes alike
    actor: str
    action: str
    subject: str
    payload_json: str  # canonical JSON, stored verbatim so its hash never depends on a driver
    prev_hash: str
    hash: str

    @property
    def payload(self) -> Any:
        return json.loads(self.payload_json)

    @property
    def hashed_text(self) -> str:
        return hashed_text(sequence=self.sequence, recorded_at=self.recorded_at,
                           actor=self.actor, action=self.action, subject=self.subject,
                           payload_json=self.payload_json)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainHead:
    """The last event of the chain as the store last wrote it."""

    sequence: int
    hash: str


EMPTY_HEAD = ChainHead(sequence=0, hash=GENESIS_HASH)


def hashed_text(
    *, sequence: int, recorded_at: str, actor: str, action: str, subject: str,
    payload_json: str,
) -> str:
    """The canonical JSON of an event that, after the previous hash, goes into its hash."""
    return canonical_json({
        "sequence": sequence, "recorded_at": recorded_at, "actor": actor, "action": action,
        "subject": subject, "payload": payload_json,
    })


def event_hash(
    *, sequence: int, recorded_at: str, actor: str, action: str, subject: str,
    payload_json: str, prev_hash: str,
) -> str:
    """The hash that links an event to its predecessor."""
    return sha256_hex(prev_hash + hashed_text(
        sequence=sequence, recorded_at=recorded_at, actor=actor, action=action,
        subject=subject, payload_json=payload_json))


@dataclass(frozen=True, slots=True, kw_only=True)
class EventDraft:
    """An event as recorded, before the chain gives it a sequence, a time and a hash."""

    actor: str
    action: str
    subject: str
    payload_json: str


def draft_event(*, actor: str, action: str, subject: str,
                payload: Mapping[str, Any]) -> EventDraft:
    """Check an event's fields and fix its payload's text; ValueError if one is empty.

    A subject longer than its column (user input can make one: a refusal names what was
    asked for) is shortened to fit, keeping the sha256 of the whole, so that the event is
    recorded alike on every backend rather than refused by one of them.
    """
    for name, value in (("actor", actor), ("action", action), ("subject", subject)):
        if not value or not value.strip():
            raise ValueError(f"audit event {name} must not be empty")
    return EventDraft(actor=actor, action=action, subject=fitted_subject(subject),
                      payload_json=canonical_json(dict(payload)))


def fitted_subject(subject: str) -> str:
    if len(subject) <= SUBJECT_CHARS:
        return subject
    tail = f"... (sha256 {sha256_hex(subject)})"
    return subject[:SUBJECT_CHARS - len(tail)] + tail


def chain_event(head: ChainHead, draft: EventDraft, *, moment: datetime) -> AuditEvent:
    """The event that follows `head`, with its hash computed."""
    fields = {
        "sequence": head.sequence + 1, "recorded_at": utc_timestamp(moment),
        "actor": draft.actor, "action": draft.action, "subject": draft.subject,
        "payload_json": draft.payload_json, "prev_hash": head.hash,
    }
    return AuditEvent(**fields, hash=event_hash(**fields))  # type: ignore[arg-type]


def next_event(
    head: ChainHead, *, moment: datetime, actor: str, action: str, subject: str,
    payload: Mapping[str, Any],
) -> AuditEvent:
    """The event that follows `head`, with its hash computed."""
    draft = draft_event(actor=actor, action=action, subject=subject, payload=payload)
    return chain_event(head, draft, moment=moment)


class BreakKind(StrEnum):
    EDITED = "edited"
    DELETED = "deleted"
    REORDERED = "reordered"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainBreak:
    """The first place where the chain no longer holds."""

    sequence: int
    kind: BreakKind
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    """A (sequence, hash) the chain must still hold, kept where its writers cannot reach:
    an anchor outside the database, or a head an auditor wrote down."""

    label: str  # names it for people: "anchor 3f2a9c... (export, 2026-03-01T...)"
    sequence: int
    hash: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckpointFailure:
    """A checkpoint the chain no longer matches, or one that cannot be trusted at all."""

    label: str
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Disagreement:
    """A row beside the chain that says something its events do not."""

    table: str
    key: str  # the row, e.g. "vera" or "credit-pd@3"
    column: str
    stored: str
    derived: str  # what the events give
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainReport:
    """The outcome of re-computing the chain, and of the further checks asked for."""

    events_checked: int
    head: ChainHead
    breaks: list[ChainBreak] = field(default_factory=list)
    checkpoints_checked: int = 0
    checkpoint_failures: list[CheckpointFailure] = field(default_factory=list)
    rows_checked: int | None = None  # None: the state beside the chain was not re-derived
    disagreements: list[Disagreement] = field(default_factory=list)

    @property
    def is_intact(self) -> bool:
        return not (self.breaks or self.checkpoint_failures or self.disagreements)


def verify_chain(events: Iterable[AuditEvent], head: ChainHead) -> ChainReport:
    """Re-compute every link, in sequence order, and name the first event that breaks.

    `events` must come ordered by sequence. Checking stops at the first break: after it,
    every later link is suspect and reporting them all would bury the cause.
    """
    expected_sequence, expected_prev, checked = 1, GENESIS_HASH, 0
    last = EMPTY_HEAD
    for event in events:
        found = _first_break(event, expected_sequence, expected_prev)
        if found is not None:
            return ChainReport(events_checked=checked, head=head, breaks=[found])
        checked += 1
        last = ChainHead(sequence=event.sequence, hash=event.hash)
        expected_sequence, expected_prev = event.sequence + 1, event.hash
    if last != head:
        return ChainReport(events_checked=checked, head=head, breaks=[_tail_break(last, head)])
    return ChainReport(events_checked=checked, head=head)


def check_checkpoints(report: ChainReport, hashes: Mapping[int, str],
                      checkpoints: Iterable[Checkpoint]) -> list[CheckpointFailure]:
    """What each checkpoint finds in a chain `verify_chain` has checked.

    `hashes` holds the hash of the chain's event at each checkpoint's sequence, as read.
    An intact chain that matches a checkpoint holds every event up to it unchanged (each
    hash covers all before it); one that is shorter than a checkpoint lost its newest
    events, or was wiped with its head reset.
    """
    verified = report.events_checked  # events 1..verified passed; later ones are suspect
    failures = []
    for point in checkpoints:
        if point.sequence > verified:
            if report.breaks:
                detail = (f"records event {point.sequence}, beyond the break at event "
                          f"{report.breaks[0].sequence}: it cannot be matched")
            else:
                detail = (f"records event {point.sequence} with hash {point.hash[:16]}, but "
                          f"the chain ends at event {verified}: events after {verified} were "
                          "deleted, or the chain was wiped and begun again")
            failures.append(CheckpointFailure(label=point.label, detail=detail))
        elif hashes.get(point.sequence) != point.hash:
            found = hashes.get(point.sequence, "nothing")
            failures.append(CheckpointFailure(label=point.label, detail=(
                f"records event {point.sequence} with hash {point.hash[:16]}, but the chain's "
                f"event {point.sequence} has hash {found[:16]}: the chain up to event "
                f"{point.sequence} was rewritten and its hashes recomputed")))
    return failures


def parse_checkpoint(text: str, *, label: str) -> Checkpoint:
    """`SEQ:HASH`, as `bankml audit verify` prints a head, as a checkpoint."""
    sequence, _, digest = text.strip().partition(":")
    if not (sequence.isdigit() and len(sequence) <= 18 and HASH_PATTERN.fullmatch(digest)):
        raise InvalidInputError(label, f"{text!r} is not SEQ:HASH (a sequence number, a "
                                "colon and the event's 64 hex hash)",
                                rule="audit.checkpoint_format")
    return Checkpoint(label=label, sequence=int(sequence), hash=digest)


def _first_break(event: AuditEvent, sequence: int, prev_hash: str) -> ChainBreak | None:
    if event.sequence > sequence:
        missing = (f"event {sequence}" if event.sequence == sequence + 1
                   else f"events {sequence} to {event.sequence - 1}")
        return ChainBreak(sequence=sequence, kind=BreakKind.DELETED,
                          detail=f"{missing} missing: the chain jumps to event {event.sequence}")
    if event.sequence < sequence:
        return ChainBreak(sequence=event.sequence, kind=BreakKind.REORDERED,
                          detail=f"event {event.sequence} appears again after event "
                                 f"{sequence - 1}")
    if event.prev_hash != prev_hash:
        return ChainBreak(sequence=event.sequence, kind=BreakKind.REORDERED,
                          detail=f"event {event.sequence} does not link to event "
                                 f"{event.sequence - 1}: it was moved, or its predecessor "
                                 f"was replaced")
    recomputed = sha256_hex(event.prev_hash + event.hashed_text)
    if recomputed != event.hash:
        return ChainBreak(sequence=event.sequence, kind=BreakKind.EDITED,
                          detail=f"event {event.sequence} ({event.action} on {event.subject}) "
                                 f"was edited: its content no longer matches its hash")
    return None


def _tail_break(last: ChainHead, head: ChainHead) -> ChainBreak:
    if last.sequence < head.sequence:
        return ChainBreak(sequence=last.sequence + 1, kind=BreakKind.DELETED,
                          detail=f"the head records {head.sequence} events but the chain "
                                 f"ends at event {last.sequence}: the last events were deleted")
    return ChainBreak(sequence=last.sequence, kind=BreakKind.EDITED,
                      detail=f"the chain ends at event {last.sequence} but the head records "
                             f"event {head.sequence} with another hash: the head or the last "
                             f"event was altered")
