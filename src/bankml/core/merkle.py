"""Merkle roots over decision records: one audit event vouches for a whole batch.

Leaves are the records' sha256 digests in the batch's order. A level is paired up left to
right, each pair hashed as sha256(0x01 || left || right); an odd last node is carried up
unchanged; a leaf is sha256(0x00 || digest), so no leaf can pass for an inner node
(RFC 6962's domain separation). Changing, removing, adding or reordering any record
changes the root.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

LEAF, NODE = b"\x00", b"\x01"


def merkle_root(digests: Sequence[str]) -> str:
    """The root over hex `digests`; refuses an empty batch (there is nothing to vouch for)."""
    if not digests:
        raise ValueError("a batch holds at least one record")
    level = [hashlib.sha256(LEAF + bytes.fromhex(digest)).digest() for digest in digests]
    while len(level) > 1:
        paired = [hashlib.sha256(NODE + level[i] + level[i + 1]).digest()
                  for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0].hex()
