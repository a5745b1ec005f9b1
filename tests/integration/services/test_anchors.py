"""Anchors outside the database catch what the chain alone cannot: a tail cut with the head
moved, a rewrite with every hash recomputed, a wipe; on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import Connection

from bankml import Platform
from bankml.audit.anchors import Anchoring
from bankml.core.anchors import AnchorReason, seal
from bankml.core.audit import parse_checkpoint
from bankml.core.canonical import parse_utc_timestamp
from bankml.core.errors import InvalidInputError
from bankml.core.identity import Principal, Role
from support import tampering
from support.people import unrecorded
from support.trail import audit_events

EVENTS = 6


@pytest.fixture
def auditor(platform: Platform) -> Principal:
    aude = unrecorded(platform, "aude", Role.AUDITOR)
    with platform.metadata.transaction() as tx:
        for index in range(1, EVENTS + 1):
            tx.audit.record("alice", "model.registered", f"model:pd@{index}", {"n": index})
    return aude


def _anchor(platform: Platform) -> str:
    made = platform.audit.anchoring.anchor_head(AnchorReason.REQUESTED)
    assert made is not None
    return made.digest


def test_an_untouched_chain_matches_its_anchors(platform: Platform, auditor: Principal) -> None:
    """Every anchor matches a chain no one touched; the anchors' own events do not break it."""
    _anchor(platform)
    _anchor(platform)

    report = platform.audit.verify(auditor, anchors=True)

    assert report.is_intact
    assert report.checkpoints_checked == 2
    assert [e.action for e in audit_events(platform)][-2:] == ["audit.anchored"] * 2


@pytest.mark.parametrize("keep", [4, 0], ids=["tail-cut", "wiped"])
def test_a_cut_chain_with_its_head_moved_fails_its_anchor(
        platform: Platform, auditor: Principal, dba: Connection, keep: int) -> None:
    """Deleting the newest events (or all) and moving the head back verifies as a chain, but
    the anchor names what is missing."""
    digest = _anchor(platform)
    tampering.cut(dba, keep)

    assert platform.audit.verify(auditor).is_intact  # the chain alone cannot tell
    [failure] = platform.audit.verify(auditor, anchors=True).checkpoint_failures

    assert failure.label.startswith(f"anchor {digest[:12]} (requested, ")
    assert f"records event {EVENTS} " in failure.detail
    assert f"the chain ends at event {keep}: events after {keep} were deleted" in failure.detail


def test_a_rewritten_chain_fails_the_anchors_after_the_rewrite(
        platform: Platform, auditor: Principal, dba: Connection) -> None:
    """An event edited with every later hash and the head recomputed fails each anchor made
    after it, and only those: the anchors bracket when the rewrite reaches back to."""
    with platform.metadata.reading() as tx:
        before = tx.audit.head()
    early = _anchor(platform)  # event 6 (head), then its record is event 7
    tampering.rewrite(dba, 5, '{"n":99}')
    assert platform.audit.verify(auditor).is_intact  # the chain alone cannot tell

    report = platform.audit.verify(auditor, anchors=True)

    assert report.breaks == []
    [failure] = report.checkpoint_failures
    assert failure.label.startswith(f"anchor {early[:12]}")
    assert f"records event 6 with hash {before.hash[:16]}" in failure.detail
    assert "rewritten and its hashes recomputed" in failure.detail


def test_an_anchor_before_the_rewrite_still_matches(platform: Platform, auditor: Principal,
                                                    dba: Connection) -> None:
    """An anchor of event 6 still holds after events 8 and later are rewritten."""
    _anchor(platform)  # of event 6; its record is event 7
    with platform.metadata.transaction() as tx:
        tx.audit.record("alice", "model.registered", "model:pd@7", {"n": 7})
    tampering.rewrite(dba, 8, '{"n":0}')

    report = platform.audit.verify(auditor, anchors=True)

    assert report.is_intact
    assert report.checkpoints_checked == 1


def test_an_anchor_under_another_key_is_not_trusted(platform: Platform,
                                                    auditor: Principal) -> None:
    """An anchor sealed with any key but the installation's is named and fails verification,
    so one cannot be forged to match a rewritten chain."""
    with platform.metadata.reading() as tx:
        head = tx.audit.head()
    forged = seal(head, key=b"k" * 32, moment=parse_utc_timestamp("2026-01-01T00:00:00.000000Z"),
                  reason=AnchorReason.REQUESTED)
    digest = platform.artifacts.add_anchor(head.sequence, forged)

    [failure] = platform.audit.verify(auditor, anchors=True).checkpoint_failures

    assert failure.label == f"anchor {digest[:12]}"
    assert "sealed with key" in failure.detail


def test_an_expected_head_catches_a_rewrite(platform: Platform, auditor: Principal,
                                            dba: Connection) -> None:
    """A head written down earlier (SEQ:HASH) no longer matches once the chain is rewritten,
    even with no anchor at all."""
    with platform.metadata.reading() as tx:
        head = tx.audit.head()
    expected = parse_checkpoint(f"{head.sequence}:{head.hash}", label="expected head")
    tampering.rewrite(dba, 2, '{"n":0}')

    [failure] = platform.audit.verify(auditor, expect=[expected]).checkpoint_failures

    assert failure.label == "expected head"


def test_a_malformed_expected_head_is_named() -> None:
    """`--expect-head` takes SEQ:HASH and names the option otherwise."""
    with pytest.raises(InvalidInputError, match="--expect-head: '6:abc' is not SEQ:HASH") as caught:
        parse_checkpoint("6:abc", label="--expect-head")

    assert caught.value.rule == "audit.checkpoint_format"


def test_every_export_is_anchored(platform: Platform, auditor: Principal) -> None:
    """An export anchors the head (its header names the anchor), which verifies."""
    header = json.loads(next(iter(platform.audit.export(auditor))))

    assert header["anchor"] in platform.artifacts.anchor_digests()
    assert platform.audit.verify(auditor, anchors=True).checkpoints_checked == 1


def test_anchors_follow_writes_at_the_interval(platform: Platform, auditor: Principal) -> None:
    """After a write, an anchor is made once the interval since the first event has passed,
    and not before."""
    first = parse_utc_timestamp(audit_events(platform)[0].recorded_at)
    moments = iter([first + timedelta(seconds=30), first + timedelta(seconds=61)])
    now = [first]
    anchoring = Anchoring(platform.metadata, platform.artifacts, platform.artifacts,
                          b"a" * 32, interval_s=60, clock=lambda: now[0])

    now[0] = next(moments)
    anchoring.anchor_if_due()
    assert platform.artifacts.anchor_digests() == []
    now[0] = next(moments)
    anchoring.anchor_if_due()

    [digest] = platform.artifacts.anchor_digests()
    [event] = audit_events(platform, subject="audit:anchors")
    anchored = audit_events(platform)[EVENTS - 1]
    assert event.payload == {"anchor": digest, "sequence": EVENTS, "hash": anchored.hash,
                             "reason": "interval"}


