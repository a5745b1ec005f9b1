"""Canonical JSON and digests."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bankml.core.canonical import canonical_json, parse_utc_timestamp, sha256_hex, utc_timestamp


def test_key_order_does_not_change_the_text() -> None:
    """Equal mappings give equal text whatever the insertion order."""
    assert canonical_json({"b": 1, "a": [1, 2]}) == canonical_json({"a": [1, 2], "b": 1})


def test_text_is_compact_and_keeps_unicode() -> None:
    """No spaces, non-ASCII kept as is, so the bytes are stable across machines."""
    assert canonical_json({"name": "Müller", "x": 1.5}) == '{"name":"Müller","x":1.5}'


def test_non_finite_numbers_are_refused() -> None:
    """NaN has no JSON form; a digest over it would mean nothing."""
    with pytest.raises(ValueError, match="no JSON form"):
        canonical_json({"score": float("nan")})


def test_sha256_matches_hashlib() -> None:
    """Our digest is plain sha256 of the UTF-8 bytes."""
    assert sha256_hex("abc") == hashlib.sha256(b"abc").hexdigest()
    assert sha256_hex("abc") == ("ba7816bf8f01cfea414140de5dae2223"
                                 "b00361a396177a9cb410ff61f20015ad")  # FIPS 180-2 example


def test_timestamps_are_converted_to_utc() -> None:
    """A time in another zone is written as the same instant in UTC."""
    paris = timezone(timedelta(hours=1))
    moment = datetime(2026, 3, 3, 10, 0, 0, 5, tzinfo=paris)

    assert utc_timestamp(moment) == "2026-03-03T09:00:00.000005Z"
    assert parse_utc_timestamp(utc_timestamp(moment)) == moment.astimezone(UTC)
