"""Entity keys sealed in decision records open with the installation's key alone."""

from __future__ import annotations

import base64

import pytest

from bankml.core.errors import IntegrityError
from bankml.serving.sealing import Sealer


def test_sealed_keys_open_for_their_record() -> None:
    sealer = Sealer(b"k" * 32)

    sealed = sealer.seal({"customer_id": 42}, "d1")

    assert b'"customer_id":42' not in base64.b64decode(sealed)  # (its text may hold "42")
    assert sealer.open(sealed, "d1") == {"customer_id": 42}


@pytest.mark.parametrize(("key", "decision"), [(b"x" * 32, "d1"), (b"k" * 32, "d2")])
def test_another_key_or_record_cannot_open_them(key: bytes, decision: str) -> None:
    """Moved to another record, or opened with another installation's key: refused."""
    sealed = Sealer(b"k" * 32).seal({"customer_id": 42}, "d1")

    with pytest.raises(IntegrityError, match="do not open"):
        Sealer(key).open(sealed, decision)
