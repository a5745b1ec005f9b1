"""Materialisation and push: the online store filled from, and kept level with, offline."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

import pandas as pd
import pyarrow as pa

from bankml.access import acting, require
from bankml.core.canonical import parse_utc_timestamp, utc_timestamp
from bankml.core.errors import InvalidInputError
from bankml.core.features import FeatureView
from bankml.core.identity import Permission, Principal
from bankml.core.ports import MetadataStore, OfflineEngine, OnlineStore
from bankml.core.windows import MICROS, Event
from bankml.features.catalog import FeatureCatalog, LoadedView, split_view_ref
from bankml.features.payloads import (
    entity_key,
    epoch_us,
    event_payloads_of,
    events_from_payload,
    events_payload,
    keys_of,
    latest_payload,
    latest_payloads_of,
    python_value,
)
from bankml.features.progress import Progress
from bankml.features.results import MaterializeResult


class Materialization:
    """Loads view versions into the online store and appends pushed events to both paths.

    The engine picks the rows; the payloads are encoded here, so every engine fills the
    online store with the same keys and values.
    """

    def __init__(self, catalog: FeatureCatalog, offline: OfflineEngine, online: OnlineStore,
                 metadata: MetadataStore, clock: Callable[[], datetime]) -> None:
        self._catalog, self._offline, self._online = catalog, offline, online
        self._metadata, self._clock = metadata, clock

    def materialize(self, by: Principal, start: datetime | None = None,
                    end: datetime | None = None, *, views: Sequence[str] | None = None,
                    progress: Progress | None = None) -> list[MaterializeResult]:
        """Load into the online store the values known at `end` of entities with rows
        recorded in (start, end]; all entities when `start` is None."""
        require(self._metadata, by, Permission.FEATURES_MATERIALIZE, "feature_views")
        end = end or self._clock()
        return [self._materialize_view(loaded, start, end, by, progress)
                for loaded in self._catalog.stored_views(views)]

    def materialize_incremental(self, by: Principal, end: datetime | None = None, *,
                                views: Sequence[str] | None = None,
                                progress: Progress | None = None) -> list[MaterializeResult]:
        """Materialise each view from its last watermark (from the start the first time)."""
        require(self._metadata, by, Permission.FEATURES_MATERIALIZE, "feature_views")
        end = end or self._clock()
        results = []
        for loaded in self._catalog.stored_views(views):
            with self._metadata.reading() as tx:
                mark = tx.features.watermark(loaded.ref)
            start = None if mark is None else parse_utc_timestamp(mark)
            results.append(self._materialize_view(loaded, start, end, by, progress))
        return results

    def push(self, by: Principal, view_name: str, events: pd.DataFrame, *,
             recorded_at: datetime | None = None) -> int:
        """Append rows to a view's offline data and bring the online store up to date.

        The rows need the join keys, the timestamp column and the schema's columns. When
        the view records creation times and the column is absent, it is `recorded_at`
        (default now). Every materialised version of the view is updated.
        """
        require(self._metadata, by, Permission.FEATURES_MATERIALIZE, f"feature_view:{view_name}")
        view = self._catalog.load(view_name).definition
        if not isinstance(view, FeatureView):
            raise InvalidInputError("view", f"{view_name} is an on-demand view; push to the "
                                    "views it reads", rule="features.push")
        table = _push_table(view, events, recorded_at or self._clock())
        self._offline.append(view, table)
        frame = table.to_pandas()
        for namespace in self._online_namespaces(view.name):
            target = self._catalog.load(*split_view_ref(namespace)).definition
            assert isinstance(target, FeatureView)  # noqa: S101 - namespaces are stored views
            self._push_online(target, namespace, frame)
        return len(frame)

    def _materialize_view(self, loaded: LoadedView, start: datetime | None, end: datetime,
                          by: Principal, progress: Progress | None) -> MaterializeResult:
        view = loaded.definition
        assert isinstance(view, FeatureView)  # noqa: S101 - stored_views keeps stored views
        for moment in (start, end):
            if moment is not None:
                epoch_us(moment)  # refuses a time without a zone, before any work
        ref = loaded.ref
        written = 0
        for batch in self._payloads(view, start, end):
            written += self._online.write(ref, batch)
            if progress is not None:
                progress(ref, written)
        end_text = utc_timestamp(end)
        start_text = None if start is None else utc_timestamp(start)
        with acting(self._metadata, by, Permission.FEATURES_MATERIALIZE,
                    f"feature_view:{ref}") as tx:
            tx.features.save_watermark(ref, end_text)
            tx.audit.record(by.name, "feature_view.materialized", f"feature_view:{ref}",
                            {"start": start_text, "end": end_text, "entities": written,
                             "online_store": self._online.describe()})
        return MaterializeResult(view=ref, entities=written, start=start_text, end=end_text)

    def _payloads(self, view: FeatureView, start: datetime | None,
                  end: datetime) -> Iterator[list[tuple[str, str]]]:
        """(entity key, payload) in batches, as the engine hands out its rows."""
        if view.is_windowed:
            yield from event_payloads_of(
                view, self._offline.recent_events(view, start=start, end=end))
            return
        for table in self._offline.latest_rows(view, start=start, end=end):
            if table.num_rows:
                yield list(zip(keys_of(view, table), latest_payloads_of(view, table),
                               strict=True))

    def _online_namespaces(self, name: str) -> list[str]:
        latest = self._catalog.load(name).ref
        with self._metadata.reading() as tx:
            refs = [v.ref for v in tx.features.all() if v.name == name
                    and tx.features.watermark(v.ref) is not None]
        return sorted({*refs, latest})

    def _push_online(self, view: FeatureView, namespace: str, frame: pd.DataFrame) -> None:
        source = view.source
        created = source.created_timestamp_column or source.timestamp_field
        columns = [f.name for f in view.schema]
        by_key: dict[str, list[Event]] = {}
        for record in frame.to_dict(orient="records"):
            event = Event(epoch_us(record[source.timestamp_field].to_pydatetime()),
                          epoch_us(record[created].to_pydatetime()),
                          tuple(python_value(record[c]) for c in columns))
            by_key.setdefault(entity_key(view, {str(k): v for k, v in record.items()}),
                              []).append(event)
        keys = list(by_key)
        current = self._online.read(namespace, keys)
        updates = []
        for key, payload in zip(keys, current, strict=True):
            fresh = by_key[key]
            if view.is_windowed:
                merged = sorted([*events_from_payload(payload), *fresh],
                                key=lambda e: (e.event_us, e.created_us))
                horizon = merged[-1].event_us - int(view.max_window.total_seconds()) * MICROS
                updates.append((key, events_payload([e for e in merged
                                                     if e.event_us > horizon])))
                continue
            newest = max(fresh, key=lambda e: (e.event_us, e.created_us))
            stored = json.loads(payload) if payload is not None else None
            if stored is None or newest.event_us >= stored[0]:
                updates.append((key, latest_payload(newest.event_us, newest.values)))
        self._online.write(namespace, updates)


def _push_table(view: FeatureView, events: pd.DataFrame, recorded_at: datetime) -> pa.Table:
    source = view.source
    needed = [*view.join_keys, source.timestamp_field, *(f.name for f in view.schema)]
    missing = [c for c in needed if c not in events]
    if missing:
        raise InvalidInputError("events", f"lack columns {', '.join(missing)} of feature "
                                f"view {view.name}", rule="features.push")
    frame = events[needed].copy()
    frame[source.timestamp_field] = pd.to_datetime(frame[source.timestamp_field], utc=True)
    created = source.created_timestamp_column
    if created is not None:
        frame[created] = (pd.to_datetime(events[created], utc=True) if created in events
                          else pd.Timestamp(recorded_at))
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidInputError("events", f"cannot be stored: {exc}",
                                rule="features.push") from exc
