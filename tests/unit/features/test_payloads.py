"""Whole-table encoding agrees with the row-at-a-time encoding lookups and pushes use."""

from __future__ import annotations

import itertools
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bankml.core.errors import InvalidInputError
from bankml.core.features import (
    CREATED_TIMESTAMP,
    EVENT_TIMESTAMP,
    Aggregation,
    AggregationFunction,
    Dtype,
    Entity,
    FeatureView,
    Field,
    FileSource,
)
from bankml.core.windows import Event
from bankml.features.payloads import (
    entity_key,
    epoch_us,
    event_payloads_of,
    events_from_payload,
    key_function,
    keys_of,
    latest_payload,
    latest_payloads_of,
)

BASE_US = 1_700_000_000_000_000
ARROW = {Dtype.INT64: pa.int64(), Dtype.FLOAT64: pa.float64(), Dtype.STRING: pa.string(),
         Dtype.BOOL: pa.bool_()}
VALUES = {
    Dtype.INT64: st.integers(-(2**63), 2**63 - 1),
    Dtype.FLOAT64: st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0.0, -0.0, 1.0, 100.0, 1e16, 1e21, 1e22, 5e-324, 1e-7, 2.0**53]),
    Dtype.STRING: st.text(),
    Dtype.BOOL: st.booleans(),
}


def view_of(key_dtype: Dtype, dtypes: list[Dtype], *, windowed: bool = False) -> FeatureView:
    schema = tuple(Field(name=f"c{i}", dtype=d) for i, d in enumerate(dtypes))
    return FeatureView(
        name="v", entities=(Entity(name="e", join_keys=("k",), dtype=key_dtype),),
        source=FileSource(path="unused.parquet"), schema=schema,
        aggregations=(Aggregation(function=AggregationFunction.COUNT,
                                  window=timedelta(days=1)),) if windowed else ())


@st.composite
def tables(draw: st.DrawFn) -> tuple[FeatureView, list[dict[str, Any]]]:
    key_dtype = draw(st.sampled_from(list(Dtype)))
    dtypes = draw(st.lists(st.sampled_from(list(Dtype)), min_size=0, max_size=5))
    count = draw(st.integers(1, 8))
    rows = []
    for _ in range(count):
        row: dict[str, Any] = {"k": draw(VALUES[key_dtype]),
                               "t": draw(st.integers(0, 10**12)) + BASE_US}
        for i, dtype in enumerate(dtypes):
            row[f"c{i}"] = draw(st.none() | VALUES[dtype])
        rows.append(row)
    return view_of(key_dtype, dtypes), rows


def arrow(view: FeatureView, rows: list[dict[str, Any]]) -> pa.Table:
    micros = pa.timestamp("us", tz="UTC")
    columns = {"k": pa.array([r["k"] for r in rows], ARROW[view.entities[0].dtype]),
               EVENT_TIMESTAMP: pa.array([r["t"] for r in rows], pa.int64()).cast(micros),
               CREATED_TIMESTAMP: pa.array([r["t"] + 1 for r in rows],
                                           pa.int64()).cast(micros)}
    for field in view.schema:
        columns[field.name] = pa.array([r[field.name] for r in rows], ARROW[field.dtype])
    return pa.table(columns)


def same(left: Any, right: Any) -> bool:
    """Equal values of equal types; NaN equals NaN."""
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right,
                                                                         strict=True))
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)
    return type(left) is type(right) and left == right and (
        not isinstance(left, float) or math.copysign(1, left) == math.copysign(1, right))


@settings(max_examples=300, deadline=None)
@given(example=tables())
def test_table_keys_are_the_lookup_keys(example: tuple[FeatureView, list[dict[str, Any]]]
                                        ) -> None:
    """The key materialisation writes is byte for byte the key a lookup asks for."""
    view, rows = example

    assert keys_of(view, arrow(view, rows)) == [entity_key(view, row) for row in rows]


@settings(max_examples=300, deadline=None)
@given(example=tables())
def test_table_payloads_decode_as_row_payloads(
        example: tuple[FeatureView, list[dict[str, Any]]]) -> None:
    """Each payload decodes to the values, of the same types, that a pushed row's does."""
    view, rows = example
    names = [f.name for f in view.schema]

    encoded = latest_payloads_of(view, arrow(view, rows))

    expected = [json.loads(latest_payload(r["t"], [r[n] for n in names])) for r in rows]
    assert all(same(json.loads(text), want) for text, want in zip(encoded, expected,
                                                                  strict=True))


def test_whole_floats_stay_floats() -> None:
    """100.0 is written so that it reads back as a float, not the integer 100."""
    view = view_of(Dtype.INT64, [Dtype.FLOAT64])
    rows = [{"k": 1, "t": BASE_US, "c0": 100.0}, {"k": 2, "t": BASE_US, "c0": 1e22}]

    decoded = [json.loads(p) for p in latest_payloads_of(view, arrow(view, rows))]

    assert [type(d[1]) for d in decoded] == [float, float]


@pytest.mark.parametrize("cuts", [(), (1,), (2,), (3,), (5,), (1, 2, 3, 4, 5), (2, 2, 5)])
def test_events_of_one_entity_join_across_tables(cuts: tuple[int, ...]) -> None:
    """However the events are cut into tables, each entity gets one payload of them all."""
    view = view_of(Dtype.STRING, [Dtype.FLOAT64], windowed=True)
    rows = [{"k": key, "t": BASE_US + i, "c0": float(i)}
            for i, key in enumerate(["a", "a", "b", "b", "b", "c"])]
    table = arrow(view, rows)
    bounds = [0, *cuts, len(rows)]

    batches = list(event_payloads_of(view, iter(
        [table.slice(start, end - start) for start, end in itertools.pairwise(bounds)])))

    pairs = [pair for batch in batches for pair in batch]
    assert [key for key, _ in pairs] == ['["a"]', '["b"]', '["c"]']
    assert [events_from_payload(payload) for _, payload in pairs] == [
        [Event(BASE_US + i, BASE_US + i + 1, (float(i),)) for i in indexes]
        for indexes in ((0, 1), (2, 3, 4), (5,))]


def test_string_keys_with_quotes_and_controls_match() -> None:
    """Keys json must escape (quotes, backslashes, control characters) still match."""
    view = view_of(Dtype.STRING, [])
    rows = [{"k": k, "t": BASE_US} for k in ['say "hi"', "back\\slash", "tab\tnew\nline",
                                             "ünïcödé", "\u2028", ""]]

    assert keys_of(view, arrow(view, rows)) == [entity_key(view, r) for r in rows]


@pytest.mark.parametrize("moment", [datetime(1970, 1, 1, tzinfo=UTC),
                                    datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC),
                                    datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC)])
def test_epoch_microseconds_are_exact(moment: datetime) -> None:
    """Times convert to microseconds without passing through a float."""
    assert epoch_us(moment) == (moment - datetime(1970, 1, 1, tzinfo=UTC)) \
        // timedelta(microseconds=1)


@settings(max_examples=300, deadline=None)
@given(dtype=st.sampled_from(list(Dtype)),
       value=st.integers(-(2**70), 2**70) | st.floats() | st.text() | st.booleans()
       | st.none() | st.sampled_from(["42", " 7 ", "x", "1e3", math.inf, math.nan]))
def test_prepared_key_is_the_entity_key(dtype: Dtype, value: Any) -> None:
    """A view's prepared key function gives entity_key's text, or raises its error."""
    view = view_of(dtype, [])
    try:
        expected: str | type[Exception] = entity_key(view, {"k": value})
    except InvalidInputError:
        expected = InvalidInputError

    if expected is InvalidInputError:
        with pytest.raises(InvalidInputError, match="not a valid"):
            key_function(view)({"k": value})
    else:
        assert key_function(view)({"k": value}) == expected


def test_prepared_key_names_a_missing_join_key() -> None:
    """A row without the join key gets the error naming the key, not a KeyError."""
    with pytest.raises(InvalidInputError, match="lacks join key 'k'"):
        key_function(view_of(Dtype.INT64, []))({"other": 1})


@pytest.mark.parametrize("value", [math.inf, math.nan, "x"])
def test_a_key_that_is_no_integer_is_named(value: object) -> None:
    """An integer key given infinity, NaN or text is refused with the value named."""
    with pytest.raises(InvalidInputError, match="is not a valid int64 key"):
        entity_key(view_of(Dtype.INT64, []), {"k": value})
