"""Windowed aggregates over one entity's events: the one implementation both paths run.

Offline retrieval and online serving both call `aggregate`, so a feature cannot mean one
thing in training and another in production. Sums use `math.fsum`, which is exactly
rounded and so independent of the order events arrive in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bankml.core.features import Aggregation, AggregationFunction

MICROS = 1_000_000


@dataclass(frozen=True, slots=True)
class Event:
    """One event of an entity: when it happened, when it was recorded, its column values."""

    event_us: int
    created_us: int
    values: tuple[Any, ...]


def aggregate(events: Iterable[Event], at_us: int, aggregations: Sequence[Aggregation],
              columns: Sequence[str], *, late_corrections: bool = False) -> list[Any]:
    """The aggregates at `at_us`, from events that happened, and were recorded, by then.

    `columns` names the positions of `Event.values`. With `late_corrections`, events
    recorded after `at_us` count too (what is known now about that moment).
    """
    known = [e for e in events
             if e.event_us <= at_us and (late_corrections or e.created_us <= at_us)]
    position = {name: index for index, name in enumerate(columns)}
    results: list[Any] = []
    for aggregation in aggregations:
        start_us = at_us - int(aggregation.window.total_seconds()) * MICROS
        in_window = [e for e in known if e.event_us > start_us]
        index = position[aggregation.column] if aggregation.column is not None else -1
        values = [e.values[index] for e in in_window] if index >= 0 else []
        results.append(_apply(aggregation.function, len(in_window), values))
    return results


def _apply(function: AggregationFunction, events: int, values: list[Any]) -> Any:
    if function == AggregationFunction.COUNT:
        return events
    present = [v for v in values if v is not None and not _is_nan(v)]
    if function == AggregationFunction.DISTINCT_COUNT:
        return len(set(present))
    if function == AggregationFunction.SUM:
        return math.fsum(float(v) for v in present)
    if not present:
        return None
    if function == AggregationFunction.MEAN:
        return math.fsum(float(v) for v in present) / len(present)
    return float(max(present))


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)
