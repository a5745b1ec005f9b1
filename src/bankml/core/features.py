"""Feature definitions in Feast's vocabulary, their versions and feature references.

A definition is plain data plus, for on-demand views, a Python function. Its version is
the sha256 of its `spec()`: schema, source, transformation code, TTL and windows. Owner,
description and tags describe a view without changing what it computes, so they stay out
of the digest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from bankml.core.canonical import canonical_json, sha256_hex
from bankml.core.errors import InvalidInputError
from bankml.core.limits import check_integer

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
EVENT_TIMESTAMP = "event_timestamp"
# Column names of the tables an offline engine takes and gives (see OfflineEngine in ports)
CREATED_TIMESTAMP = "created_timestamp"
ENTITY_ROW = "entity_row"


class Dtype(StrEnum):
    """Value types a feature or key can take; the same names online and offline."""

    INT64 = "int64"
    FLOAT64 = "float64"
    STRING = "string"
    BOOL = "bool"


Int64, Float64, String, Bool = Dtype.INT64, Dtype.FLOAT64, Dtype.STRING, Dtype.BOOL


def _checked_name(kind: str, name: str) -> str:
    if not NAME.match(name):
        raise InvalidInputError(kind, f"{name!r} is not a valid name: use letters, digits, "
                                "'_' and '-', starting with a letter or '_'",
                                rule="features.name")
    return name


@dataclass(frozen=True, slots=True, kw_only=True)
class Field:
    """A named, typed column."""

    name: str
    dtype: Dtype

    def __post_init__(self) -> None:
        _checked_name("field", self.name)

    def spec(self) -> dict[str, str]:
        return {"name": self.name, "dtype": str(self.dtype)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Entity:
    """What features describe (a customer, a card), identified by its join keys."""

    name: str
    join_keys: tuple[str, ...]
    dtype: Dtype = Dtype.STRING
    description: str = ""

    def __post_init__(self) -> None:
        _checked_name("entity", self.name)
        if not self.join_keys:
            raise InvalidInputError(f"entity {self.name}", "needs at least one join key",
                                    rule="features.join_keys")

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "join_keys": list(self.join_keys), "dtype": str(self.dtype)}


@dataclass(frozen=True, slots=True, kw_only=True)
class FileSource:
    """Parquet or CSV files (a path or a glob) with an event-time column.

    `created_timestamp_column` holds when each row was recorded; retrieval is "as known
    at" the entity row's time through it. Without it a row counts as known at its event
    time.
    """

    path: str
    timestamp_field: str = EVENT_TIMESTAMP
    created_timestamp_column: str | None = None
    file_format: str = "parquet"

    def __post_init__(self) -> None:
        if self.file_format not in ("parquet", "csv"):
            raise InvalidInputError("file_format", f"{self.file_format!r} is not supported; "
                                    "use 'parquet' or 'csv'", rule="features.source")

    def spec(self) -> dict[str, Any]:
        return {"kind": "file", "path": self.path, "format": self.file_format,
                "timestamp_field": self.timestamp_field,
                "created_timestamp_column": self.created_timestamp_column}


@dataclass(frozen=True, slots=True, kw_only=True)
class SqlTableSource:
    """A table in any database SQLAlchemy reaches, read whole at retrieval time."""

    url: str
    table: str
    timestamp_field: str = EVENT_TIMESTAMP
    created_timestamp_column: str | None = None

    def spec(self) -> dict[str, Any]:
        return {"kind": "sql", "url": self.url, "table": self.table,
                "timestamp_field": self.timestamp_field,
                "created_timestamp_column": self.created_timestamp_column}


@dataclass(frozen=True, slots=True, kw_only=True)
class DuckDbQuerySource:
    """A DuckDB SELECT (over Parquet, CSV ...) whose result is the source table."""

    query: str
    timestamp_field: str = EVENT_TIMESTAMP
    created_timestamp_column: str | None = None

    def spec(self) -> dict[str, Any]:
        return {"kind": "duckdb", "query": self.query, "timestamp_field": self.timestamp_field,
                "created_timestamp_column": self.created_timestamp_column}


Source = FileSource | SqlTableSource | DuckDbQuerySource


class AggregationFunction(StrEnum):
    COUNT = "count"
    SUM = "sum"
    MEAN = "mean"
    MAX = "max"
    DISTINCT_COUNT = "distinct_count"


WINDOW_UNITS = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))


def window_label(window: timedelta) -> str:
    """`timedelta(hours=24)` -> "24h", `timedelta(days=7)` -> "7d", as risk teams say them.

    The largest unit that divides the window, except that one day reads as 24h.
    """
    seconds = int(window.total_seconds())
    for unit, size in WINDOW_UNITS:
        if seconds % size == 0 and not (unit == "d" and seconds == size):
            return f"{seconds // size}{unit}"
    raise AssertionError("unreachable: every whole number of seconds has a label")


@dataclass(frozen=True, slots=True, kw_only=True)
class Aggregation:
    """One windowed aggregate per entity: `function` of `column` over the last `window`.

    A window ending at t holds the events with t - window < event time <= t that were
    recorded by t. Count and distinct count are 0 and sum is 0.0 over an empty window;
    mean and max are null.
    """

    function: AggregationFunction
    window: timedelta
    column: str | None = None  # None only for count: the number of events
    name: str | None = None

    def __post_init__(self) -> None:
        if self.window.total_seconds() <= 0 or self.window.total_seconds() % 1:
            raise InvalidInputError("window", f"{self.window} must be a positive whole "
                                    "number of seconds", rule="features.window")
        if self.column is None and self.function != AggregationFunction.COUNT:
            raise InvalidInputError("aggregation", f"{self.function} needs a column",
                                    rule="features.aggregation")

    @property
    def feature_name(self) -> str:
        if self.name:
            return self.name
        column = self.column or "events"
        return f"{column}_{self.function}_{window_label(self.window)}"

    @property
    def dtype(self) -> Dtype:
        counts = (AggregationFunction.COUNT, AggregationFunction.DISTINCT_COUNT)
        return Dtype.INT64 if self.function in counts else Dtype.FLOAT64

    def spec(self) -> dict[str, Any]:
        return {"function": str(self.function), "column": self.column,
                "window_s": int(self.window.total_seconds()), "name": self.feature_name}


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureView:
    """Features of one or more entities read from a source.

    With `schema`, each field is a source column and retrieval gives the latest value
    within `ttl`. With `aggregations`, the source is a stream of events, `schema` lists
    the event columns they read, and retrieval gives the windowed aggregates.
    """

    name: str
    entities: tuple[Entity, ...]
    source: Source
    schema: tuple[Field, ...]
    ttl: timedelta | None = None
    aggregations: tuple[Aggregation, ...] = ()
    owner: str = ""
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _checked_name("feature view", self.name)
        if not self.entities:
            raise InvalidInputError(f"feature view {self.name}", "needs at least one entity",
                                    rule="features.entities")
        columns = {f.name for f in self.schema}
        for aggregation in self.aggregations:
            if aggregation.column is not None and aggregation.column not in columns:
                raise InvalidInputError(
                    f"feature view {self.name}", f"aggregation {aggregation.feature_name} "
                    f"reads column {aggregation.column!r}, which is not in the schema "
                    f"({', '.join(sorted(columns)) or 'empty'})", rule="features.aggregation")
        _unique(self.name, self.feature_names)

    @property
    def join_keys(self) -> tuple[str, ...]:
        return tuple(key for entity in self.entities for key in entity.join_keys)

    @property
    def is_windowed(self) -> bool:
        return bool(self.aggregations)

    @property
    def features(self) -> tuple[Field, ...]:
        """The fields retrieval returns."""
        if self.is_windowed:
            return tuple(Field(name=a.feature_name, dtype=a.dtype) for a in self.aggregations)
        return self.schema

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    @property
    def max_window(self) -> timedelta:
        return max(a.window for a in self.aggregations)

    def spec(self) -> dict[str, Any]:
        """What the view computes: the input of its version digest."""
        return {"kind": "feature_view", "name": self.name,
                "entities": [e.spec() for e in self.entities], "source": self.source.spec(),
                "schema": [f.spec() for f in self.schema],
                "ttl_s": None if self.ttl is None else int(self.ttl.total_seconds()),
                "aggregations": [a.spec() for a in self.aggregations]}

    def labels(self) -> dict[str, Any]:
        return {"owner": self.owner, "description": self.description, "tags": dict(self.tags)}


@dataclass(frozen=True, slots=True, kw_only=True)
class OnDemandFeatureView:
    """Features computed at request time by `function` from request fields and stored features.

    `function` takes a dataframe holding the `request_fields` and the `sources` (feature
    references, columns named by feature) and returns a dataframe with the `schema`
    columns. The same function runs offline on the training frame and online on the
    request.
    """

    name: str
    sources: tuple[str, ...]
    request_fields: tuple[Field, ...]
    schema: tuple[Field, ...]
    function: Callable[[Any], Any]
    owner: str = ""
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _checked_name("on-demand feature view", self.name)
        _unique(self.name, self.feature_names)

    @property
    def features(self) -> tuple[Field, ...]:
        return self.schema

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.schema)

    def spec_with(self, code: str) -> dict[str, Any]:
        """The digest input; `code` is the function's source, which the caller reads."""
        return {"kind": "on_demand", "name": self.name, "sources": list(self.sources),
                "request_fields": [f.spec() for f in self.request_fields],
                "schema": [f.spec() for f in self.schema],
                "function": getattr(self.function, "__name__", "function"), "code": code}

    def labels(self) -> dict[str, Any]:
        return {"owner": self.owner, "description": self.description, "tags": dict(self.tags)}


Definition = FeatureView | OnDemandFeatureView


def definition_digest(spec: Mapping[str, Any]) -> str:
    """The version identity of a definition: sha256 of its canonical spec."""
    return sha256_hex(canonical_json(spec))


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureViewVersion:
    """One applied definition, known by name and number and identified by its digest."""

    name: str
    number: int
    digest: str
    spec: dict[str, Any]
    labels: dict[str, Any]
    created_at: str
    created_by: str

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.number}"

    @property
    def kind(self) -> str:
        return str(self.spec["kind"])


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureRef:
    """`view:feature` or `view@3:feature` as written by a user."""

    view: str
    feature: str
    number: int | None = None

    @property
    def text(self) -> str:
        pin = "" if self.number is None else f"@{self.number}"
        return f"{self.view}{pin}:{self.feature}"


REF = re.compile(r"^(?P<view>[^:@\s]+)(@(?P<number>[^:]*))?:(?P<feature>[^:@\s]+)$")


def parse_feature_ref(text: str) -> FeatureRef:
    """`balances@3:utilisation` -> FeatureRef("balances", "utilisation", 3)."""
    match = REF.match(text)
    if match is None:
        raise InvalidInputError("feature", f"{text!r} is not a feature reference; write "
                                "VIEW:FEATURE or VIEW@VERSION:FEATURE", rule="features.ref")
    number = match.group("number")
    if number is not None and (not number.isdigit() or int(number) < 1):
        raise InvalidInputError("feature", f"{text!r}: the version after @ must be a "
                                "positive whole number", rule="features.ref")
    return FeatureRef(view=match.group("view"), feature=match.group("feature"),
                      number=None if number is None else check_integer("feature", int(number)))


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolvedFeature:
    """A reference pinned to the exact view version it reads: what a model records."""

    ref: str
    view: str
    number: int
    digest: str
    feature: str

    @property
    def pinned(self) -> str:
        return f"{self.view}@{self.number}:{self.feature}"


def check_unique_outputs(resolved: Sequence[ResolvedFeature]) -> None:
    """Two references may not produce the same output column."""
    seen: dict[str, str] = {}
    for item in resolved:
        if item.feature in seen and seen[item.feature] != item.pinned:
            raise InvalidInputError(
                "features", f"feature name {item.feature!r} comes from both "
                f"{seen[item.feature]} and {item.pinned}; request one of them, or rename the "
                "feature in one view", rule="features.unique_names")
        seen[item.feature] = item.pinned


def _unique(view: str, names: Sequence[str]) -> None:
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidInputError(f"feature view {view}", f"feature names {duplicates} appear "
                                "more than once", rule="features.unique_names")
