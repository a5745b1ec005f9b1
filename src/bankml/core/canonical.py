"""Canonical JSON and sha256: the one way bankml turns a value into a stable digest."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def canonical_json(value: Any) -> str:
    """Serialise `value` so equal values always give equal text.

    Keys are sorted, separators fixed and non-finite floats refused, because a digest
    over this text must mean the same thing on every machine and in every database.
    """
    return json.dumps(
        _finite(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
        allow_nan=False,
    )


def sha256_hex(data: bytes | str) -> str:
    """The sha256 of `data` (str is encoded as UTF-8) as 64 lowercase hex digits."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def utc_timestamp(moment: datetime) -> str:
    """ISO-8601 with microseconds and a Z: sortable as text and identical across stores."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware (UTC)")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc_timestamp(text: str) -> datetime:
    """Inverse of `utc_timestamp`."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value!r} has no JSON form; use None for a missing number")
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
