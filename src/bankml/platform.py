"""The composition root: the only place that picks concrete adapters."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from bankml.audit import AuditTrail
from bankml.core.ports import OnlineStore
from bankml.features import FeatureStore
from bankml.governance import Identity, Oversight
from bankml.governance.policy_files import load_access_policy, load_policies
from bankml.registry import Registry
from bankml.reports.service import Reports
from bankml.serving import DecisionLogWriter, DecisionService, EndpointCatalog, Runtime
from bankml.settings import Settings, load_settings
from bankml.stores.artifacts import FsspecArtifactStore
from bankml.stores.offline import DuckDbOfflineEngine
from bankml.stores.online import RedisOnlineStore, SqliteOnlineStore
from bankml.stores.sql import SqlMetadataStore
from bankml.training import Trainer
from bankml.training.allowlist import EstimatorAllowlist
from bankml.training.environment import describe_code
from bankml.validation.runs import Validation

KEY_BYTES = 32


class Platform:
    """Settings wired to stores and services. Open one per process and share it."""

    def __init__(self, settings: Settings, metadata: SqlMetadataStore,
                 artifacts: FsspecArtifactStore, pseudonym_key: bytes,
                 online: OnlineStore) -> None:
        self.settings = settings
        self.metadata = metadata
        self.artifacts = artifacts
        access = load_access_policy(settings.policies)
        self.identity = Identity(metadata, access)
        self.audit = AuditTrail(metadata)
        self.registry = Registry(metadata, artifacts)
        self.online = online
        self.features = FeatureStore(
            metadata, DuckDbOfflineEngine(settings.resolved_offline_folder), online, artifacts)
        estimators = EstimatorAllowlist(frozenset(settings.estimator_allowlist))
        self.training = Trainer(metadata, self.registry, artifacts,
                                datasets_dir=settings.datasets, features=self.features.for_services,
                                estimator_allowlist=estimators)
        self.endpoints = EndpointCatalog(metadata, self.registry)
        self.decision_log = DecisionLogWriter(metadata)
        self.decisions = DecisionService(
            metadata, self.registry, runtime=Runtime(metadata, self.registry, artifacts),
            features=self.features.for_services, log=self.decision_log,
            pseudonym_key=pseudonym_key, code_version=describe_code())
        self.validation = Validation(metadata, self.registry, artifacts,
                                     datasets_dir=settings.datasets,
                                     estimator_allowlist=estimators)
        self.oversight = Oversight(metadata, load_policies(settings.policies), access)
        self.reports = Reports(self.validation, self.registry, self.oversight,
                               folder=settings.home / "reports")

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *,
                      online: OnlineStore | None = None) -> Self:
        """Open the stores the settings name, creating the embedded home when needed.

        `online` replaces the online store the settings name (tests keep Redis keys apart).
        """
        settings = settings or load_settings()
        settings.home.mkdir(parents=True, exist_ok=True)
        metadata = SqlMetadataStore(settings.resolved_metadata_url)
        try:
            if settings.auto_migrate:
                metadata.migrate()
            else:  # a bank that migrates on its own schedule gets told, not surprised
                metadata.check_current()
        except BaseException:
            metadata.close()  # no pooled connection outlives a platform that never opened
            raise
        artifacts = FsspecArtifactStore(settings.resolved_artifacts_uri)
        return cls(settings, metadata, artifacts, _pseudonym_key(settings.pseudonym_key_path),
                   online or open_online_store(settings.resolved_online_url))

    @classmethod
    def open(cls, home: Path | str, *, online: OnlineStore | None = None,
             **overrides: Any) -> Self:
        """A platform on `home` (tests, notebooks); other settings from `overrides`."""
        return cls.from_settings(load_settings(home=Path(home), **overrides), online=online)

    def close(self) -> None:
        self.decision_log.close()
        self.online.close()
        self.metadata.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def open_online_store(url: str, *, prefix: str = "bankml:") -> OnlineStore:
    """SQLite for `sqlite:///PATH`, Redis for `redis://...`; keys under `prefix` on Redis."""
    if url.startswith("sqlite:///"):
        return SqliteOnlineStore(Path(url.removeprefix("sqlite:///")))
    return RedisOnlineStore(url, prefix=prefix)


def _pseudonym_key(path: Path) -> bytes:
    """The HMAC key for customer ids: created once, readable by its owner alone."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(secrets.token_bytes(KEY_BYTES))
    key = path.read_bytes()
    if len(key) < KEY_BYTES:
        raise ValueError(f"{path} holds a key shorter than {KEY_BYTES} bytes")
    return key
