"""The chain's rules, on events held in memory."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bankml.core.audit import (
    EMPTY_HEAD,
    GENESIS_HASH,
    AuditEvent,
    BreakKind,
    ChainHead,
    next_event,
    verify_chain,
)

START = datetime(2026, 3, 3, 9, 30, tzinfo=UTC)


def build_chain(length: int) -> list[AuditEvent]:
    events: list[AuditEvent] = []
    head = EMPTY_HEAD
    for index in range(length):
        event = next_event(head, moment=START + timedelta(seconds=index), actor="alice",
                           action="model.registered", subject=f"model:pd@{index + 1}",
                           payload={"index": index, "amount": 1.5})
        events.append(event)
        head = ChainHead(sequence=event.sequence, hash=event.hash)
    return events


def head_of(events: list[AuditEvent]) -> ChainHead:
    return ChainHead(sequence=events[-1].sequence, hash=events[-1].hash)


def test_hash_is_sha256_of_previous_hash_and_canonical_event() -> None:
    """An event's hash is reproducible with hashlib and json alone, as auditors will do it."""
    [event] = build_chain(1)
    body = json.dumps({"sequence": 1, "recorded_at": "2026-03-03T09:30:00.000000Z",
                       "actor": "alice", "action": "model.registered", "subject": "model:pd@1",
                       "payload": '{"amount":1.5,"index":0}'},
                      sort_keys=True, separators=(",", ":"))

    assert event.hash == hashlib.sha256((GENESIS_HASH + body).encode()).hexdigest()


def test_events_link_to_their_predecessor() -> None:
    """Each event carries the hash of the one before; the first carries the genesis hash."""
    events = build_chain(3)

    assert [e.prev_hash for e in events] == [GENESIS_HASH, events[0].hash, events[1].hash]
    assert [e.sequence for e in events] == [1, 2, 3]


def test_intact_chain_verifies() -> None:
    """An untouched chain verifies with every event checked."""
    events = build_chain(5)

    report = verify_chain(events, head_of(events))

    assert report.is_intact
    assert report.events_checked == 5


def test_empty_chain_verifies() -> None:
    """A new store, no events, verifies against the empty head."""
    assert verify_chain([], EMPTY_HEAD).is_intact


def test_edited_payload_is_named() -> None:
    """Changing one event's payload names that event as edited."""
    events = build_chain(5)
    head = head_of(events)
    events[2] = replace(events[2], payload_json='{"amount":1.5,"index":99}')

    [found] = verify_chain(events, head).breaks

    assert (found.sequence, found.kind) == (3, BreakKind.EDITED)


def test_edited_actor_is_named() -> None:
    """Changing who acted is an edit like any other."""
    events = build_chain(4)
    head = head_of(events)
    events[1] = replace(events[1], actor="mallory")

    [found] = verify_chain(events, head).breaks

    assert (found.sequence, found.kind) == (2, BreakKind.EDITED)


def test_deleted_event_is_named() -> None:
    """Removing an event from the middle names the missing sequence."""
    events = build_chain(5)
    head = head_of(events)
    del events[1]

    [found] = verify_chain(events, head).breaks

    assert (found.sequence, found.kind) == (2, BreakKind.DELETED)
    assert "event 2 missing" in found.detail


def test_deleted_tail_is_caught_by_the_head() -> None:
    """Removing the newest event leaves a valid-looking chain that the head contradicts."""
    events = build_chain(5)
    head = head_of(events)

    [found] = verify_chain(events[:-1], head).breaks

    assert (found.sequence, found.kind) == (5, BreakKind.DELETED)


def test_swapped_events_are_named() -> None:
    """Two events exchanged in sequence break the link at the first of them."""
    events = build_chain(5)
    head = head_of(events)
    third, fourth = events[2], events[3]
    events[2] = replace(fourth, sequence=3)
    events[3] = replace(third, sequence=4)

    [found] = verify_chain(events, head).breaks

    assert (found.sequence, found.kind) == (3, BreakKind.REORDERED)


def test_renumbered_event_is_caught_by_its_hash() -> None:
    """Hiding a deletion by renumbering the rest still breaks the hash of what moved."""
    events = build_chain(5)
    head = head_of(events)
    survivors = [events[0], *(replace(e, sequence=e.sequence - 1) for e in events[2:])]

    [found] = verify_chain(survivors, head).breaks

    assert found.sequence == 2


def test_rewritten_chain_contradicts_the_head() -> None:
    """Rebuilding a whole chain with new content leaves a head that no longer matches."""
    events = build_chain(3)
    forged = build_chain(2)

    [found] = verify_chain(forged, head_of(events)).breaks

    assert found.kind == BreakKind.DELETED


def test_empty_actor_is_refused() -> None:
    """Every event names who acted."""
    with pytest.raises(ValueError, match="actor must not be empty"):
        next_event(EMPTY_HEAD, moment=START, actor=" ", action="a", subject="s", payload={})


def test_naive_time_is_refused() -> None:
    """Audit times are UTC and timezone-aware."""
    with pytest.raises(ValueError, match="timezone-aware"):
        next_event(EMPTY_HEAD, moment=datetime(2026, 1, 1), actor="a", action="a",
                   subject="s", payload={})
