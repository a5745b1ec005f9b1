"""Anchoring the chain's head outside the database: on every export, at an interval after
writes, and when asked; and reading the anchors back as checkpoints for verification."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bankml.access import require, summarise_refusals
from bankml.core.anchors import Anchor, AnchorReason, UnreadableAnchorError, seal, unseal
from bankml.core.audit import Checkpoint, CheckpointFailure
from bankml.core.canonical import parse_utc_timestamp
from bankml.core.errors import BankmlError
from bankml.core.identity import SYSTEM, Permission, Principal
from bankml.core.ports import AnchorStore, ArtifactStore, MetadataStore
from bankml.core.refusals import window_of

ANCHORS = "audit:anchors"  # the subject of every audit.anchored event
RETRY_S = 60.0  # after a failed interval anchor, try again at a later write
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredAnchors:
    """The anchors that could be read and trusted, and those that could not, with why."""

    checkpoints: list[Checkpoint]
    unreadable: list[CheckpointFailure]


class Anchoring:
    def __init__(self, metadata: MetadataStore, artifacts: ArtifactStore,
                 anchors: AnchorStore, key: bytes, *, interval_s: float,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._metadata, self._artifacts, self._anchors = metadata, artifacts, anchors
        self._key, self._interval_s, self._clock = key, interval_s, clock
        self._due_at: datetime | None = None
        self._busy = threading.Lock()  # one interval anchor at a time per process

    def anchor(self, by: Principal) -> Anchor | None:
        """Anchor the head now (auditor, model_risk or admin); None if the chain is empty."""
        require(self._metadata, by, Permission.AUDIT_EXPORT, ANCHORS)
        return self.anchor_head(AnchorReason.REQUESTED, actor=by.name)

    def anchor_head(self, reason: str, *, actor: str = SYSTEM.name) -> Anchor | None:
        """Seal the head, store it outside the database, and record that it was anchored.

        The event that records the anchor comes after the anchored head: an anchor never
        covers its own record, which the next anchor does.
        """
        with self._metadata.reading() as tx:
            head = tx.audit.head()
        if head.sequence == 0:
            return None
        moment = self._clock()
        content = seal(head, key=self._key, moment=moment, reason=reason)
        digest = self._anchors.add_anchor(head.sequence, content)
        with self._metadata.transaction() as tx:
            summarise_refusals(tx, window_of(moment))  # counts of closed minutes go in too
            tx.audit.record(actor, "audit.anchored", ANCHORS, {
                "anchor": digest, "sequence": head.sequence, "hash": head.hash,
                "reason": reason})
        self._due_at = moment + timedelta(seconds=self._interval_s)
        return unseal(content, digest=digest, key=self._key)

    def anchor_if_due(self) -> None:
        """After a write: anchor when the last anchor (or, before any, the first event) is
        `interval_s` old. A failure is logged and retried a minute later: the write it
        follows has committed and stays."""
        if self._interval_s <= 0 or not self._busy.acquire(blocking=False):
            return  # off, or this process is anchoring (its own event lands here too)
        try:
            now = self._clock()
            if self._due_at is None:
                self._due_at = self._first_due(now)
            if now >= self._due_at:
                self.anchor_head(AnchorReason.INTERVAL)
        except (BankmlError, OSError) as error:  # a store down, a folder unwritable
            self._due_at = self._clock() + timedelta(seconds=RETRY_S)
            log.warning("The audit chain could not be anchored (%s); retrying later.", error)
        finally:
            self._busy.release()

    def stored(self) -> StoredAnchors:
        """Every anchor in the index, verified: its bytes against its digest, its seal
        against this installation's key."""
        checkpoints, unreadable = [], []
        for digest in self._anchors.anchor_digests():
            try:
                anchor = unseal(self._artifacts.get(digest), digest=digest, key=self._key)
            except (UnreadableAnchorError, BankmlError) as error:
                unreadable.append(CheckpointFailure(label=f"anchor {digest[:12]}",
                                                    detail=f"cannot be trusted: {error}"))
                continue
            checkpoints.append(anchor.checkpoint)
        return StoredAnchors(checkpoints=checkpoints, unreadable=unreadable)

    def _first_due(self, now: datetime) -> datetime:
        with self._metadata.reading() as tx:
            found = (list(tx.audit.events(subject=ANCHORS, limit=1, newest_first=True))
                     or list(tx.audit.events(limit=1)))
        since = parse_utc_timestamp(found[0].recorded_at) if found else now
        return since + timedelta(seconds=self._interval_s)
