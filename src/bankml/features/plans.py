"""Retrieval plans: which stored view versions a request reads, and what it computes.

A plan depends only on pinned references (`view@N:feature`), which never change, so
plans are kept in a bounded LRU keyed by them and shared by offline and online reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bankml.core.errors import InvalidInputError
from bankml.core.features import FeatureView, OnDemandFeatureView, ResolvedFeature
from bankml.features.caches import LruCache
from bankml.features.catalog import FeatureCatalog, LoadedView

PLANS = 256  # distinct pinned feature lists planned; a plan is a few hundred bytes per feature


@dataclass(frozen=True, slots=True)
class StoredRead:
    """One stored view version a retrieval reads, and the features asked of it.

    `indexes` holds each feature's position in `view.feature_names`: in a plain view's
    schema, or among a windowed view's aggregates.
    """

    namespace: str  # name@N: the version, and its namespace in the online store
    view: FeatureView
    features: tuple[str, ...]
    indexes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class RetrievalPlan:
    """Stored reads in request order, on-demand views to run after them, and the stored
    features that on-demand views need but the request did not ask for (`hidden`)."""

    stored: tuple[StoredRead, ...]
    on_demand: tuple[OnDemandFeatureView, ...]
    hidden: frozenset[str]

    @property
    def plain(self) -> tuple[StoredRead, ...]:
        return tuple(read for read in self.stored if not read.view.is_windowed)

    @property
    def windowed(self) -> tuple[StoredRead, ...]:
        return tuple(read for read in self.stored if read.view.is_windowed)


class Planner:
    """Plans of pinned feature lists, at most `size` kept (least recently used go)."""

    def __init__(self, catalog: FeatureCatalog, *, size: int = PLANS) -> None:
        self._catalog = catalog
        self._plans: LruCache[tuple[str, ...], RetrievalPlan] = LruCache(size)

    def plan(self, resolved: Sequence[ResolvedFeature]) -> RetrievalPlan:
        key = tuple(r.pinned for r in resolved)
        plan = self._plans.get(key)
        if plan is None:
            plan = build_plan(self._catalog, resolved)
            self._plans.put(key, plan)
        return plan

    def __len__(self) -> int:
        return len(self._plans)


def build_plan(catalog: FeatureCatalog, resolved: Sequence[ResolvedFeature]) -> RetrievalPlan:
    """The plan of `resolved`. Raises InvalidInputError when two versions of a view are
    asked for at once (directly or through on-demand views)."""
    requested = {r.feature for r in resolved}
    reads: dict[str, tuple[LoadedView, list[str]]] = {}
    on_demand: list[OnDemandFeatureView] = []
    hidden: set[str] = set()

    def add(loaded: LoadedView, feature: str) -> None:
        earlier, names = reads.setdefault(loaded.version.name, (loaded, []))
        if earlier.ref != loaded.ref:
            raise InvalidInputError("features", f"{earlier.ref} and {loaded.ref} both "
                                    "requested; read one version of a view at a time",
                                    rule="features.one_version")
        if feature not in names:
            names.append(feature)

    for item in resolved:
        definition = catalog.load(item.view, item.number).definition
        if isinstance(definition, OnDemandFeatureView):
            if definition not in on_demand:
                on_demand.append(definition)
            for source in catalog.resolve(list(definition.sources)):  # pinned when applied
                if source.feature not in requested:
                    hidden.add(source.feature)
                add(catalog.load(source.view, source.number), source.feature)
            continue
        add(catalog.load(item.view, item.number), item.feature)
    stored = []
    for loaded, names in reads.values():
        view = loaded.definition
        assert isinstance(view, FeatureView)  # noqa: S101 - on-demand views are not stored
        stored.append(StoredRead(namespace=loaded.ref, view=view, features=tuple(names),
                                 indexes=tuple(view.feature_names.index(n) for n in names)))
    return RetrievalPlan(stored=tuple(stored), on_demand=tuple(on_demand),
                         hidden=frozenset(hidden - requested))
