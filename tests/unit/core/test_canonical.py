"""Plain JSON data, canonical JSON and digests."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum

import numpy as np
import pandas as pd
import pytest

from bankml.core.canonical import (
    NonFinite,
    canonical_json,
    parse_utc_timestamp,
    plain_canonical_json,
    sha256_hex,
    to_plain,
    utc_timestamp,
)


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


class Colour(StrEnum):
    RED = "red"


@dataclass(frozen=True, kw_only=True)
class Point:
    x: float
    label: str


def test_numpy_scalars_and_arrays_become_python_values() -> None:
    """Numbers, flags and text held by numpy come out as the plain Python type."""
    plain = to_plain({"n": np.int64(3), "x": np.float32(1.5), "b": np.bool_(True),
                      "s": np.str_("a"), "a": np.array([1, 2])})

    assert plain == {"n": 3, "x": 1.5, "b": True, "s": "a", "a": [1, 2]}
    assert isinstance(plain, dict)
    assert [type(plain[k]) for k in ("n", "x", "b", "s")] == [int, float, bool, str]


@pytest.mark.parametrize(("mode", "expected"), [
    ("null", [None, None, None]), ("missing", [None, math.inf, -math.inf])])
def test_non_finite_numbers_follow_the_named_choice(mode: NonFinite,
                                                    expected: list[float | None]) -> None:
    """`null` writes NaN and infinities as None; `missing` only NaN, a missing value."""
    assert to_plain([math.nan, math.inf, -math.inf], non_finite=mode) == expected


def test_non_finite_numbers_kept_or_refused() -> None:
    """`keep` leaves NaN a float (the online codec); `refuse` raises, as canonical JSON."""
    [kept] = to_plain([np.float64("nan")], non_finite="keep")
    assert isinstance(kept, float)
    assert math.isnan(kept)
    with pytest.raises(ValueError, match="no JSON form"):
        to_plain({"x": [math.inf]}, non_finite="refuse")


def test_pandas_missing_values_are_none() -> None:
    """NA and NaT are missing values, like NaN."""
    assert to_plain([pd.NA, pd.NaT]) == [None, None]


def test_timestamps_become_canonical_utc_text() -> None:
    """Datetimes (pandas' too) are UTC text; dates ISO text; a naive time is refused."""
    paris = timezone(timedelta(hours=1))
    moment = datetime(2026, 3, 3, 10, 0, tzinfo=paris)

    assert to_plain([moment, pd.Timestamp(moment), date(2026, 3, 3)]) == [
        "2026-03-03T09:00:00.000000Z", "2026-03-03T09:00:00.000000Z", "2026-03-03"]
    with pytest.raises(ValueError, match="timezone-aware"):
        to_plain(datetime(2026, 3, 3, 10, 0))  # naive on purpose


def test_enums_tuples_keys_and_records_become_plain() -> None:
    """Enums give their value, tuples lists, keys text, frozen records their fields."""
    assert to_plain({Colour.RED: (1, Colour.RED), 2: Point(x=0.5, label="p")}) == {
        "red": [1, "red"], "2": {"x": 0.5, "label": "p"}}


def test_values_without_a_json_form_are_refused() -> None:
    """A type with no rule is an error naming it, not text that reads back differently."""
    with pytest.raises(TypeError, match="set has no JSON form"):
        to_plain({"x": {1, 2}})


def test_canonical_json_takes_numpy_values_as_plain_ones() -> None:
    """A digest over numpy values equals the digest over the same plain values."""
    assert canonical_json({"n": np.int64(3), "x": np.float64(0.1)}) == canonical_json(
        {"n": 3, "x": 0.1})


@pytest.mark.parametrize("value", [
    {"b": 1, "a": "é", "c": None, "d": True, "e": -0.0, "f": 1e-300},
    {"score": 0.1 + 0.2, "nested": {"x": 1}},  # not flat: walked
    {"when": datetime(2026, 1, 1, tzinfo=UTC)},  # not plain: converted
    {1: "a"},  # a key that is not text: made text by the walk
    {"values": {"b": 0.5, "a": None}, "found": {"v@1": True}, "codes": [{"c": "R1"}, []]},
    [{"z": 1, "y": [1.5, "t", None]}],  # plain all the way down: not walked
    {"nested": {"x": np.float64(0.25)}, "tuple": (1, 2)},  # plain at the top only: walked
])
def test_flat_records_hash_as_the_walk_would(value: dict[object, object]) -> None:
    """The shortcut for plain values (flat or nested) gives the walk's text exactly."""
    walked = json.dumps(to_plain(value), sort_keys=True, separators=(",", ":"),
                        ensure_ascii=False, allow_nan=False)

    assert canonical_json(value) == walked


def test_a_flat_record_with_a_non_finite_number_is_still_refused() -> None:
    with pytest.raises(ValueError, match="no JSON form"):
        canonical_json({"score": math.nan})


@pytest.mark.parametrize("value", [
    {"values": {"x": math.nan}}, [math.inf], {"x": np.float64(1.0)}, {"k": (1,)}, "text"])
def test_only_plain_values_with_finite_numbers_take_the_shortcut(value: object) -> None:
    """A nested non-finite number, a numpy value or a tuple goes through the walk."""
    assert plain_canonical_json(value) is None


def test_a_nested_non_finite_number_is_still_refused() -> None:
    with pytest.raises(ValueError, match="no JSON form"):
        canonical_json({"values": {"score": math.inf}})
