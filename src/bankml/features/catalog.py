"""Feature view definitions: apply, list, and pin references to exact versions."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bankml.access import acting, require
from bankml.audit.recorded import require_recorded_definition
from bankml.core.canonical import utc_timestamp
from bankml.core.errors import ArtifactIntegrityError, InvalidInputError, NotFoundError
from bankml.core.features import (
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
from bankml.core.identity import Permission, Principal
from bankml.core.ports import MetadataStore, OfflineEngine
from bankml.features.caches import LatestVersions, LruCache
from bankml.features.definitions import (
    function_code,
    load_definitions,
    on_demand_from_spec,
    view_from_spec,
)
from bankml.features.results import ApplyResult

LOADED_VIEWS = 512  # rebuilt definitions kept, by (name, number); each is a few KiB


@dataclass(frozen=True, slots=True)
class LoadedView:
    """A stored version and the definition rebuilt from its verified spec."""

    version: FeatureViewVersion
    definition: Definition

    @property
    def ref(self) -> str:
        return self.version.ref


class FeatureCatalog:
    """Applied definitions, one version per distinct spec, and references pinned to them.

    Which version is latest is read from the metadata database, so a view applied by
    another process is seen at once; callers on a hot path may accept an answer up to
    `max_age_s` old. Definitions are rebuilt once per version and kept in an LRU of
    `loaded_views` entries.
    """

    def __init__(self, metadata: MetadataStore, offline: OfflineEngine, *,
                 clock: Callable[[], datetime],
                 monotonic: Callable[[], float] = time.monotonic,
                 loaded_views: int = LOADED_VIEWS) -> None:
        self._metadata, self._offline, self._clock = metadata, offline, clock
        self._latest = LatestVersions(metadata, monotonic=monotonic)
        self._loaded: LruCache[tuple[str, int], LoadedView] = LruCache(loaded_views)

    def apply(self, by: Principal, definitions: Path | str | Sequence[Definition]
              ) -> list[ApplyResult]:
        """Record each definition as a new version unless its latest version is identical.

        Every definition is checked (source against schema, references of on-demand views)
        before anything is written; one audit event per definition, in one transaction.
        """
        # before a definitions file is imported: importing it runs its code
        require(self._metadata, by, Permission.FEATURES_APPLY, "feature_views")
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
        actor = by.name
        with acting(self._metadata, by, Permission.FEATURES_APPLY, "feature_views") as tx:
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
                tx.audit.record(actor, "feature_view.applied",
                                f"feature_view:{version.ref}",
                                {"digest": digest, "new_version": True,
                                 "kind": version.kind,
                                 "features": list(definition.feature_names)})
                planned[definition.name] = version
                results.append(ApplyResult(name=version.name, number=version.number,
                                           digest=digest, created=True))
        self.forget_latest()  # this process reads its own apply at once, hot path too
        return results

    def versions(self, name: str | None = None) -> list[FeatureViewVersion]:
        with self._metadata.reading() as tx:
            every = tx.features.all()
        if name is not None and not any(v.name == name for v in every):
            raise NotFoundError("feature view", name, "List views with `bankml features list`.")
        return [v for v in every if name is None or v.name == name]

    def version(self, ref: str) -> FeatureViewVersion:
        """`name` (the latest) or `name@N`."""
        name, number = split_view_ref(ref)
        return self.load(name, number).version

    def definition(self, ref: str) -> Definition:
        """The definition of `name` or `name@N`, rebuilt from its stored spec."""
        name, number = split_view_ref(ref)
        return self.load(name, number).definition

    def resolve(self, refs: Sequence[str], *, max_age_s: float = 0.0) -> list[ResolvedFeature]:
        """Pin each `view[@N]:feature` to the exact view version and digest it reads.

        `view:feature` reads the latest version from the metadata database, or an answer
        at most `max_age_s` old. Raises NotFoundError for an unknown view, version or
        feature, and InvalidInputError when two references give the same feature name.
        """
        parsed = [parse_feature_ref(ref) for ref in refs]
        latest = self._latest.numbers([p.view for p in parsed if p.number is None],
                                      max_age_s=max_age_s)
        resolved = [self._resolve_one(p, latest.get(p.view, p.number)) for p in parsed]
        check_unique_outputs(resolved)
        return resolved

    def latest_number(self, name: str, *, max_age_s: float = 0.0) -> int:
        return self._latest.number(name, max_age_s=max_age_s)

    def load(self, name: str, number: int | None = None) -> LoadedView:
        """Version `number` of view `name` (the latest when None), with its definition.

        Raises NotFoundError, or ArtifactIntegrityError when the stored spec no longer
        hashes to its digest.
        """
        if number is None:
            number = self._latest.number(name)
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
        loaded = LoadedView(version, definition)
        self._loaded.put((name, number), loaded)
        return loaded

    def stored_views(self, names: Sequence[str] | None) -> list[LoadedView]:
        """The named plain and windowed views (`name` or `name@N`); every view's latest
        version when None. On-demand views are left out: nothing of theirs is stored."""
        refs = names if names is not None else sorted({v.name for v in self.versions()})
        loaded = [self.load(*split_view_ref(ref)) for ref in refs]
        return [item for item in loaded if isinstance(item.definition, FeatureView)]

    def forget_latest(self) -> None:
        """Read which version is latest from the database on the next call, hot path too."""
        self._latest.forget()

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
            if ref.view in planned and ref.number == planned[ref.view].number:
                pinned.append(_resolve_planned(ref, planned[ref.view]).pinned)
            else:
                pinned.append(self._resolve_one(ref, ref.number).pinned)
        spec = definition.spec_with(function_code(definition))
        spec["sources"] = pinned
        return spec

    def _resolve_one(self, ref: FeatureRef, number: int | None) -> ResolvedFeature:
        loaded = self.load(ref.view, number)
        version, names = loaded.version, loaded.definition.feature_names
        if ref.feature not in names:
            raise NotFoundError("feature", ref.text, f"{version.ref} has: {', '.join(names)}.")
        return ResolvedFeature(ref=ref.text, view=version.name, number=version.number,
                               digest=version.digest, feature=ref.feature)


def split_view_ref(ref: str) -> tuple[str, int | None]:
    """`name` -> (name, None); `name@3` -> (name, 3)."""
    name, _, number = ref.partition("@")
    if number and not number.isdigit():
        raise InvalidInputError("view", f"{ref!r}: write NAME or NAME@VERSION",
                                rule="features.ref")
    return name, int(number) if number else None


def _resolve_planned(ref: FeatureRef, version: FeatureViewVersion) -> ResolvedFeature:
    """A reference to a version applied in the same call, not yet readable by others."""
    names = _output_names(version.spec)
    if ref.feature not in names:
        raise NotFoundError("feature", ref.text, f"{version.ref} has: {', '.join(names)}.")
    return ResolvedFeature(ref=ref.text, view=version.name, number=version.number,
                           digest=version.digest, feature=ref.feature)


def _output_names(spec: Mapping[str, Any]) -> list[str]:
    """The features a stored spec gives: its aggregates when windowed, else its schema."""
    if spec.get("aggregations"):
        return [a["name"] for a in spec["aggregations"]]
    return [f["name"] for f in spec["schema"]]
