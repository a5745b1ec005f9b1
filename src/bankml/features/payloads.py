"""Entity keys and online payloads: the one encoding every engine's rows are stored in.

A key is the JSON array of an entity's join key values, typed by its entities (`[42]`,
`["c-1","EUR"]`); it must be the same text whoever writes or reads it. A plain view's
payload is `[event_us, value, ...]` (the schema's columns in order), a windowed view's
`[[event_us, created_us, value, ...], ...]`; times are epoch microseconds.

Lookups and pushes encode one row at a time with `json`; materialisation encodes whole
Arrow tables with compute kernels (`keys_of`, `latest_payloads_of`, `event_payloads_of`),
because `json` takes about ten microseconds per wide row. Both give the same keys byte for
byte and payloads that decode to the same values.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from json.encoder import encode_basestring
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bankml.core.canonical import JsonValue, to_plain
from bankml.core.errors import InvalidInputError
from bankml.core.features import CREATED_TIMESTAMP, EVENT_TIMESTAMP, Dtype, FeatureView
from bankml.core.windows import MICROS, Event

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# what json.dumps escapes when ensure_ascii is off: the rest of a string is written as is
JSON_ESCAPED = r'[\x00-\x1f"\\]'
KEY_TYPES = {Dtype.INT64: pa.int64(), Dtype.FLOAT64: pa.float64(), Dtype.STRING: pa.string(),
             Dtype.BOOL: pa.bool_()}


def _online_form(value: object) -> JsonValue:
    """What json.dumps cannot write itself (numpy scalars), by the shared rules; NaN stays
    NaN, which the payload text carries and the online store gives back."""
    return to_plain(value, non_finite="keep")


_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_online_form)


def entity_key(view: FeatureView, row: Mapping[str, Any]) -> str:
    """`[42]` or `["c-1","EUR"]`: the join key values, typed by the view's entities."""
    values = []
    for entity in view.entities:
        for key in entity.join_keys:
            if key not in row:
                raise InvalidInputError("entity", f"{dict(row)!r} lacks join key {key!r} of "
                                        f"feature view {view.name}", rule="features.join_keys")
            values.append(typed_key(entity.dtype, key, row[key]))
    return _COMPACT.encode(values)


def key_function(view: FeatureView) -> Callable[[Mapping[str, Any]], str]:
    """`entity_key` for one view, prepared once: the same text, sooner for a single key.

    Lookups build a key per entity on every request; most views have one integer or
    string key, whose JSON needs no list to be built and encoded.
    """
    keys = [(entity.dtype, key) for entity in view.entities for key in entity.join_keys]
    if len(keys) != 1 or keys[0][0] not in (Dtype.INT64, Dtype.STRING):
        return partial(entity_key, view)
    dtype, name = keys[0]

    def single_key(row: Mapping[str, Any]) -> str:
        try:
            value = row[name]
            if dtype == Dtype.INT64:
                return f"[{int(value)}]"
            return f"[{encode_basestring(str(value))}]"
        except (KeyError, TypeError, ValueError, OverflowError):
            return entity_key(view, row)  # raises the error that names the problem

    return single_key


def typed_key(dtype: Dtype, name: str, value: Any) -> Any:
    try:
        if dtype == Dtype.INT64:
            return int(value)
        if dtype == Dtype.FLOAT64:
            return float(value)
        if dtype == Dtype.BOOL:
            return bool(value)
    except (TypeError, ValueError, OverflowError) as exc:  # int(inf) overflows
        raise InvalidInputError(name, f"{value!r} is not a valid {dtype} key",
                                rule="features.join_keys") from exc
    return str(value)


def epoch_us(moment: datetime) -> int:
    """Microseconds since 1970 UTC, exactly (no float on the way)."""
    if moment.tzinfo is None:
        raise InvalidInputError("time", f"{moment} has no time zone; use UTC",
                                rule="features.utc")
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * MICROS + delta.microseconds


def from_epoch_us(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def python_value(value: object) -> JsonValue:
    """A frame's cell as a plain value; NaN, NA and NaT are missing (None)."""
    return to_plain(value, non_finite="missing")


def events_from_payload(payload: str | None) -> list[Event]:
    if payload is None:
        return []
    return [Event(item[0], item[1], tuple(item[2:])) for item in json.loads(payload)]


def events_payload(events: Sequence[Event]) -> str:
    return _COMPACT.encode([[e.event_us, e.created_us, *e.values] for e in events])


def latest_payload(event_us: int, values: Sequence[Any]) -> str:
    return _COMPACT.encode([event_us, *values])


# -- whole tables --------------------------------------------------------------------------


def keys_of(view: FeatureView, table: pa.Table) -> list[str]:
    """The entity key of each row of `table`, the text `entity_key` gives for that row."""
    return _key_array(view, table).to_pylist()  # type: ignore[no-any-return]


def latest_payloads_of(view: FeatureView, table: pa.Table) -> list[str]:
    """`[event_us, value, ...]` of each row of a table of `latest_rows`."""
    parts = [_epoch_us_texts(table.column(EVENT_TIMESTAMP)),
             *(_value_texts(table.column(f.name)) for f in view.schema)]
    return _json_arrays(parts).to_pylist()  # type: ignore[no-any-return]


def event_payloads_of(view: FeatureView, tables: Iterator[pa.Table],
                      ) -> Iterator[list[tuple[str, str]]]:
    """(key, events payload) per entity from tables of `recent_events`, one list per table.

    An entity's events are consecutive, so each run of one key becomes one payload; a
    run may go on into the next table, so the last entity of a table waits for it.
    """
    pending: tuple[str, str] | None = None  # the last key and its events, joined by ","
    for table in tables:
        if not table.num_rows:
            continue
        keys = _contiguous(_key_array(view, table))
        events = _contiguous(_json_arrays([
            _epoch_us_texts(table.column(EVENT_TIMESTAMP)),
            _epoch_us_texts(table.column(CREATED_TIMESTAMP)),
            *(_value_texts(table.column(f.name)) for f in view.schema)]))
        changes = pc.indices_nonzero(pc.not_equal(keys.slice(1), keys.slice(0, len(keys) - 1)))
        starts = np.concatenate([[0], changes.to_numpy() + 1]).astype(np.int64)
        offsets = pa.array(np.append(starts, len(keys)), pa.int32())
        runs = pc.binary_join(pa.ListArray.from_arrays(offsets, events), ",").to_pylist()
        run_keys = keys.take(pa.array(starts)).to_pylist()
        done: list[tuple[str, str]] = []
        if pending is not None:
            if run_keys[0] == pending[0]:
                runs[0] = pending[1] + "," + runs[0]
            else:
                done.append((pending[0], f"[{pending[1]}]"))
        done += [(key, f"[{run}]") for key, run in zip(run_keys[:-1], runs[:-1], strict=True)]
        pending = (run_keys[-1], runs[-1])
        if done:
            yield done
    if pending is not None:
        yield [(pending[0], f"[{pending[1]}]")]


def _json_arrays(parts: Sequence[pa.ChunkedArray | pa.Array]) -> pa.ChunkedArray | pa.Array:
    """`[a,b,...]` per row from columns of JSON texts."""
    inner = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, ",")
    return pc.binary_join_element_wise("[", inner, "]", "")


def _key_array(view: FeatureView, table: pa.Table) -> pa.ChunkedArray | pa.Array:
    parts = [_key_texts(entity.dtype, key, table.column(key))
             for entity in view.entities for key in entity.join_keys]
    return _json_arrays(parts)


def _key_texts(dtype: Dtype, name: str,
               column: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """JSON of each key value as `typed_key` makes it; null stays null."""
    typed = column.type == KEY_TYPES[dtype] or (
        dtype == Dtype.STRING and pa.types.is_large_string(column.type))
    if typed and dtype != Dtype.FLOAT64:  # json writes floats its own way; keys must match
        return _value_texts(column)
    texts = ["null" if value is None else _COMPACT.encode(typed_key(dtype, name, value))
             for value in column.to_pylist()]
    return pa.array(texts, pa.string())


def _epoch_us_texts(column: pa.ChunkedArray) -> pa.ChunkedArray:
    micros = pc.cast(column, pa.timestamp("us", tz="UTC"), safe=False)
    return pc.fill_null(pc.cast(pc.cast(micros, pa.int64()), pa.string()), "null")


def _value_texts(column: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """JSON of each value: what `json` writes, up to how a float's digits are spelt."""
    kind = column.type
    if pa.types.is_floating(kind):
        return _float_texts(pc.cast(column, pa.float64()))
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _string_texts(pc.cast(column, pa.string()))
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind):  # bool casts to true/false
        return pc.fill_null(pc.cast(column, pa.string()), "null")
    raise InvalidInputError("column", f"{kind} has no online form", rule="features.dtype")


def _float_texts(column: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """Shortest round-trip digits, as `repr`; a whole number keeps its `.0` to stay a float."""
    texts = pc.cast(column, pa.string())
    whole = pc.and_(pc.is_finite(column), pc.equal(column, pc.floor(column)))
    if pc.any(whole).as_py():
        lacks_point = pc.and_(whole, pc.invert(pc.match_substring(texts, "e")))
        texts = pc.if_else(lacks_point, pc.binary_join_element_wise(texts, ".0", ""), texts)
    odd = pc.invert(pc.is_finite(column))  # nan and infinities; null stays null
    if pc.any(odd).as_py():
        spelt = pc.if_else(pc.is_nan(column), "NaN",
                           pc.if_else(pc.greater(column, 0), "Infinity", "-Infinity"))
        texts = pc.if_else(odd, spelt, texts)
    return pc.fill_null(texts, "null")


def _string_texts(column: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """Quoted; a string json would escape is written by json, the rest as they are."""
    quoted = pc.binary_join_element_wise('"', column, '"', "")
    escaped = pc.fill_null(pc.match_substring_regex(column, JSON_ESCAPED), False)
    if pc.any(escaped).as_py():
        quoted, escaped = _contiguous(quoted), _contiguous(escaped)
        values = pc.filter(column, escaped).to_pylist()
        quoted = pc.replace_with_mask(quoted, escaped,
                                      pa.array([_COMPACT.encode(v) for v in values],
                                               pa.string()))
    return pc.fill_null(quoted, "null")


def _contiguous(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
