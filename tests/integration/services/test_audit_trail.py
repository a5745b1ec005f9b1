"""Tampering with the stored trail is caught on SQLite and PostgreSQL alike."""

from __future__ import annotations

from itertools import pairwise

import pytest
from sqlalchemy import Connection, text

from bankml import Platform
from bankml.core.audit import BreakKind
from bankml.core.identity import Role
from support.people import unrecorded

EVENTS = 6


@pytest.fixture
def recorded(platform: Platform) -> Platform:
    unrecorded(platform, "aude", Role.AUDITOR)
    with platform.metadata.transaction() as tx:
        for index in range(1, EVENTS + 1):
            tx.audit.record("alice", "model.registered", f"model:pd@{index}", {"n": index})
    return platform


def test_untouched_trail_verifies(recorded: Platform) -> None:
    """A trail no one touched verifies in full."""
    report = recorded.audit.verify(recorded.identity.user("aude"))

    assert report.is_intact
    assert report.events_checked == EVENTS


def test_edited_row_is_named(recorded: Platform, dba: Connection) -> None:
    """Editing one row's payload in the database names that event."""
    dba.execute(text("UPDATE audit_events SET payload_json = :edited WHERE sequence = 3"),
                {"edited": '{"n":99}'})
    dba.commit()

    [found] = recorded.audit.verify(recorded.identity.user("aude")).breaks

    assert (found.sequence, found.kind) == (3, BreakKind.EDITED)


def test_deleted_row_is_named(recorded: Platform, dba: Connection) -> None:
    """Deleting one row names the missing event."""
    dba.execute(text("DELETE FROM audit_events WHERE sequence = 4"))
    dba.commit()

    [found] = recorded.audit.verify(recorded.identity.user("aude")).breaks

    assert (found.sequence, found.kind) == (4, BreakKind.DELETED)


def test_deleted_newest_row_is_named(recorded: Platform, dba: Connection) -> None:
    """Deleting the newest row is caught against the stored head."""
    dba.execute(text(f"DELETE FROM audit_events WHERE sequence = {EVENTS}"))
    dba.commit()

    [found] = recorded.audit.verify(recorded.identity.user("aude")).breaks

    assert (found.sequence, found.kind) == (EVENTS, BreakKind.DELETED)


def test_swapped_rows_are_named(recorded: Platform, dba: Connection) -> None:
    """Swapping two rows' places in the sequence names the first of them."""
    for old, new in ((2, -2), (3, 2), (-2, 3)):
        dba.execute(text(f"UPDATE audit_events SET sequence = {new} WHERE sequence = {old}"))
    dba.commit()

    [found] = recorded.audit.verify(recorded.identity.user("aude")).breaks

    assert (found.sequence, found.kind) == (2, BreakKind.REORDERED)


def test_events_keep_their_order_and_hashes_across_reads(recorded: Platform) -> None:
    """What is read back is exactly what was chained: same text, same hashes."""
    auditor = recorded.identity.user("aude")
    first, second = recorded.audit.events(auditor), recorded.audit.events(auditor)

    assert first == second
    assert [e.sequence for e in first] == list(range(1, EVENTS + 1))
    assert all(b.prev_hash == a.hash for a, b in pairwise(first))


def test_events_narrow_by_action_and_actor(recorded: Platform) -> None:
    """An exact action, an action prefix ending in a dot, and an actor each narrow the
    trail; a prefix matches only at a dot, and LIKE's wildcards are taken literally."""
    with recorded.metadata.transaction() as tx:
        tx.audit.record("bob", "model.registered_again", "model:pd@9", {})
        tx.audit.record("bob", "rollout.paused", "endpoint:pd", {})
        tx.audit.record("carol", "rollout.resumed", "endpoint:pd", {})
    audit, aude = recorded.audit, recorded.identity.user("aude")

    def actions(**narrowed: str) -> list[tuple[str, str]]:
        return [(e.actor, e.action) for e in audit.events(aude, **narrowed)]

    assert actions(action="model.registered") == [("alice", "model.registered")] * EVENTS
    assert actions(action="rollout.") == [("bob", "rollout.paused"),
                                          ("carol", "rollout.resumed")]
    assert actions(action="rollout") == []  # no dot: exact, and no action is "rollout"
    assert actions(action="%.") == []
    assert actions(actor="bob") == [("bob", "model.registered_again"),
                                    ("bob", "rollout.paused")]
    assert actions(actor="bob", action="rollout.") == [("bob", "rollout.paused")]
