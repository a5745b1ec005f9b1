"""Turning fitted models into bytes and back, without letting an artifact run code.

scikit-learn models are stored with skops, which rebuilds only types it has been told to
trust; anything outside skops' defaults and our allowlist is refused before loading.
"""

from __future__ import annotations

from typing import Any

import skops.io as sio

from bankml.core.errors import UntrustedArtifactError

SKLEARN = "sklearn-skops"

# Types beyond skops' own defaults that bankml vouches for. Empty today: every estimator
# the platform trains is trusted by skops already. A bank extends this only after review.
TRUSTED_EXTRA_TYPES: frozenset[str] = frozenset()


def dump_sklearn(model: Any) -> bytes:
    return bytes(sio.dumps(model))


def load_sklearn(content: bytes, digest: str) -> Any:
    """Rebuild a model from verified bytes; refuse it if it names an untrusted type."""
    untrusted = sorted(set(sio.get_untrusted_types(data=content)) - TRUSTED_EXTRA_TYPES)
    if untrusted:
        raise UntrustedArtifactError(digest, untrusted)
    return sio.loads(content, trusted=sorted(TRUSTED_EXTRA_TYPES) or None)
