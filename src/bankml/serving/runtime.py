"""Endpoints loaded for serving: the champion's model, its inputs, policy and explainer.

Everything a decision needs is prepared once and cached. Artifacts are immutable, so a
loaded model is kept by its sha256 (verified once, when it is first loaded) and an
explainer by the model and background digests. Which endpoint version and which champion
are current is read again at most every `max_age_s` seconds, so a newly applied endpoint
or a promoted champion reaches every worker within that time.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from bankml.core.canonical import canonical_json
from bankml.core.decisions import DecisionPolicy
from bankml.core.endpoints import Endpoint, EndpointVersion, Mode
from bankml.core.errors import BankmlError, ConflictError
from bankml.core.ports import ArtifactStore, MetadataStore
from bankml.core.registry import ModelVersion
from bankml.core.rollouts import Rollout
from bankml.explain import Explainer, Method, ReasonCatalogue, explainer_for, load_catalogue
from bankml.explain.background import sample_background
from bankml.features.caches import LruCache
from bankml.registry import Registry
from bankml.serving.endpoints import champion_of
from bankml.serving.inputs import RequestSchema, feature_inputs, request_schema
from bankml.serving.scoring import Scorer, scorer_for

MAX_AGE_S = 2.0  # how stale "which version is current" may be in one worker
MODELS = 64  # loaded artifacts kept per process
BACKGROUND_ROWS, BACKGROUND_SEED = 200, 0  # the reference rows reasons are measured from


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadedEndpoint:
    """One endpoint version bound to the champion it serves, ready to decide."""

    version: EndpointVersion
    endpoint: Endpoint
    model_version: ModelVersion
    model: Any  # ScoringModel or a scikit-learn classifier: predict_proba(frame)
    schema: RequestSchema
    features: dict[str, str]  # model input -> pinned ref read from the online store
    policy: DecisionPolicy
    policy_json: str  # what every record of this version keeps of its policy, made once
    catalogue: ReasonCatalogue | None
    explainer: Explainer | None
    scorer: Scorer

    @property
    def inputs(self) -> list[str]:
        return self.model_version.inputs


@dataclass(frozen=True, slots=True, kw_only=True)
class Routing:
    """An endpoint's active rollout and its challenger, loaded to decide."""

    rollout: Rollout
    challenger: LoadedEndpoint


@dataclass(slots=True)
class _Entry:
    loaded: LoadedEndpoint
    checked: float


@dataclass(slots=True)
class _Routes:
    routing: Routing | None
    checked: float


class Runtime:
    """The loaded endpoints of one process."""

    def __init__(self, metadata: MetadataStore, registry: Registry, artifacts: ArtifactStore,
                 *, max_age_s: float = MAX_AGE_S,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._metadata, self._registry, self._artifacts = metadata, registry, artifacts
        self._max_age_s, self._monotonic = max_age_s, monotonic
        self._entries: dict[str, _Entry] = {}
        self._routes: dict[str, _Routes] = {}
        self._models: LruCache[str, Any] = LruCache(MODELS)
        self._explainers: LruCache[tuple[str, str, str], Explainer] = LruCache(MODELS)

    def endpoint(self, name: str) -> LoadedEndpoint:
        """The endpoint as it is now (at most `max_age_s` old in this process)."""
        entry = self._entries.get(name)
        now = self._monotonic()
        if entry is not None and now - entry.checked < self._max_age_s:
            return entry.loaded
        with self._metadata.reading() as tx:
            version = tx.endpoints.latest(name)
        champion = champion_of(self._registry, version.endpoint.model)
        if (entry is not None and entry.loaded.version.digest == version.digest
                and entry.loaded.model_version.ref == champion.ref):
            entry.checked = now
            return entry.loaded
        loaded = self._load(version, champion)
        self._entries[name] = _Entry(loaded, now)
        return loaded

    def load_all(self) -> dict[str, str]:
        """Load every endpoint now, each with its champion, so that no caller's first
        decision waits for a model to load (`bankml serve` at start-up, before it is
        ready). Returns the endpoints that could not load, with why: they answer that
        error when called, as they would have anyway."""
        with self._metadata.reading() as tx:
            names = sorted({version.name for version in tx.endpoints.all()})
        failed = {}
        for name in names[:MODELS]:  # more would only push the first ones out again
            try:
                self.endpoint(name)
            except BankmlError as error:
                failed[name] = str(error)
        return failed

    def forget(self, name: str) -> None:
        """Read the endpoint again at its next use (an operator changed it just now)."""
        self._entries.pop(name, None)
        self._routes.pop(name, None)

    def routing(self, loaded: LoadedEndpoint) -> Routing | None:
        """The endpoint's active rollout with its challenger loaded (at most `max_age_s`
        old in this process), or None: every decision goes to the champion."""
        name = loaded.version.name
        known = self._routes.get(name)
        now = self._monotonic()
        if known is not None and now - known.checked < self._max_age_s:
            return known.routing
        with self._metadata.reading() as tx:
            rollout = tx.rollouts.active(name)
        routing = None
        if rollout is not None and rollout.champion == loaded.model_version.number:
            if (known is not None and known.routing is not None
                    and known.routing.rollout == rollout
                    and known.routing.challenger.version == loaded.version):
                routing = known.routing
            else:
                challenger = self._registry.get(rollout.challenger_ref)
                routing = Routing(rollout=rollout,
                                  challenger=self._load(loaded.version, challenger))
        self._routes[name] = _Routes(routing, now)
        return routing

    def load_version(self, version: EndpointVersion, model_version: ModelVersion
                     ) -> LoadedEndpoint:
        """A given endpoint version with a given model version (replays use this)."""
        return self._load(version, model_version)

    def model(self, version: ModelVersion) -> Any:
        found = self._models.get(version.artifact_sha256)
        if found is None:
            found = self._registry.load(version)  # digest checked here, once
            self._models.put(version.artifact_sha256, found)
        return found

    def _load(self, version: EndpointVersion, champion: ModelVersion) -> LoadedEndpoint:
        endpoint = version.endpoint
        catalogue = explainer = None
        if endpoint.reasons is not None:
            catalogue = load_catalogue(endpoint.reasons.catalogue, inputs=champion.inputs)
            explainer = self._explainer(champion)
        model = self.model(champion)
        policy = endpoint.policy(version.policy_version)
        return LoadedEndpoint(
            version=version, endpoint=endpoint, model_version=champion, model=model,
            schema=request_schema(champion, endpoint.entity,
                                  endpoint.monitoring_attributes),
            features=feature_inputs(champion), policy=policy,
            policy_json=canonical_json({**policy.describe(), "kind": str(policy.kind),
                                        "review": endpoint.mode == Mode.HUMAN_REVIEW}),
            catalogue=catalogue, explainer=explainer,
            scorer=scorer_for(model, champion.inputs, explainer))

    def _explainer(self, version: ModelVersion) -> Explainer:
        """Contributions measured from a seeded sample of the version's own training rows."""
        snapshot = None if version.manifest is None else version.manifest.dataset_snapshot_sha256
        if not snapshot:
            raise ConflictError(f"{version.ref} keeps no dataset snapshot, so reasons cannot "
                                "be measured against its training rows; serve it without a "
                                "reason catalogue, or register it with its snapshot.",
                                rule="endpoint.reasons_background")
        key = (version.artifact_sha256, snapshot, f"{BACKGROUND_ROWS}:{BACKGROUND_SEED}")
        found = self._explainers.get(key)
        if found is None:
            rows = pd.read_parquet(io.BytesIO(self._artifacts.get(snapshot)))
            background = sample_background(rows[version.inputs], rows=BACKGROUND_ROWS,
                                           seed=BACKGROUND_SEED)
            model = self.model(version)
            estimator = getattr(model, "estimator", model)
            method = Method.LIGHTGBM if type(estimator).__name__ == "Booster" else None
            found = explainer_for(model, background, features=version.inputs, method=method)
            self._explainers.put(key, found)
        return found
