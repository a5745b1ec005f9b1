"""Exporting the trail for auditors: every event with the exact text its hash covers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from bankml.core.audit import AuditEvent
from bankml.core.ports import MetadataStore

FORMAT = "bankml-audit-export/1"


def export_lines(metadata: MetadataStore, *, since: datetime | None,
                 until: datetime | None, anchor: str | None = None) -> Iterator[str]:
    """JSON lines: a header, then one line per event in sequence order.

    Each event line carries `hashed_text`, so that `hash == sha256(prev_hash + hashed_text)`
    can be checked with any sha256 tool, and `prev_hash` links it to the line before.
    `anchor` is the digest of the anchor made for this export (`bankml audit verify
    --anchors` checks the chain against it later).
    """
    with metadata.reading() as tx:
        head = tx.audit.head()
        yield json.dumps({"format": FORMAT, "head_sequence": head.sequence,
                          "head_hash": head.hash, "anchor": anchor,
                          "since": since.isoformat() if since else None,
                          "until": until.isoformat() if until else None})
        for event in tx.audit.events(since=since, until=until):
            yield json.dumps(_line(event), ensure_ascii=False)


def _line(event: AuditEvent) -> dict[str, Any]:
    return {"sequence": event.sequence, "recorded_at": event.recorded_at,
            "actor": event.actor, "action": event.action, "subject": event.subject,
            "payload": event.payload, "prev_hash": event.prev_hash, "hash": event.hash,
            "hashed_text": event.hashed_text}
