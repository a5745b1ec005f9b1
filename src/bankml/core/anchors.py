"""Anchors: the chain's head, sealed with a key the database never holds.

Someone who can write the metadata database can rewrite the chain consistently (edit an
event and recompute every later hash and the head) or wipe it and begin again; the chain
alone cannot tell. An anchor records the head's sequence and hash at a moment, sealed
with HMAC-SHA256 under a key kept outside the database, and is stored outside it too
(the artifact store, append-only). A chain that no longer holds an anchor's hash at the
anchor's sequence was rewritten or cut after the anchor was made.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from hashlib import sha256

from bankml.core.audit import ChainHead, Checkpoint
from bankml.core.canonical import canonical_json, utc_timestamp
from bankml.core.errors import IntegrityError

ANCHOR_FORMAT = "bankml-anchor/1"
KEY_BYTES = 32


class AnchorReason:
    EXPORT = "export"  # every audit export
    INTERVAL = "interval"  # at most BANKML_ANCHOR_INTERVAL_S apart, after a write
    REQUESTED = "requested"  # `bankml audit anchor`, e.g. from a scheduler


@dataclass(frozen=True, slots=True, kw_only=True)
class Anchor:
    """A sealed head, as read back from where it is kept."""

    digest: str  # sha256 of the stored object
    sequence: int
    hash: str
    anchored_at: str
    reason: str
    key_id: str

    @property
    def checkpoint(self) -> Checkpoint:
        return Checkpoint(label=f"anchor {self.digest[:12]} ({self.reason}, "
                                f"{self.anchored_at})",
                          sequence=self.sequence, hash=self.hash)


class UnreadableAnchorError(IntegrityError):
    """An anchor that cannot be trusted: not an anchor, sealed by another key, or forged."""

    rule = "audit.anchor_sealed"


def key_id(key: bytes) -> str:
    """Names a key without revealing it, so an anchor says which key sealed it."""
    return hmac.new(key, b"bankml anchor key id", sha256).hexdigest()[:16]


def seal(head: ChainHead, *, key: bytes, moment: datetime, reason: str) -> bytes:
    """The bytes of an anchor of `head`: its fields and their HMAC-SHA256 under `key`."""
    body = {"format": ANCHOR_FORMAT, "sequence": head.sequence, "hash": head.hash,
            "anchored_at": utc_timestamp(moment), "reason": reason, "key_id": key_id(key)}
    mac = hmac.new(key, canonical_json(body).encode("utf-8"), sha256).hexdigest()
    return canonical_json({"anchor": body, "hmac_sha256": mac}).encode("utf-8")


def unseal(content: bytes, *, digest: str, key: bytes) -> Anchor:
    """The anchor in `content`; UnreadableAnchorError, saying why, if it cannot be trusted."""
    try:
        sealed = json.loads(content)
        body, mac = sealed["anchor"], sealed["hmac_sha256"]
        if body["format"] != ANCHOR_FORMAT:
            raise UnreadableAnchorError(f"its format is {body['format']!r}, not "
                                        f"{ANCHOR_FORMAT}")
        anchor = Anchor(digest=digest, sequence=int(body["sequence"]), hash=str(body["hash"]),
                        anchored_at=str(body["anchored_at"]), reason=str(body["reason"]),
                        key_id=str(body["key_id"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise UnreadableAnchorError(f"it is not an anchor ({type(exc).__name__}: {exc})"
                                    ) from exc
    if anchor.key_id != key_id(key):
        raise UnreadableAnchorError(f"it was sealed with key {anchor.key_id}, and this "
                                    f"installation's anchor key is {key_id(key)}")
    expected = hmac.new(key, canonical_json(body).encode("utf-8"), sha256).hexdigest()
    if not hmac.compare_digest(expected, str(mac)):
        raise UnreadableAnchorError("its seal does not verify: it was forged or altered")
    return anchor
