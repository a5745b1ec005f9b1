"""The feature store: one object over the parts that do the work.

- `catalog.FeatureCatalog`: apply definitions, list versions, pin references.
- `historical.HistoricalRetrieval`: point-in-time retrieval, training sets, profiles.
- `online.OnlineServing`: lookups in the online store.
- `materialization.Materialization`: materialise, incrementally too, and push.
- `skew.SkewCheck`: offline against online for a sample of entities.

They share one catalog (its caches) and one planner (plans of pinned feature lists).

The facade's methods are for interfaces: each takes the acting principal, and those that
change something or read feature values (personal data) check its permission. Services
that checked their own caller (training, decisions) read through `for_services`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa

from bankml.access import require
from bankml.core.features import Definition, FeatureViewVersion, ResolvedFeature
from bankml.core.identity import Permission, Principal
from bankml.core.ports import ArtifactStore, MetadataStore, OfflineEngine, OnlineStore
from bankml.features.catalog import FeatureCatalog
from bankml.features.historical import HistoricalRetrieval
from bankml.features.materialization import Materialization
from bankml.features.online import LATEST_MAX_AGE_S, OnlineServing
from bankml.features.plans import Planner
from bankml.features.progress import Progress
from bankml.features.results import (
    ApplyResult,
    MaterializeResult,
    OnlineFeatures,
    SkewReport,
    TrainingSet,
)
from bankml.features.skew import SkewCheck

__all__ = ["FeatureStore", "Progress", "ServiceReads"]


class FeatureStore:
    """Feature definitions with versions, offline retrieval, the online store, skew checks.

    `clock` gives the time features are read at by default; `monotonic` measures how old
    a cached answer to "which version is latest" is (lookups accept up to
    `latest_max_age_s`; everything else reads the metadata database).
    """

    def __init__(self, metadata: MetadataStore, offline: OfflineEngine, online: OnlineStore,
                 artifacts: ArtifactStore,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), *,
                 monotonic: Callable[[], float] = time.monotonic,
                 latest_max_age_s: float = LATEST_MAX_AGE_S) -> None:
        self._online, self._metadata = online, metadata
        self._service_reads = ServiceReads(self)
        self.catalog = FeatureCatalog(metadata, offline, clock=clock, monotonic=monotonic)
        self.planner = Planner(self.catalog)
        self.historical = HistoricalRetrieval(self.catalog, self.planner, offline, artifacts,
                                              metadata)
        self.serving = OnlineServing(self.catalog, self.planner, online, clock,
                                     latest_max_age_s=latest_max_age_s)
        self.materialization = Materialization(self.catalog, offline, online, metadata, clock)
        self.skew = SkewCheck(self.catalog, offline, self.historical, self.serving, clock)

    @property
    def online_store(self) -> str:
        return self._online.describe()

    # -- definitions --------------------------------------------------------------------

    @property
    def for_services(self) -> ServiceReads:
        """Reads for services that have checked their own caller's permission."""
        return self._service_reads

    def apply(self, by: Principal, definitions: Path | str | Sequence[Definition]
              ) -> list[ApplyResult]:
        """Record each definition as a new version unless its latest version is identical."""
        return self.catalog.apply(by, definitions)

    def versions(self, name: str | None = None) -> list[FeatureViewVersion]:
        return self.catalog.versions(name)

    def version(self, ref: str) -> FeatureViewVersion:
        """`name` (the latest) or `name@N`."""
        return self.catalog.version(ref)

    def definition(self, ref: str) -> Definition:
        """The definition of `name` or `name@N`, rebuilt from its stored spec."""
        return self.catalog.definition(ref)

    def resolve(self, refs: Sequence[str]) -> list[ResolvedFeature]:
        """Pin each `view[@N]:feature` to the exact view version and digest it reads."""
        return self.catalog.resolve(refs)

    def refresh(self) -> None:
        """Read which version is latest from the database at the next lookup too.

        Rarely needed: lookups see another process's apply within `latest_max_age_s`,
        everything else at once.
        """
        self.catalog.forget_latest()

    # -- offline ------------------------------------------------------------------------

    def get_historical_features(self, by: Principal, entity_df: pd.DataFrame | pa.Table,
                                features: Sequence[str], *, late_corrections: bool = False,
                                output: Literal["pandas", "arrow"] = "pandas",
                                progress: Progress | None = None,
                                ) -> pd.DataFrame | pa.Table:
        """Each entity row with the feature values known at its `event_timestamp`."""
        require(self._metadata, by, Permission.FEATURES_READ, "feature_views")
        return self.historical.get_historical_features(
            entity_df, features, late_corrections=late_corrections, output=output,
            progress=progress)

    def build_training_set(self, by: Principal, entity_df: pd.DataFrame,
                           features: Sequence[str], *, name: str,
                           late_corrections: bool = False) -> TrainingSet:
        """Historical features, stored as Parquet with each feature's profile as baseline."""
        return self.historical.build_training_set(by, entity_df, features, name=name,
                                                  late_corrections=late_corrections)

    def profile(self, digest: str) -> dict[str, Any]:
        """A stored profile, verified against its digest."""
        return self.historical.profile(digest)

    # -- online -------------------------------------------------------------------------

    def materialize(self, by: Principal, start: datetime | None = None,
                    end: datetime | None = None, *, views: Sequence[str] | None = None,
                    progress: Progress | None = None) -> list[MaterializeResult]:
        """Load into the online store the values known at `end` of entities with rows
        recorded in (start, end]; all entities when `start` is None."""
        return self.materialization.materialize(by, start, end, views=views,
                                                progress=progress)

    def materialize_incremental(self, by: Principal, end: datetime | None = None, *,
                                views: Sequence[str] | None = None,
                                progress: Progress | None = None) -> list[MaterializeResult]:
        """Materialise each view from its last watermark (from the start the first time)."""
        return self.materialization.materialize_incremental(by, end, views=views,
                                                            progress=progress)

    def get_online_features(self, by: Principal, entity_rows: Sequence[Mapping[str, Any]],
                            features: Sequence[str], *,
                            at: datetime | None = None) -> OnlineFeatures:
        """Feature values for each entity row from the online store."""
        require(self._metadata, by, Permission.FEATURES_READ, "feature_views")
        return self.serving.get_online_features(entity_rows, features, at=at)

    def push(self, by: Principal, view_name: str, events: pd.DataFrame, *,
             recorded_at: datetime | None = None) -> int:
        """Append rows to a view's offline data and bring the online store up to date."""
        return self.materialization.push(by, view_name, events, recorded_at=recorded_at)

    # -- skew ---------------------------------------------------------------------------

    def skew_check(self, by: Principal, view_name: str, *, sample: int = 100,
                   at: datetime | None = None, seed: int = 0) -> SkewReport:
        """Compute a sample of entities offline and online at the same time; list mismatches."""
        require(self._metadata, by, Permission.FEATURES_READ, f"feature_view:{view_name}")
        return self.skew.skew_check(view_name, sample=sample, at=at, seed=seed)


class ServiceReads:
    """What training and decisions read from the feature store, once they checked their
    own caller: pinning refs, point-in-time rows, online values."""

    def __init__(self, store: FeatureStore) -> None:
        self._store = store

    def resolve(self, refs: Sequence[str]) -> list[ResolvedFeature]:
        return self._store.catalog.resolve(refs)

    def get_historical_features(self, entity_df: Any, features: Sequence[str]) -> Any:
        return self._store.historical.get_historical_features(entity_df, features)

    def get_online_features(self, entity_rows: Sequence[Mapping[str, Any]],
                            features: Sequence[str], *,
                            at: datetime | None = None) -> OnlineFeatures:
        return self._store.serving.get_online_features(entity_rows, features, at=at)
