"""The composition root: the only place that picks concrete adapters."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.queues import Queue
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from bankml.audit import AuditTrail
from bankml.audit.anchors import Anchoring
from bankml.core.identity import automation
from bankml.core.monitoring import MonitoringRun
from bankml.core.ports import OnlineStore
from bankml.features import FeatureStore
from bankml.governance import Identity, Oversight
from bankml.governance.policy_files import load_access_policy, load_policies
from bankml.housekeeping import ArtifactCollection
from bankml.keys import installation_key
from bankml.monitoring.alerts import AlertDesk
from bankml.monitoring.labels import GroundTruth
from bankml.monitoring.policy import MonitoringPolicy, load_policy
from bankml.monitoring.runs import Monitor
from bankml.monitoring.schedule import Cron, LeaderSchedule
from bankml.monitoring.webhooks import Webhooks
from bankml.registry import Registry
from bankml.reports.service import Reports
from bankml.retraining import Retrainer
from bankml.review import WeeklyReviews
from bankml.rollouts import Controller, RolloutService
from bankml.serving import DecisionLogWriter, DecisionService, EndpointCatalog, Runtime
from bankml.serving.shadow_process import ShadowProcess, serve_shadow, yield_to_the_champion
from bankml.settings import Settings, load_settings
from bankml.stores.artifacts import FsspecArtifactStore
from bankml.stores.offline import DuckDbOfflineEngine
from bankml.stores.online import RedisOnlineStore, SqliteOnlineStore
from bankml.stores.sql import SqlMetadataStore
from bankml.stores.sql.engine import Timeouts
from bankml.training import Trainer
from bankml.training.allowlist import EstimatorAllowlist
from bankml.training.environment import describe_code
from bankml.validation.runs import Validation


@dataclass(frozen=True, slots=True, kw_only=True)
class Keys:
    """The installation's secret keys, none of them kept in the metadata database."""

    pseudonym: bytes  # HMAC of customer ids in decision records
    anchor: bytes  # HMAC seal of audit anchors

    @classmethod
    def from_settings(cls, settings: Settings) -> Keys:
        return cls(
            pseudonym=installation_key(setting="PSEUDONYM_KEY", value=settings.pseudonym_key,
                                       file=settings.pseudonym_key_file,
                                       default_file=settings.pseudonym_key_path),
            anchor=installation_key(setting="ANCHOR_KEY", value=settings.anchor_key,
                                    file=settings.anchor_key_file,
                                    default_file=settings.anchor_key_path))


class Platform:
    """Settings wired to stores and services. Open one per process and share it.

    `clock` times decisions and outcomes; only simulations (the demo's weeks of traffic,
    drills) pass their own: `bankml serve` always runs on the wall clock.
    """

    def __init__(self, settings: Settings, metadata: SqlMetadataStore,
                 artifacts: FsspecArtifactStore, keys: Keys, online: OnlineStore, *,
                 clock: Callable[[], datetime] | None = None,
                 shadow_process: bool = False) -> None:
        clock = clock or wall_clock
        self.settings = settings
        self.metadata = metadata
        self.artifacts = artifacts
        access = load_access_policy(settings.policies)
        self.identity = Identity(metadata, access)
        anchoring = Anchoring(metadata, artifacts, artifacts, keys.anchor,
                              interval_s=settings.anchor_interval_s)
        metadata.after_commit(anchoring.anchor_if_due)
        self.audit = AuditTrail(metadata, anchoring)
        self.registry = Registry(metadata, artifacts)
        self.online = online
        self.features = FeatureStore(
            metadata, DuckDbOfflineEngine(settings.resolved_offline_folder), online, artifacts)
        estimators = EstimatorAllowlist(frozenset(settings.estimator_allowlist))
        self.training = Trainer(metadata, self.registry, artifacts,
                                datasets_dir=settings.datasets, features=self.features.for_services,
                                estimator_allowlist=estimators)
        self.endpoints = EndpointCatalog(metadata, self.registry)
        self.decision_log = DecisionLogWriter(metadata, clock)
        self.decisions = DecisionService(
            metadata, self.registry, runtime=Runtime(metadata, self.registry, artifacts),
            features=self.features.for_services, log=self.decision_log,
            pseudonym_key=keys.pseudonym, code_version=describe_code(), clock=clock,
            shadow_process=ShadowProcess(shadow_child, settings) if shadow_process else None)
        self.labels = GroundTruth(metadata, pseudonym_key=keys.pseudonym, clock=clock)
        self.validation = Validation(metadata, self.registry, artifacts,
                                     datasets_dir=settings.datasets,
                                     estimator_allowlist=estimators)
        self.oversight = Oversight(metadata, load_policies(settings.policies), access)
        self.alerts = AlertDesk(metadata, Webhooks(
            settings.alert_webhooks, attempts=settings.alert_webhook_attempts,
            backoff_s=settings.alert_webhook_backoff_s), on_resolved=self.oversight.reconsider)
        self.monitor = Monitor(metadata, self.registry, self.validation, self.alerts,
                               policy=load_policy(settings.monitor_policy),
                               worker=MonitorInWorker(settings))
        self.reports = Reports(self.validation, self.registry, self.oversight,
                               folder=settings.home / "reports")
        # on the wall clock, as alerts are: open items are judged on the day it is
        self.weekly = WeeklyReviews(metadata, artifacts, self.registry, self.oversight,
                                    folder=settings.home / "reports")
        self.artifact_gc = ArtifactCollection(metadata, artifacts)
        self.rollouts = RolloutService(
            metadata, self.registry, endpoints=self.endpoints, oversight=self.oversight,
            alerts=self.alerts, validation=self.validation, runtime=self.decisions.runtime)

        self.retraining = Retrainer(
            metadata, self.registry, training=self.training, validation=self.validation,
            oversight=self.oversight, rollouts=self.rollouts,
            automation=automation(settings.automation_actor), allowlist=estimators)
        self.monitor.after_run(self._retrain_after)

    def _retrain_after(self, run: MonitoringRun, policy: MonitoringPolicy,
                       data: Path | None) -> None:
        self.retraining.after_run(run, policy, data=data)

    def rollout_controller(self) -> Controller:
        """The controller `bankml serve` runs in each worker (one acts, by lease), with
        monitoring's schedule when `BANKML_SERVE_MONITOR_CRON` is set."""
        cron = self.settings.serve_monitor_cron
        schedule = None if cron is None else LeaderSchedule(
            self.metadata, self.monitor, Cron.parse(cron),
            window_days=self.settings.serve_monitor_window_days,
            workers=self.settings.monitor_workers)
        return Controller(self.metadata, self.rollouts,
                          interval_s=self.settings.rollout_interval_s,
                          lease_s=self.settings.rollout_lease_s, schedule=schedule)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *,
                      online: OnlineStore | None = None,
                      clock: Callable[[], datetime] | None = None,
                      durable_commits: bool = True) -> Self:
        """Open the stores the settings name, creating the embedded home when needed.

        `online` replaces the online store the settings name (tests keep Redis keys apart).
        Without `durable_commits` the metadata store's commits return before they reach the
        disk: for the shadow process, whose records nobody is answered on.
        """
        settings = settings or load_settings()
        settings.home.mkdir(parents=True, exist_ok=True)
        keys = Keys.from_settings(settings)
        metadata = SqlMetadataStore(
            settings.resolved_metadata_url, migration_url=settings.migration_url,
            timeouts=Timeouts(lock_s=settings.lock_timeout_s,
                              statement_s=settings.statement_timeout_s),
            durable_commits=durable_commits)
        try:
            if settings.auto_migrate:
                metadata.migrate()
            else:  # a bank that migrates on its own schedule gets told, not surprised
                metadata.check_current()
        except BaseException:
            metadata.close()  # no pooled connection outlives a platform that never opened
            raise
        artifacts = FsspecArtifactStore(settings.resolved_artifacts_uri)
        # the shadow process opens the stores the settings name on the wall clock: not a
        # store or a clock passed in
        return cls(settings, metadata, artifacts, keys,
                   online or open_online_store(settings.resolved_online_url), clock=clock,
                   shadow_process=settings.shadow_worker == "process" and online is None
                   and clock is None)

    @classmethod
    def open(cls, home: Path | str, *, online: OnlineStore | None = None,
             clock: Callable[[], datetime] | None = None, **overrides: Any) -> Self:
        """A platform on `home` (tests, notebooks); other settings from `overrides`."""
        return cls.from_settings(load_settings(home=Path(home), **overrides), online=online,
                                 clock=clock)

    def close(self) -> None:
        self.decisions.shadow.close()  # its last records go to the log, which then flushes
        self.decision_log.close()
        self.online.close()
        self.metadata.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class MonitorInWorker:
    """Opens, in a monitoring worker process, the platform these settings build and gives
    its monitor; the worker's platform runs on the wall clock, as every platform's monitor
    does."""

    settings: Settings

    @contextmanager
    def __call__(self) -> Iterator[Monitor]:
        with _in_child(self.settings) as platform:
            yield platform.monitor


def wall_clock() -> datetime:
    return datetime.now(UTC)


def shadow_child(settings: Settings, work: Queue[Any], acks: Queue[Any],
                 parent_pid: int) -> None:
    """The shadow process: a platform of its own on the same settings, scoring what the
    serving process hands over on its shadow thread (it starts no process of its own)."""
    # a Ctrl-C reaches the whole process group: the serving process then closes this one
    # in order, once what it holds is written
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    yield_to_the_champion()
    # Shadow records are answered to nobody: their commits need not wait for the disk
    # (a power cut may lose the last of them, never a champion's decision), and so hold
    # the file's write turn, which the champion's commits share, for far less time.
    with _in_child(settings, durable_commits=False, shadow_worker="thread") as platform:
        serve_shadow(platform.decisions, work, acks, parent_pid)


def _in_child(settings: Settings, *, durable_commits: bool = True, **changes: Any
              ) -> Platform:
    """The platform of a process bankml started (a monitoring worker, the shadow process):
    on its parent's settings, pickled (the environment is not read again), which has
    migrated the store already."""
    return Platform.from_settings(settings.model_copy(update={**changes,
                                                              "auto_migrate": False}),
                                  durable_commits=durable_commits)


def open_online_store(url: str, *, prefix: str = "bankml:") -> OnlineStore:
    """SQLite for `sqlite:///PATH`, Redis for `redis://...`; keys under `prefix` on Redis."""
    if url.startswith("sqlite:///"):
        return SqliteOnlineStore(Path(url.removeprefix("sqlite:///")))
    return RedisOnlineStore(url, prefix=prefix)
