"""The feature store's use cases: apply, retrieve offline and online, materialise, push."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bankml.audit.recorded import require_recorded_definition
from bankml.core.canonical import canonical_json, utc_timestamp
from bankml.core.errors import ArtifactIntegrityError, InvalidInputError, NotFoundError
from bankml.core.features import (
    EVENT_TIMESTAMP,
    Definition,
    FeatureRef,
    FeatureView,
    FeatureViewVersion,
    OnDemandFeatureView,
    ResolvedFeature,
    check_unique_outputs,
    definition_digest,
    parse_feature_ref,
)
from bankml.core.ports import ArtifactStore, MetadataStore, OfflineEngine, OnlineStore
from bankml.core.windows import MICROS, Event, aggregate
from bankml.features.codec import (
    entity_key,
    epoch_us,
    events_from_payload,
    events_payload,
    latest_payload,
)
from bankml.features.definitions import (
    function_code,
    load_definitions,
    on_demand_from_spec,
    view_from_spec,
)
from bankml.features.profiles import profile_frame
from bankml.features.results import (
    ApplyResult,
    MaterializeResult,
    Mismatch,
    OnlineFeatures,
    SkewReport,
    TrainingSet,
)

ENTITY_ROW, ENTITY_TIME = "_entity_row", "_t"
Progress = Callable[[str, int], None]


@dataclass(frozen=True, slots=True)
class _Loaded:
    version: FeatureViewVersion
    definition: Definition


class FeatureStore:
    """Feature definitions with versions, offline retrieval, the online store, skew checks."""

    def __init__(self, metadata: MetadataStore, offline: OfflineEngine, online: OnlineStore,
                 artifacts: ArtifactStore,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._metadata, self._offline, self._online = metadata, offline, online
        self._artifacts, self._clock = artifacts, clock
        self._loaded: dict[tuple[str, int], _Loaded] = {}
        self._latest: dict[str, int] = {}
        # plans of recent feature lists: lookups repeat the same list on every request
        self._plans: dict[tuple[str, ...], _Plan] = {}

    @property
    def online_store(self) -> str:
        return self._online.describe()

    # -- definitions --------------------------------------------------------------------

    def apply(self, definitions: Path | str | Sequence[Definition], *,
              actor: str) -> list[ApplyResult]:
        """Record each definition as a new version unless its latest version is identical.

        Every definition is checked (source against schema, references of on-demand views)
        before anything is written; one audit event per definition, in one transaction.
        """
        items = (load_definitions(Path(definitions)) if isinstance(definitions, str | Path)
                 else list(definitions))
        names = [d.name for d in items]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise InvalidInputError("definitions", f"{repeated} defined more than once",
                                    rule="features.unique_views")
        planned: dict[str, FeatureViewVersion] = {}
        results: list[ApplyResult] = []
        now = utc_timestamp(self._clock())
        # plain and windowed views first: on-demand views pin the versions they read
        ordered = sorted(items, key=lambda d: isinstance(d, OnDemandFeatureView))
        with self._metadata.transaction() as tx:
            for definition in ordered:
                spec = self._spec(definition, planned)
                digest = definition_digest(spec)
                try:
                    current: FeatureViewVersion | None = tx.features.latest(definition.name)
                except NotFoundError:
                    current = None
                if current is not None and current.digest == digest:
                    planned[definition.name] = current
                    results.append(ApplyResult(name=current.name, number=current.number,
                                               digest=digest, created=False))
                    tx.audit.record(actor, "feature_view.applied",
                                    f"feature_view:{current.ref}",
                                    {"digest": digest, "new_version": False})
                    continue
                version = FeatureViewVersion(
                    name=definition.name, number=tx.features.next_number(definition.name),
                    digest=digest, spec=spec, labels=definition.labels(), created_at=now,
                    created_by=actor)
                tx.features.add(version)
                tx.audit.record(actor, "feature_view.applied", f"feature_view:{version.ref}",
                                {"digest": digest, "new_version": True, "kind": version.kind,
                                 "features": list(definition.feature_names)})
                planned[definition.name] = version
                results.append(ApplyResult(name=version.name, number=version.number,
                                           digest=digest, created=True))
        self.refresh()
        return results

    def versions(self, name: str | None = None) -> list[FeatureViewVersion]:
        with self._metadata.reading() as tx:
            every = tx.features.all()
        if name is not None and not any(v.name == name for v in every):
            raise NotFoundError("feature view", name, "List views with `bankml features list`.")
        return [v for v in every if name is None or v.name == name]

    def version(self, ref: str) -> FeatureViewVersion:
        """`name` (the latest) or `name@N`."""
        name, _, number = ref.partition("@")
        if number and not number.isdigit():
            raise InvalidInputError("view", f"{ref!r}: write NAME or NAME@VERSION",
                                    rule="features.ref")
        return self._load(name, int(number) if number else None).version

    def definition(self, ref: str) -> Definition:
        """The definition of `name` or `name@N`, rebuilt from its stored spec."""
        version = self.version(ref)
        return self._load(version.name, version.number).definition

    def resolve(self, refs: Sequence[str]) -> list[ResolvedFeature]:
        """Pin each `view[@N]:feature` to the exact view version and digest it reads.

        Raises NotFoundError for an unknown view, version or feature, and InvalidInputError
        when two references give the same feature name.
        """
        resolved = [self._resolve_one(parse_feature_ref(ref)) for ref in refs]
        check_unique_outputs(resolved)
        return resolved

    # -- offline ------------------------------------------------------------------------

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
        resolved = self.resolve(features)
        plan = self._plan(resolved)
        entity = self._entity_table(entity_df, plan)
        plain = [(view, names) for view, names in plan.stored if not view.is_windowed]
        batches = []
        done = 0
        for batch in self._offline.point_in_time(entity, plain,
                                                 late_corrections=late_corrections):
            batches.append(batch)
            done += batch.num_rows
            if progress is not None:
                progress("rows", done)
        table = pa.Table.from_batches(batches) if batches else entity.slice(0, 0)
        windowed = [(view, names) for view, names in plan.stored if view.is_windowed]
        if not windowed and not plan.on_demand and output == "arrow":
            return table.drop_columns([ENTITY_ROW, ENTITY_TIME, *plan.hidden])
        frame = table.to_pandas()
        for view, names in windowed:
            values = self._windowed_offline(entity, view, late_corrections)
            for name in names:
                frame[name] = values[name]
        for on_demand in plan.on_demand:
            computed = _run_on_demand(on_demand, frame)
            for name in on_demand.feature_names:
                frame[name] = computed[name]
        frame = frame.drop(columns=[ENTITY_ROW, ENTITY_TIME, *plan.hidden])
        return pa.Table.from_pandas(frame, preserve_index=False) if output == "arrow" else frame

    def build_training_set(self, entity_df: pd.DataFrame, features: Sequence[str], *,
                           name: str, actor: str,
                           late_corrections: bool = False) -> TrainingSet:
        """Historical features, stored as Parquet with each feature's profile as baseline."""
        resolved = self.resolve(features)
        frame = self.get_historical_features(entity_df, [r.pinned for r in resolved],
                                             late_corrections=late_corrections)
        assert isinstance(frame, pd.DataFrame)  # noqa: S101 - output="pandas" above
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
        dataset = self._artifacts.put(buffer.getvalue())
        profile = profile_frame(frame, [r.feature for r in resolved])
        profile_digest = self._artifacts.put(canonical_json(profile).encode())
        with self._metadata.transaction() as tx:
            tx.audit.record(actor, "training_set.built", f"training_set:{name}", {
                "dataset_sha256": dataset, "profile_sha256": profile_digest,
                "rows": len(frame), "features": [r.pinned for r in resolved],
                "digests": {r.pinned: r.digest for r in resolved}})
        return TrainingSet(frame=frame, dataset_sha256=dataset, profile_sha256=profile_digest,
                           profile=profile, features=resolved)

    def profile(self, digest: str) -> dict[str, Any]:
        """A stored profile, verified against its digest."""
        loaded: dict[str, Any] = json.loads(self._artifacts.get(digest))
        return loaded

    # -- online -------------------------------------------------------------------------

    def materialize(self, start: datetime | None = None, end: datetime | None = None, *,
                    views: Sequence[str] | None = None, actor: str,
                    progress: Progress | None = None) -> list[MaterializeResult]:
        """Load into the online store the values known at `end` of entities with rows
        recorded in (start, end]; all entities when `start` is None."""
        end = end or self._clock()
        end_us = epoch_us(end)
        results = []
        for loaded in self._stored_views(views):
            results.append(self._materialize_view(
                loaded, None if start is None else epoch_us(start), end_us, actor, progress))
        return results

    def materialize_incremental(self, end: datetime | None = None, *,
                                views: Sequence[str] | None = None, actor: str,
                                progress: Progress | None = None) -> list[MaterializeResult]:
        """Materialise each view from its last watermark (from the start the first time)."""
        end_us = epoch_us(end or self._clock())
        results = []
        for loaded in self._stored_views(views):
            with self._metadata.reading() as tx:
                mark = tx.features.watermark(loaded.version.ref)
            start_us = None if mark is None else epoch_us(_parse(mark))
            results.append(self._materialize_view(loaded, start_us, end_us, actor, progress))
        return results

    def get_online_features(self, entity_rows: Sequence[Mapping[str, Any]],
                            features: Sequence[str], *,
                            at: datetime | None = None) -> OnlineFeatures:
        """Feature values for each entity row from the online store.

        An entity the store does not know gives nulls and `found` False. Windowed features
        are aggregated at `at` (default now), TTLs are checked against it.
        """
        at_us = epoch_us(at or self._clock())
        plan = self._plans.get(tuple(features))
        if plan is None:
            plan = self._plan(self.resolve(features))
            self._plans[tuple(features)] = plan
        rows: list[dict[str, Any]] = [dict(row) for row in entity_rows]
        found: list[dict[str, bool]] = [{} for _ in rows]
        for view, names in plan.stored:
            namespace = plan.refs[view.name]
            keys = [entity_key(view, row) for row in rows]
            payloads = self._online.read(namespace, keys)
            if view.is_windowed:
                columns = [f.name for f in view.schema]
                for row, flags, payload in zip(rows, found, payloads, strict=True):
                    flags[namespace] = payload is not None
                    values = aggregate(events_from_payload(payload), at_us, view.aggregations,
                                       columns)
                    by_name = dict(zip(view.feature_names, values, strict=True))
                    for name in names:
                        row[name] = by_name[name]
                continue
            positions = [view.feature_names.index(name) + 1 for name in names]
            oldest_us = (None if view.ttl is None
                         else at_us - int(view.ttl.total_seconds()) * MICROS)
            for row, flags, payload in zip(rows, found, payloads, strict=True):
                flags[namespace] = payload is not None
                stored = json.loads(payload) if payload is not None else None
                fresh = stored is not None and stored[0] <= at_us and (
                    oldest_us is None or stored[0] >= oldest_us)
                for name, position in zip(names, positions, strict=True):
                    row[name] = stored[position] if fresh and stored is not None else None
        if plan.on_demand:
            frame = pd.DataFrame(rows)
            for on_demand in plan.on_demand:
                _check_request_fields(on_demand, frame.columns)
                computed = _run_on_demand(on_demand, frame)
                for name in on_demand.feature_names:
                    frame[name] = computed[name]
            rows = [{str(k): _python(v) for k, v in row.items()}
                    for row in frame.to_dict(orient="records")]
        for row in rows:
            for name in plan.hidden:
                row.pop(name, None)
        return OnlineFeatures(rows=rows, found=found)

    def push(self, view_name: str, events: pd.DataFrame, *,
             recorded_at: datetime | None = None) -> int:
        """Append rows to a view's offline data and bring the online store up to date.

        The rows need the join keys, the timestamp column and the schema's columns. When
        the view records creation times and the column is absent, it is `recorded_at`
        (default now). Every materialised version of the view is updated.
        """
        loaded = self._load(view_name, None)
        view = loaded.definition
        if not isinstance(view, FeatureView):
            raise InvalidInputError("view", f"{view_name} is an on-demand view; push to the "
                                    "views it reads", rule="features.push")
        table = self._push_table(view, events, recorded_at or self._clock())
        self._offline.append(view.name, table)
        frame = table.to_pandas()
        for namespace in self._online_namespaces(view.name):
            target = self._load(*_split_ref(namespace)).definition
            assert isinstance(target, FeatureView)  # noqa: S101 - namespaces are stored views
            self._push_online(target, namespace, frame)
        return len(frame)

    def skew_check(self, view_name: str, *, sample: int = 100, at: datetime | None = None,
                   seed: int = 0) -> SkewReport:
        """Compute a sample of entities offline and online at the same time; list mismatches."""
        moment = at or self._clock()
        version = self.version(view_name)
        definition = self._load(version.name, version.number).definition
        if not isinstance(definition, FeatureView):
            raise InvalidInputError("view", f"{view_name} is an on-demand view; check the "
                                    "views it reads", rule="features.skew_check")
        refs = [f"{version.ref}:{name}" for name in definition.feature_names]
        keys = self._offline.sample_keys(definition, sample, seed).to_pandas()
        report = SkewReport(view=version.ref, at=utc_timestamp(moment), entities=len(keys),
                            features=list(definition.feature_names))
        if keys.empty:
            return report
        entity_df = keys.assign(**{EVENT_TIMESTAMP: pd.Timestamp(moment)})
        offline = self.get_historical_features(entity_df, refs)
        assert isinstance(offline, pd.DataFrame)  # noqa: S101 - output="pandas"
        online = self.get_online_features(keys.to_dict(orient="records"), refs, at=moment)
        for index, online_row in enumerate(online.rows):
            label = entity_key(definition, online_row)
            for name in definition.feature_names:
                expected, served = _python(offline[name].iloc[index]), online_row[name]
                if not _same(expected, served):
                    report.mismatches.append(Mismatch(entity=label, feature=name,
                                                      offline=expected, online=served))
        return report

    def refresh(self) -> None:
        """Forget which version is latest; the next reference re-reads it."""
        self._latest.clear()
        self._plans.clear()

    # -- internals ----------------------------------------------------------------------

    def _spec(self, definition: Definition,
              planned: Mapping[str, FeatureViewVersion]) -> dict[str, Any]:
        if isinstance(definition, FeatureView):
            self._offline.check_source(definition)
            return definition.spec()
        pinned = []
        for text in definition.sources:
            ref = parse_feature_ref(text)
            if ref.number is None and ref.view in planned:
                ref = FeatureRef(view=ref.view, feature=ref.feature,
                                 number=planned[ref.view].number)
            pinned.append(self._resolve_one(ref, planned).pinned)
        spec = definition.spec_with(function_code(definition))
        spec["sources"] = pinned
        return spec

    def _resolve_one(self, ref: FeatureRef,
                     planned: Mapping[str, FeatureViewVersion] | None = None,
                     ) -> ResolvedFeature:
        if planned and ref.view in planned and ref.number == planned[ref.view].number:
            version = planned[ref.view]
            names = list(_output_names(version.spec))
        else:
            loaded = self._load(ref.view, ref.number)
            version, names = loaded.version, list(loaded.definition.feature_names)
        if ref.feature not in names:
            raise NotFoundError("feature", ref.text, f"{version.ref} has: {', '.join(names)}.")
        return ResolvedFeature(ref=ref.text, view=version.name, number=version.number,
                               digest=version.digest, feature=ref.feature)

    def _load(self, name: str, number: int | None) -> _Loaded:
        if number is None:
            number = self._latest.get(name)
            if number is None:
                with self._metadata.reading() as tx:
                    number = tx.features.latest(name).number
                self._latest[name] = number
        cached = self._loaded.get((name, number))
        if cached is not None:
            return cached
        with self._metadata.reading() as tx:
            version = tx.features.get(name, number)
            require_recorded_definition(tx, version)  # before any of its code runs
        if definition_digest(version.spec) != version.digest:
            raise ArtifactIntegrityError(version.digest, definition_digest(version.spec),
                                         f"feature view {version.ref}")
        definition: Definition = (
            on_demand_from_spec(version.spec, version.labels) if version.kind == "on_demand"
            else view_from_spec(version.spec, version.labels))
        loaded = _Loaded(version, definition)
        self._loaded[(name, number)] = loaded
        return loaded

    def _plan(self, resolved: Sequence[ResolvedFeature]) -> _Plan:
        plan = _Plan()
        requested = {r.feature for r in resolved}
        for item in resolved:
            definition = self._load(item.view, item.number).definition
            if isinstance(definition, OnDemandFeatureView):
                if definition not in plan.on_demand:
                    plan.on_demand.append(definition)
                for source in self.resolve(list(definition.sources)):
                    if source.feature not in requested:
                        plan.hidden.add(source.feature)
                    plan.add(self._load(source.view, source.number), source.feature)
                continue
            plan.add(self._load(item.view, item.number), item.feature)
        plan.hidden -= requested
        return plan

    def _entity_table(self, entity_df: pd.DataFrame | pa.Table, plan: _Plan) -> pa.Table:
        frame = entity_df.to_pandas() if isinstance(entity_df, pa.Table) else entity_df
        if not isinstance(frame, pd.DataFrame):
            raise InvalidInputError("entity_df", "must be a pandas DataFrame or an Arrow table",
                                    rule="features.entity_df")
        needed = {EVENT_TIMESTAMP: "the time of each row"}
        for view, _ in plan.stored:
            needed.update(dict.fromkeys(view.join_keys, f"join key of {view.name}"))
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
        table = pa.Table.from_pandas(frame.assign(**{EVENT_TIMESTAMP: moments}),
                                     preserve_index=False)
        return table.append_column(ENTITY_ROW, pa.array(np.arange(len(frame)), pa.int64())) \
            .append_column(ENTITY_TIME, pa.array(
                moments.to_numpy(dtype="datetime64[us]").astype("int64"), pa.int64()))

    def _windowed_offline(self, entity: pa.Table, view: FeatureView,
                          late_corrections: bool) -> dict[str, list[Any]]:
        events = self._offline.events_for_rows(entity, view, late_corrections=late_corrections)
        columns = [f.name for f in view.schema]
        rows = events.column(ENTITY_ROW).to_pylist()
        times = entity.column(ENTITY_TIME).to_pylist()
        event_us, created_us = events.column("_e").to_pylist(), events.column("_c").to_pylist()
        values = list(zip(*(events.column(c).to_pylist() for c in columns), strict=True)) \
            if columns else [()] * len(rows)
        grouped: dict[int, list[Event]] = {}
        for row, e, c, vals in zip(rows, event_us, created_us, values, strict=True):
            grouped.setdefault(row, []).append(Event(e, c, tuple(vals)))
        results: dict[str, list[Any]] = {name: [] for name in view.feature_names}
        for row, at_us in enumerate(times):
            computed = aggregate(grouped.get(row, []), at_us, view.aggregations, columns,
                                 late_corrections=late_corrections)
            for name, value in zip(view.feature_names, computed, strict=True):
                results[name].append(value)
        return results

    def _stored_views(self, names: Sequence[str] | None) -> list[_Loaded]:
        refs = names if names is not None else sorted({v.name for v in self.versions()})
        loaded = [self._load(*_split_ref(ref)) for ref in refs]
        return [item for item in loaded if isinstance(item.definition, FeatureView)]

    def _materialize_view(self, loaded: _Loaded, start_us: int | None, end_us: int,
                          actor: str, progress: Progress | None) -> MaterializeResult:
        view = loaded.definition
        assert isinstance(view, FeatureView)  # noqa: S101 - _stored_views filters
        ref = loaded.version.ref
        batches = (self._offline.event_payloads if view.is_windowed
                   else self._offline.latest_payloads)(view, start_us=start_us, end_us=end_us)
        written = 0
        for batch in batches:
            written += self._online.write(ref, batch)
            if progress is not None:
                progress(ref, written)
        end = utc_timestamp(_from_us(end_us))
        start = None if start_us is None else utc_timestamp(_from_us(start_us))
        with self._metadata.transaction() as tx:
            tx.features.save_watermark(ref, end)
            tx.audit.record(actor, "feature_view.materialized", f"feature_view:{ref}",
                            {"start": start, "end": end, "entities": written,
                             "online_store": self._online.describe()})
        return MaterializeResult(view=ref, entities=written, start=start, end=end)

    def _online_namespaces(self, name: str) -> list[str]:
        latest = self._load(name, None).version.ref
        with self._metadata.reading() as tx:
            refs = [v.ref for v in tx.features.all() if v.name == name
                    and tx.features.watermark(v.ref) is not None]
        return sorted({*refs, latest})

    def _push_table(self, view: FeatureView, events: pd.DataFrame,
                    recorded_at: datetime) -> pa.Table:
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

    def _push_online(self, view: FeatureView, namespace: str, frame: pd.DataFrame) -> None:
        source = view.source
        created = source.created_timestamp_column or source.timestamp_field
        columns = [f.name for f in view.schema]
        by_key: dict[str, list[Event]] = {}
        for record in frame.to_dict(orient="records"):
            event = Event(epoch_us(record[source.timestamp_field].to_pydatetime()),
                          epoch_us(record[created].to_pydatetime()),
                          tuple(_python(record[c]) for c in columns))
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


@dataclass
class _Plan:
    """Which stored views and features a retrieval reads, and what it computes on demand."""

    features: dict[str, list[str]] = field(default_factory=dict)
    views: dict[str, FeatureView] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    on_demand: list[OnDemandFeatureView] = field(default_factory=list)
    hidden: set[str] = field(default_factory=set)

    def add(self, loaded: _Loaded, feature: str) -> None:
        view = loaded.definition
        assert isinstance(view, FeatureView)  # noqa: S101 - callers pass stored views
        if self.refs.setdefault(view.name, loaded.version.ref) != loaded.version.ref:
            raise InvalidInputError("features", f"{self.refs[view.name]} and "
                                    f"{loaded.version.ref} both requested; read one version "
                                    "of a view at a time", rule="features.one_version")
        self.views[view.name] = view
        names = self.features.setdefault(view.name, [])
        if feature not in names:
            names.append(feature)

    @property
    def stored(self) -> list[tuple[FeatureView, list[str]]]:
        return [(self.views[name], names) for name, names in self.features.items()]


def _run_on_demand(view: OnDemandFeatureView, frame: pd.DataFrame) -> pd.DataFrame:
    result = view.function(frame.copy())
    missing = [n for n in view.feature_names if n not in result]
    if not isinstance(result, pd.DataFrame) or missing:
        raise InvalidInputError(f"on-demand feature view {view.name}", "its function must "
                                f"return a DataFrame with columns {list(view.feature_names)}; "
                                f"missing {missing}", rule="features.on_demand_output")
    return result


def _check_request_fields(view: OnDemandFeatureView, columns: Iterable[str]) -> None:
    missing = [f.name for f in view.request_fields if f.name not in set(columns)]
    if missing:
        raise InvalidInputError("entity_rows", f"lack request fields {missing} of "
                                f"{view.name}", rule="features.request_fields")


def _output_names(spec: Mapping[str, Any]) -> list[str]:
    """The features a stored spec gives: its aggregates when windowed, else its schema."""
    if spec.get("aggregations"):
        return [a["name"] for a in spec["aggregations"]]
    return [f["name"] for f in spec["schema"]]


def _python(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _same(offline: Any, online: Any) -> bool:
    if offline is None or online is None:
        return offline is None and online is None
    if isinstance(offline, bool | np.bool_) or isinstance(online, bool):
        return bool(offline) == bool(online)
    if isinstance(offline, int | float) and isinstance(online, int | float):
        return float(offline) == float(online)
    return bool(offline == online)


def _split_ref(ref: str) -> tuple[str, int | None]:
    name, _, number = ref.partition("@")
    return name, int(number) if number else None


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _from_us(value: int) -> datetime:
    return datetime.fromtimestamp(value // MICROS, UTC).replace(microsecond=value % MICROS)
