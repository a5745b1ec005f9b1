"""Offline retrieval: feature values as known at each entity row's time, training sets."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bankml.access import acting, require
from bankml.core.canonical import canonical_json
from bankml.core.errors import InvalidInputError
from bankml.core.features import CREATED_TIMESTAMP, ENTITY_ROW, EVENT_TIMESTAMP
from bankml.core.identity import Permission, Principal
from bankml.core.ports import ArtifactStore, MetadataStore, OfflineEngine
from bankml.core.windows import Event, aggregate
from bankml.features.catalog import FeatureCatalog
from bankml.features.on_demand import run_on_demand
from bankml.features.plans import Planner, RetrievalPlan, StoredRead
from bankml.features.profiles import profile_frame
from bankml.features.progress import Progress
from bankml.features.results import TrainingSet

UTC_MICROS = pa.timestamp("us", tz="UTC")


class HistoricalRetrieval:
    """Point-in-time joins through the offline engine, windowed aggregates and on-demand
    features computed here (the same code as online), training sets and their profiles."""

    def __init__(self, catalog: FeatureCatalog, planner: Planner, offline: OfflineEngine,
                 artifacts: ArtifactStore, metadata: MetadataStore) -> None:
        self._catalog, self._planner, self._offline = catalog, planner, offline
        self._artifacts, self._metadata = artifacts, metadata

    def get_historical_features(self, entity_df: pd.DataFrame | pa.Table,
                                features: Sequence[str], *, late_corrections: bool = False,
                                output: Literal["pandas", "arrow"] = "pandas",
                                progress: Progress | None = None,
                                ) -> pd.DataFrame | pa.Table:
        """Each entity row with the feature values known at its `event_timestamp`.

        The latest row at or before that time within the view's TTL, else null; windowed
        aggregates over the windows ending then; on-demand features computed from them.
        By default a row recorded after the entity row's time is ignored (what was known
        then); `late_corrections=True` lets later corrections of earlier events in.
        """
        plan = self._planner.plan(self._catalog.resolve(features))
        table = entity_table(entity_df, plan)
        # only the join keys and times go to the engine; the other columns stay here
        keys = list(dict.fromkeys(k for read in plan.stored for k in read.view.join_keys))
        asked = pa.table({EVENT_TIMESTAMP: pc.cast(table.column(EVENT_TIMESTAMP), UTC_MICROS,
                                                   safe=False),
                          **{k: table.column(k) for k in keys}})
        if plan.plain:
            values = self._offline.point_in_time(
                asked, [(read.view, read.features) for read in plan.plain],
                late_corrections=late_corrections)
            for name, column in zip(values.column_names, values.columns, strict=True):
                table = table.append_column(name, column)
        if progress is not None:
            progress("rows", table.num_rows)
        if not plan.windowed and not plan.on_demand and output == "arrow":
            return table
        frame = table.to_pandas()
        for read in plan.windowed:
            computed = self._windowed(asked, read, late_corrections)
            for name in read.features:
                frame[name] = computed[name]
        for on_demand in plan.on_demand:
            computed_frame = run_on_demand(on_demand, frame)
            for name in on_demand.feature_names:
                frame[name] = computed_frame[name]
        frame = frame.drop(columns=list(plan.hidden))
        return pa.Table.from_pandas(frame, preserve_index=False) if output == "arrow" else frame

    def build_training_set(self, by: Principal, entity_df: pd.DataFrame,
                           features: Sequence[str], *, name: str,
                           late_corrections: bool = False) -> TrainingSet:
        """Historical features, stored as Parquet with each feature's profile as baseline."""
        require(self._metadata, by, Permission.MODEL_REGISTER, f"training_set:{name}")
        resolved = self._catalog.resolve(features)
        frame = self.get_historical_features(entity_df, [r.pinned for r in resolved],
                                             late_corrections=late_corrections)
        assert isinstance(frame, pd.DataFrame)  # noqa: S101 - output="pandas" above
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
        dataset = self._artifacts.put(buffer.getvalue())
        profile = profile_frame(frame, [r.feature for r in resolved])
        profile_digest = self._artifacts.put(canonical_json(profile).encode())
        with acting(self._metadata, by, Permission.MODEL_REGISTER,
                    f"training_set:{name}") as tx:
            tx.audit.record(by.name, "training_set.built", f"training_set:{name}", {
                "dataset_sha256": dataset, "profile_sha256": profile_digest,
                "rows": len(frame), "features": [r.pinned for r in resolved],
                "digests": {r.pinned: r.digest for r in resolved}})
        return TrainingSet(frame=frame, dataset_sha256=dataset, profile_sha256=profile_digest,
                           profile=profile, features=resolved)

    def profile(self, digest: str) -> dict[str, Any]:
        """A stored profile, verified against its digest."""
        loaded: dict[str, Any] = json.loads(self._artifacts.get(digest))
        return loaded

    def _windowed(self, asked: pa.Table, read: StoredRead,
                  late_corrections: bool) -> dict[str, list[Any]]:
        """The aggregates of each entity row, by `core.windows.aggregate` as online."""
        view = read.view
        events = self._offline.events_in_windows(
            asked.select([EVENT_TIMESTAMP, *view.join_keys]), view,
            late_corrections=late_corrections)
        columns = [f.name for f in view.schema]
        rows = events.column(ENTITY_ROW).to_pylist()
        event_us = _epoch_us(events.column(EVENT_TIMESTAMP))
        created_us = _epoch_us(events.column(CREATED_TIMESTAMP))
        values = list(zip(*(events.column(c).to_pylist() for c in columns), strict=True)) \
            if columns else [()] * len(rows)
        grouped: dict[int, list[Event]] = {}
        for row, e, c, vals in zip(rows, event_us, created_us, values, strict=True):
            grouped.setdefault(row, []).append(Event(e, c, tuple(vals)))
        results: dict[str, list[Any]] = {name: [] for name in read.features}
        for row, at_us in enumerate(_epoch_us(asked.column(EVENT_TIMESTAMP))):
            computed = aggregate(grouped.get(row, []), at_us, view.aggregations, columns,
                                 late_corrections=late_corrections)
            for name, index in zip(read.features, read.indexes, strict=True):
                results[name].append(computed[index])
        return results


def entity_table(entity_df: pd.DataFrame | pa.Table, plan: RetrievalPlan) -> pa.Table:
    """The entity frame as Arrow with `event_timestamp` as UTC times, after checking that
    it has every column the plan needs. Raises InvalidInputError naming what is missing."""
    frame = entity_df.to_pandas() if isinstance(entity_df, pa.Table) else entity_df
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInputError("entity_df", "must be a pandas DataFrame or an Arrow table",
                                rule="features.entity_df")
    needed = {EVENT_TIMESTAMP: "the time of each row"}
    for read in plan.stored:
        needed.update(dict.fromkeys(read.view.join_keys, f"join key of {read.view.name}"))
    for on_demand in plan.on_demand:
        needed.update({f.name: f"request field of {on_demand.name}"
                       for f in on_demand.request_fields})
    missing = [f"{name} ({why})" for name, why in needed.items() if name not in frame]
    if missing:
        raise InvalidInputError("entity_df", f"lacks columns {', '.join(missing)}; it has "
                                f"{', '.join(map(str, frame.columns))}",
                                rule="features.entity_df")
    try:
        moments = pd.to_datetime(frame[EVENT_TIMESTAMP], utc=True)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError("entity_df", f"{EVENT_TIMESTAMP} holds values that are "
                                f"not times: {exc}", rule="features.entity_df") from exc
    if moments.isna().any():
        raise InvalidInputError("entity_df", f"{EVENT_TIMESTAMP} is empty in "
                                f"{int(moments.isna().sum())} rows",
                                rule="features.entity_df")
    return pa.Table.from_pandas(frame.assign(**{EVENT_TIMESTAMP: moments}),
                                preserve_index=False)


def _epoch_us(column: pa.ChunkedArray) -> list[int]:
    return pc.cast(pc.cast(column, UTC_MICROS, safe=False),  # type: ignore[no-any-return]
                   pa.int64()).to_pylist()
