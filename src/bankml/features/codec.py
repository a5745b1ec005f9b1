"""How entity keys and online payloads are written: the same text DuckDB's json_array makes."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bankml.core.canonical import JsonValue, to_plain
from bankml.core.errors import InvalidInputError
from bankml.core.features import Dtype, FeatureView
from bankml.core.windows import MICROS, Event


def entity_key(view: FeatureView, row: Mapping[str, Any]) -> str:
    """`[42]` or `["c-1","EUR"]`: the join key values, typed by the view's entities."""
    values = []
    for entity in view.entities:
        for key in entity.join_keys:
            if key not in row:
                raise InvalidInputError("entity", f"{dict(row)!r} lacks join key {key!r} of "
                                        f"feature view {view.name}", rule="features.join_keys")
            values.append(typed_key(entity.dtype, key, row[key]))
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False)


def typed_key(dtype: Dtype, name: str, value: Any) -> Any:
    try:
        if dtype == Dtype.INT64:
            return int(value)
        if dtype == Dtype.FLOAT64:
            return float(value)
        if dtype == Dtype.BOOL:
            return bool(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(name, f"{value!r} is not a valid {dtype} key",
                                rule="features.join_keys") from exc
    return str(value)


def epoch_us(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise InvalidInputError("time", f"{moment} has no time zone; use UTC",
                                rule="features.utc")
    return int(moment.timestamp()) * MICROS + moment.microsecond


def events_from_payload(payload: str | None) -> list[Event]:
    if payload is None:
        return []
    return [Event(item[0], item[1], tuple(item[2:])) for item in json.loads(payload)]


def events_payload(events: Sequence[Event]) -> str:
    return json.dumps([[e.event_us, e.created_us, *e.values] for e in events],
                      separators=(",", ":"), ensure_ascii=False, default=_online_form)


def latest_payload(event_us: int, values: Sequence[Any]) -> str:
    return json.dumps([event_us, *values], separators=(",", ":"), ensure_ascii=False,
                      default=_online_form)


def _online_form(value: object) -> JsonValue:
    """What json.dumps cannot write itself (numpy scalars), by the shared rules; NaN stays
    NaN, which the payload text carries and the online store gives back."""
    return to_plain(value, non_finite="keep")
