"""Entity keys sealed in a decision record: kept, but readable only with the installation's key.

A record names its customer by a keyed pseudonym. Rebuilding its features from the
offline store later (skew forensics) needs the real join keys, so they are stored sealed:
AES-256-GCM under a key derived (HKDF-SHA256) from the pseudonym key, with the decision id
as associated data, so a sealed value cannot be moved to another record. Whoever holds the
pseudonym key can already re-identify customers by hashing candidate ids; sealing adds no
new power to that key and keeps the ids out of plain sight in the log.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bankml.core.canonical import canonical_json
from bankml.core.errors import IntegrityError

NONCE_BYTES = 12
PURPOSE = b"bankml decision entity keys"


class Sealer:
    def __init__(self, pseudonym_key: bytes) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                       info=PURPOSE).derive(pseudonym_key)
        self._aead = AESGCM(derived)

    def seal(self, keys: dict[str, Any], decision_id: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, canonical_json(keys).encode(), decision_id.encode())
        return base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, sealed: str, decision_id: str) -> dict[str, Any]:
        raw = base64.b64decode(sealed)
        try:
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                       decision_id.encode())
        except Exception as exc:  # InvalidTag: another key, another record, or tampered
            raise IntegrityError(f"The sealed entity keys of decision {decision_id} do not "
                                 "open with this installation's key.",
                                 rule="decision.entity_sealed") from exc
        opened: dict[str, Any] = json.loads(plain)
        return opened
