"""Feature definitions, references and windowed aggregation, pure."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from bankml.core.errors import InvalidInputError
from bankml.core.features import (
    Aggregation,
    AggregationFunction,
    definition_digest,
    parse_feature_ref,
    window_label,
)
from bankml.core.windows import MICROS, Event, aggregate


@pytest.mark.parametrize(("window", "label"), [
    (timedelta(hours=1), "1h"), (timedelta(hours=24), "24h"), (timedelta(days=7), "7d"),
    (timedelta(days=90), "90d"), (timedelta(minutes=90), "90m")])
def test_window_labels_read_as_people_say_them(window: timedelta, label: str) -> None:
    """1h, 24h, 7d, 90d: the names risk teams use."""
    assert window_label(window) == label


def test_pinned_reference_parses() -> None:
    """`balances@3:utilisation` names view, version and feature."""
    ref = parse_feature_ref("balances@3:utilisation")

    assert (ref.view, ref.number, ref.feature) == ("balances", 3, "utilisation")


@pytest.mark.parametrize("text", ["balances", "balances@x:f", "balances@0:f", ":f"])
def test_malformed_reference_is_refused(text: str) -> None:
    """A reference without a feature or with a bad version is an error naming it."""
    with pytest.raises(InvalidInputError, match="feature reference|version after @"):
        parse_feature_ref(text)


def test_digest_ignores_key_order() -> None:
    """The same spec gives the same digest whatever order its keys come in."""
    assert definition_digest({"a": 1, "b": [1, 2]}) == definition_digest({"b": [1, 2], "a": 1})


def test_window_holds_recent_known_events() -> None:
    """Events in (t - w, t] recorded by t count; older, future and late ones do not."""
    hour = 3_600 * MICROS
    at = 10 * hour
    events = [Event(at - hour, at - hour, (5.0,)),  # exactly at the window's open end
              Event(at - 1, at - 1, (2.0,)),
              Event(at, at, (3.0,)),
              Event(at - 10, at + 1, (100.0,)),  # recorded after t
              Event(at + 1, at + 1, (50.0,))]  # in the future
    window = timedelta(hours=1)
    aggregations = [Aggregation(function=f, window=window,
                                column=None if f == AggregationFunction.COUNT else "x")
                    for f in AggregationFunction]

    values = aggregate(events, at, aggregations, ["x"])

    assert values == [2, 5.0, 2.5, 3.0, 2]


def test_empty_window_values() -> None:
    """No events: counts and sum are zero, mean and max are null."""
    aggregations = [Aggregation(function=f, window=timedelta(hours=1),
                                column=None if f == AggregationFunction.COUNT else "x")
                    for f in AggregationFunction]

    assert aggregate([], 0, aggregations, ["x"]) == [0, 0.0, None, None, 0]


def test_sum_is_exactly_rounded_in_any_order() -> None:
    """fsum makes the sum independent of event order, so online equals offline exactly."""
    values = [1e16, 1.0, -1e16, 0.1] * 5
    forward = [Event(i, i, (v,)) for i, v in enumerate(values)]
    aggregation = [Aggregation(function=AggregationFunction.SUM, window=timedelta(days=1),
                               column="x")]

    [total] = aggregate(forward, 100, aggregation, ["x"])
    [reversed_total] = aggregate(list(reversed(forward)), 100, aggregation, ["x"])

    assert total == reversed_total == math.fsum(values)
