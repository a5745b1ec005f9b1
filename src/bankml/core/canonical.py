"""Plain JSON data, canonical JSON and sha256: the one way bankml turns a value into JSON.

`to_plain` holds the rules every writer of JSON follows (numpy scalars unwrapped, enums
as their value, timestamps as canonical UTC text, missing and non-finite numbers by a
named choice); `canonical_json` is its strict form, whose text a digest is taken over.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime
from enum import Enum
from typing import Literal, TypeAlias, cast, overload

# What JSON can hold, as Python values.
JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"
JsonObject: TypeAlias = "dict[str, JsonValue]"

# What becomes of NaN (and pandas' NA and NaT) and of +/-inf:
#   "null"    both become None: a JSON document (validation results, views);
#   "missing" NaN becomes None, the missing value pandas reads back as NaN, while +/-inf is
#             kept, so canonical JSON refuses it instead of recording another value
#             (decision inputs, feature values);
#   "keep"    both stay floats (the online codec, whose text carries NaN);
#   "refuse"  ValueError: a digest over them would mean nothing (canonical JSON).
NonFinite = Literal["null", "missing", "keep", "refuse"]


@overload
def to_plain(value: float, *, non_finite: NonFinite = "null") -> float | None: ...


@overload
def to_plain(value: Mapping[str, object], *, non_finite: NonFinite = "null") -> JsonObject: ...


@overload
def to_plain(value: object, *, non_finite: NonFinite = "null") -> JsonValue: ...


def to_plain(value: object, *, non_finite: NonFinite = "null") -> JsonValue:
    """`value` as plain JSON data: dicts with text keys, lists, text, numbers, bools, None.

    Mappings become dicts (keys as text), lists and tuples lists, frozen records
    (dataclasses) dicts of their fields; numpy scalars and arrays the Python values they
    hold; enums their value; datetimes canonical UTC text (`utc_timestamp`, so naive ones
    are refused) and dates ISO text. Missing and non-finite numbers follow `non_finite`
    (see `NonFinite`). Anything else raises TypeError naming its type.
    """
    return _plain(value, non_finite)


def canonical_json(value: object) -> str:
    """Serialise `value` so equal values always give equal text.

    Keys are sorted, separators fixed and non-finite floats refused, because a digest
    over this text must mean the same thing on every machine and in every database.
    """
    text = plain_canonical_json(value)
    return _CANONICAL.encode(_plain(value, "refuse")) if text is None else text


def plain_canonical_json(value: object) -> str | None:
    """`canonical_json(value)` if `value` is its own plain form (dicts of text keys and
    lists, down to exact plain scalars) holding only finite numbers; else None.

    Such a value is what `to_plain` would return for it under any `non_finite`, so its
    text is also `canonical_json(to_plain(value, ...))`: decision records, their inputs,
    feature values and reasons, and audit payloads, written by the thousand, skip the walk.
    """
    if not _is_plain(value):
        return None
    try:
        return _CANONICAL.encode(value)
    except ValueError:  # a non-finite float (the encoder refuses it itself)
        return None


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              allow_nan=False)


_FLAT_TYPES = frozenset({str, int, float, bool, type(None)})
_CONTAINERS = frozenset({dict, list})
_PLAIN_TYPES = _FLAT_TYPES | _CONTAINERS
_TEXT = frozenset({str})


def _is_plain(value: object) -> bool:
    """A dict of text keys or a list, whose items are exact plain scalars or such dicts
    and lists. Type checks by set, so the loops run in C; only containers are visited."""
    kind = type(value)
    if kind is dict:
        mapping = cast(dict[object, object], value)
        if not _TEXT.issuperset(map(type, mapping)):
            return False
        items: Collection[object] = mapping.values()
    elif kind is list:
        items = cast(list[object], value)
    else:
        return False
    kinds = set(map(type, items))
    if _FLAT_TYPES.issuperset(kinds):
        return True
    return _PLAIN_TYPES.issuperset(kinds) and all(
        _is_plain(item) for item in items if type(item) in _CONTAINERS)


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


def _plain(value: object, non_finite: NonFinite) -> JsonValue:
    kind = type(value)
    # The exact plain types first, and without ABC checks: digests of audit events and
    # decisions run through here.
    if kind is str or kind is int or kind is bool or value is None:
        return cast(JsonValue, value)
    if kind is float:
        return _number(cast(float, value), non_finite)
    if kind is dict or isinstance(value, Mapping):
        return {str(key): _plain(item, non_finite)
                for key, item in cast(Mapping[object, object], value).items()}
    if kind is list or kind is tuple or isinstance(value, list | tuple):
        return [_plain(item, non_finite) for item in cast(list[object], value)]
    if kind.__module__ == "numpy" and hasattr(value, "tolist"):  # scalars and arrays
        return _plain(value.tolist(), non_finite)
    return _scalar(value, non_finite)


def _scalar(value: object, non_finite: NonFinite) -> JsonValue:
    """Values that are not exactly a plain type: enums, pandas' missing values, times,
    subclasses of the plain types, frozen records."""
    if isinstance(value, float):
        return _number(float(value), non_finite)
    if isinstance(value, Enum):
        return _plain(value.value, non_finite)
    kind = type(value)
    if kind.__name__ in ("NAType", "NaTType") and kind.__module__.startswith("pandas"):
        return _number(math.nan, non_finite)  # missing, like NaN; NaT is also a datetime
    if isinstance(value, date):
        return utc_timestamp(value) if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, int | str):  # a subclass without a rule of its own
        return int(value) if isinstance(value, int) else str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {item.name: _plain(getattr(value, item.name), non_finite)
                for item in dataclasses.fields(value)}
    raise TypeError(f"{kind.__name__} has no JSON form: give numbers, text, bools, None, "
                    "timestamps, lists, mappings or frozen records")


def _number(value: float, non_finite: NonFinite) -> float | None:
    if math.isfinite(value) or non_finite == "keep":
        return value
    if non_finite == "refuse":
        raise ValueError(f"{value!r} has no JSON form; use None for a missing number")
    if non_finite == "missing" and not math.isnan(value):
        return value
    return None
