"""Online serving: feature values of entities from the online store, on every request."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from bankml.core.features import FeatureView, parse_feature_ref
from bankml.core.ports import OnlineStore
from bankml.core.windows import MICROS, aggregate
from bankml.features.caches import LruCache
from bankml.features.catalog import FeatureCatalog
from bankml.features.on_demand import check_request_fields, run_on_demand
from bankml.features.payloads import epoch_us, events_from_payload, key_function, python_value
from bankml.features.plans import Planner, RetrievalPlan
from bankml.features.results import OnlineFeatures

# How old an answer to "which version of view X is latest" a lookup may use. A view
# applied by another process is served by the lookups of this one at most this late.
LATEST_MAX_AGE_S = 2.0
# Feature lists remembered with the plan they resolved to; a lookup of a list it holds
# costs a dictionary probe (and a check of the latest versions it assumed).
RESOLUTIONS = 1_024


@dataclass(frozen=True, slots=True)
class _Read:
    """A stored read prepared for lookups: payload positions and TTL in microseconds."""

    namespace: str
    view: FeatureView
    key: Callable[[Mapping[str, Any]], str]
    features: tuple[str, ...]
    indexes: tuple[int, ...]
    positions: tuple[int, ...]  # in a plain payload [event_us, value, ...]
    ttl_us: int | None
    columns: tuple[str, ...]  # a windowed view's event columns


@dataclass(frozen=True, slots=True)
class _Resolved:
    """What a feature list resolved to, and the latest versions that was true for."""

    plan: RetrievalPlan
    reads: tuple[_Read, ...]
    assumed: tuple[tuple[str, int], ...]  # (view, latest number) of each unpinned view


class OnlineServing:
    """Lookups of entity rows in the online store, through the same definitions as offline."""

    def __init__(self, catalog: FeatureCatalog, planner: Planner, online: OnlineStore,
                 clock: Callable[[], datetime], *,
                 latest_max_age_s: float = LATEST_MAX_AGE_S,
                 resolutions: int = RESOLUTIONS) -> None:
        self._catalog, self._planner, self._online = catalog, planner, online
        self._clock = clock
        self._max_age_s = latest_max_age_s
        self._resolved: LruCache[tuple[str, ...], _Resolved] = LruCache(resolutions)

    def get_online_features(self, entity_rows: Sequence[Mapping[str, Any]],
                            features: Sequence[str], *,
                            at: datetime | None = None) -> OnlineFeatures:
        """Feature values for each entity row from the online store.

        An entity the store does not know gives nulls and `found` False. Windowed features
        are aggregated at `at` (default now), TTLs are checked against it.
        """
        at_us = epoch_us(at or self._clock())
        resolved = self._resolve(tuple(features))
        rows: list[dict[str, Any]] = [dict(row) for row in entity_rows]
        found: list[dict[str, bool]] = [{} for _ in rows]
        for read in resolved.reads:
            payloads = self._online.read(read.namespace, [read.key(row) for row in rows])
            for flags, payload in zip(found, payloads, strict=True):
                flags[read.namespace] = payload is not None
            if read.view.is_windowed:
                _fill_windowed(read, rows, payloads, at_us)
            else:
                _fill_latest(read, rows, payloads, at_us)
        plan = resolved.plan
        if plan.on_demand:
            rows = _with_on_demand(plan, rows)
        if plan.hidden:
            for row in rows:
                for name in plan.hidden:
                    row.pop(name, None)
        return OnlineFeatures(rows=rows, found=found)

    @property
    def remembered_lists(self) -> int:
        """How many feature lists are remembered with what they resolved to."""
        return len(self._resolved)

    def _resolve(self, features: tuple[str, ...]) -> _Resolved:
        known = self._resolved.get(features)
        if known is not None and all(
                self._catalog.latest_number(view, max_age_s=self._max_age_s) == number
                for view, number in known.assumed):
            return known
        pinned = self._catalog.resolve(features, max_age_s=self._max_age_s)
        plan = self._planner.plan(pinned)
        assumed = tuple(sorted({(r.view, r.number) for r in pinned
                                if parse_feature_ref(r.ref).number is None}))
        reads = tuple(_Read(
            namespace=read.namespace, view=read.view, key=key_function(read.view),
            features=read.features,
            indexes=read.indexes, positions=tuple(i + 1 for i in read.indexes),
            ttl_us=None if read.view.ttl is None
            else int(read.view.ttl.total_seconds()) * MICROS,
            columns=tuple(f.name for f in read.view.schema)) for read in plan.stored)
        known = _Resolved(plan=plan, reads=reads, assumed=assumed)
        self._resolved.put(features, known)
        return known


def _fill_latest(read: _Read, rows: list[dict[str, Any]], payloads: list[str | None],
                 at_us: int) -> None:
    """A plain view's values: the stored row unless it is from after `at` or past its TTL."""
    oldest_us = None if read.ttl_us is None else at_us - read.ttl_us
    for row, payload in zip(rows, payloads, strict=True):
        stored = None if payload is None else json.loads(payload)
        if stored is None or stored[0] > at_us or (
                oldest_us is not None and stored[0] < oldest_us):
            for name in read.features:
                row[name] = None
            continue
        for name, position in zip(read.features, read.positions, strict=True):
            row[name] = stored[position]


def _fill_windowed(read: _Read, rows: list[dict[str, Any]], payloads: list[str | None],
                   at_us: int) -> None:
    """A windowed view's aggregates at `at`, by the same function as offline."""
    view = read.view
    for row, payload in zip(rows, payloads, strict=True):
        values = aggregate(events_from_payload(payload), at_us, view.aggregations,
                           read.columns)
        for name, index in zip(read.features, read.indexes, strict=True):
            row[name] = values[index]


def _with_on_demand(plan: RetrievalPlan, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    frame = pd.DataFrame(rows)
    for on_demand in plan.on_demand:
        check_request_fields(on_demand, frame.columns)
        computed = run_on_demand(on_demand, frame)
        for name in on_demand.feature_names:
            frame[name] = computed[name]
    return [{str(k): python_value(v) for k, v in row.items()}
            for row in frame.to_dict(orient="records")]
