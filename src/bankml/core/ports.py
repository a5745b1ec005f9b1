"""What services need from outside, as Protocols; adapters in `bankml.stores` implement them."""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from bankml.core.audit import AuditEvent, ChainHead
from bankml.core.decisions import DecisionBatch, DecisionOverride, DecisionRecord
from bankml.core.endpoints import EndpointVersion
from bankml.core.features import FeatureView, FeatureViewVersion
from bankml.core.identity import ApiToken, GrantStatus, Principal, RoleGrant
from bankml.core.monitoring import (
    Alert,
    AlertStatus,
    Delivery,
    Label,
    MetricPoint,
    MonitoringRun,
)
from bankml.core.oversight import (
    Approval,
    Finding,
    PolicyException,
    RequestStatus,
    TransitionRequest,
    ValidationSignoff,
)
from bankml.core.refusals import RefusalCount
from bankml.core.registry import Model, ModelVersion, Stage, StageChange
from bankml.core.retraining import Retraining
from bankml.core.rollouts import Lease, Rollout
from bankml.core.validation import ValidationBaseline, ValidationRun

if TYPE_CHECKING:
    import pyarrow as pa


# (decision_id, decided_at, model_name, model_version, route, score, outcome, inputs_json,
# request_json, label, override, paired_id): one logged decision as monitoring reads it,
# with its latest label's outcome and its latest override's outcome (None: none yet), and
# for a shadow record the id of the champion decision of the same call it shadows (None:
# not shadow, or no single such decision)
MonitoredRow = tuple[str, str, str, int, str, float, str, str, str, int | None, str | None,
                     str | None]
# (batch number, place in batch, then a decision record's fields in the order of its
# digest's keys, `bankml.core.decisions.DIGEST_FIELDS`): one logged decision as
# verification reads it; a record outside any batch has None for both
LoggedRow = tuple[Any, ...]


class StagedArtifact(Protocol):
    """Bytes written durably where no reader looks, waiting to be kept or dropped."""

    @property
    def digest(self) -> str: ...

    def commit(self) -> str:
        """Store the bytes under their sha256 (as `put` would) and return it."""

    def discard(self) -> None:
        """Drop the bytes; nothing was stored."""


class ArtifactStore(Protocol):
    """Immutable blobs addressed by the sha256 of their bytes."""

    def put(self, data: bytes | BinaryIO | Path) -> str:
        """Store the bytes (or a file's content) and return their sha256."""

    def stage(self, data: bytes | BinaryIO | Path) -> StagedArtifact:
        """Write the bytes now, so that keeping them later costs a rename; until
        `commit`, no `get` or `exists` sees them."""

    def get(self, digest: str) -> bytes:
        """The bytes stored under `digest`, verified.

        Raises NotFoundError, or ArtifactIntegrityError when the bytes do not hash to
        `digest`.
        """

    def exists(self, digest: str) -> bool: ...

    def location(self, digest: str) -> str:
        """Where the artifact lives, for people and reports."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredObject:
    """One object in the artifact store: a committed artifact or a file left in
    `incoming/` by work that crashed or was refused."""

    name: str  # the sha256 of a committed artifact; the file name in incoming/
    size_bytes: int
    modified_at: datetime


class ArtifactInventory(Protocol):
    """What housekeeping needs of the artifact store: what is there, and removing it."""

    def objects(self) -> Iterator[StoredObject]:
        """Every committed artifact."""

    def staged(self) -> Iterator[StoredObject]:
        """Every file in incoming/, which no reader looks in."""

    def remove(self, digest: str, *, unless_modified_after: datetime) -> bool:
        """Remove a committed artifact unless it was written (or written again) after the
        moment given; returns whether it was removed."""

    def remove_staged(self, name: str) -> None: ...

    def get(self, digest: str) -> bytes: ...

    def anchor_digests(self) -> list[str]: ...


class AnchorStore(Protocol):
    """Sealed chain heads kept outside the database, never changed once written."""

    def add_anchor(self, sequence: int, content: bytes) -> str:
        """Store an anchor under its sha256 and list it in the index; returns the sha256."""

    def anchor_digests(self) -> list[str]:
        """The sha256 of every anchor in the index, oldest sequence first; read one's
        bytes with `ArtifactStore.get`."""


class AuditLog(Protocol):
    """The hash-chained event log, as seen from inside one transaction."""

    def record(self, actor: str, action: str, subject: str,
               payload: Mapping[str, Any]) -> None:
        """Append an event; it commits or rolls back with the transaction.

        The event is chained (given its sequence, time and hash) when the transaction
        commits, or earlier if the transaction reads the trail; ValueError at once if a
        field is empty or the payload has no JSON form.
        """

    def events(self, *, subject: str | None = None, since: datetime | None = None,
               until: datetime | None = None, limit: int | None = None,
               newest_first: bool = False, action: str | None = None,
               actor: str | None = None) -> Generator[AuditEvent, None, None]:
        """Events in sequence order, streamed; close the generator if you stop early.
        `action` is exact, or a prefix ending in a dot (`rollout.` is every rollout event)."""

    def head(self) -> ChainHead: ...


class ModelVersions(Protocol):
    """Models, their versions, aliases and stage history."""

    def add_model(self, model: Model) -> None:
        """Raises DuplicateError when the name exists."""

    def update_model(self, model: Model) -> None: ...

    def find_model(self, name: str) -> Model | None: ...

    def models(self) -> list[Model]: ...

    def next_number(self, name: str) -> int:
        """The number the model's next version takes; holds the model against concurrent
        numbering until the transaction ends."""

    def add(self, version: ModelVersion) -> None:
        """Raises DuplicateError when the name and number exist."""

    def get(self, name: str, number: int) -> ModelVersion:
        """Raises NotFoundError."""

    def latest(self, name: str) -> ModelVersion:
        """Raises NotFoundError when the model has no version."""

    def by_alias(self, name: str, alias: str) -> ModelVersion:
        """Raises NotFoundError when the model has no such alias."""

    def save_stage(self, version: ModelVersion, *, expected: Stage) -> None:
        """Set the version's stage if it is still `expected` (compare-and-set); raises
        ConflictError when another writer moved it, or when a second prod version would
        result."""

    def all(self, name: str | None = None) -> list[ModelVersion]: ...

    def in_stage(self, name: str, stage: str) -> list[ModelVersion]: ...

    def set_alias(self, name: str, alias: str, number: int, *, set_at: str,
                  set_by: str) -> None: ...

    def remove_alias(self, name: str, alias: str) -> None: ...

    def aliases(self, name: str) -> dict[str, int]:
        """alias -> version number, for one model."""

    def add_stage_change(self, change: StageChange) -> None: ...

    def stage_changes(self, name: str, *, until: str | None = None) -> list[StageChange]:
        """The model's stage history in order, up to `until` (canonical UTC text) if given."""

    def using_feature_view(self, view: str, version: int | None) -> list[ModelVersion]:
        """Versions trained on `view@version` (any version of `view` when None)."""

    def trained_on_dataset(self, dataset_sha256: str) -> list[ModelVersion]: ...


class DecisionLog(Protocol):
    """Append-only decision records; schema-2 records are written in batches whose Merkle
    root an audit event repeats."""

    def add(self, record: DecisionRecord) -> None:
        """One schema-1 record (its own audit event vouches for it)."""

    def add_batch(self, batch: DecisionBatch, records: Sequence[DecisionRecord],
                  idempotency_keys: Sequence[str | None]) -> int:
        """Store a batch and its records in order; returns the batch's number. Raises
        ConflictError when an idempotency key of the endpoint is taken."""

    def get(self, decision_id: str) -> DecisionRecord:
        """Raises NotFoundError."""

    def by_idempotency_key(self, endpoint: str, key: str) -> DecisionRecord | None: ...

    def count(self) -> int: ...

    def records(self, *, endpoint: str | None = None, since: str | None = None,
                until: str | None = None) -> Iterator[DecisionRecord]:
        """Records in decision order, streamed; close the iterator if you stop early."""

    def monitored(self, endpoint: str, since: str, until: str, *, requests: bool = True
                  ) -> Iterator[list[MonitoredRow]]:
        """What monitoring reads of the endpoint's decisions in [since, until), in decision
        order, streamed in chunks of rows (no record is built); each request_json is "{}"
        unless `requests`. Each row carries its decision's latest label's outcome (the
        highest version) and latest override's outcome (the last recorded), or None, read
        in the same pass by the decision's id instead of a second read of the window, and
        a shadow record's paired champion decision id (same endpoint, customer and
        received_at; None when there is not exactly one), or None off the shadow route."""

    def policy_of(self, decision_id: str) -> str:
        """The decision's policy description (JSON text). Raises NotFoundError."""

    def batches(self) -> dict[int, DecisionBatch]: ...

    def batched(self) -> Iterator[tuple[int | None, int | None, DecisionRecord]]:
        """(batch, place in batch, record) of every schema-2 record in batch order."""

    def rows_in_batch_order(self, *, chunk: int = ...) -> Iterator[list[LoggedRow]]:
        """The same records as rows (no record built), streamed in lists of up to `chunk`."""

    def batch_of(self, decision_id: str) -> tuple[int | None, DecisionBatch | None,
                                                  list[DecisionRecord]]:
        """The batch holding `decision_id`: its number (None: the record has none), its
        stored row (None: gone) and its records in batch order (the record alone when it
        has no batch). Raises NotFoundError."""

    def add_override(self, override: DecisionOverride) -> int: ...

    def overrides(self, decision_id: str) -> list[DecisionOverride]: ...

    def overrides_recorded(self, endpoint: str, since: str, until: str
                           ) -> list[DecisionOverride]:
        """The overrides of the endpoint's decisions recorded in [since, until), whenever
        the decision was made; oldest first."""

    def brief(self, decision_ids: Sequence[str]) -> dict[str, tuple[str | None, str]]:
        """(endpoint, decided_at) of each id that is logged."""

    def latest_of_customer(self, endpoint: str, customer_pseudo_id: str,
                           at_or_before: str) -> tuple[str, str] | None:
        """(decision id, decided_at) of the customer's last decision on `endpoint` at or
        before the moment (canonical UTC text)."""

    def of_customer(self, customer_pseudo_id: str, *, limit: int) -> list[DecisionRecord]:
        """The customer's newest `limit` decisions on every endpoint (shadow scores left
        out: no customer saw them), newest first."""


class Labels(Protocol):
    """Every version of every decision's outcome (append-only)."""

    def add(self, new: Sequence[Label]) -> None:
        """Raises ConflictError (rule labels.version_unique) when a version exists."""

    def latest(self, decision_ids: Iterable[str]) -> dict[str, Label]: ...

    def history(self, decision_id: str) -> list[Label]:
        """Every version, oldest first."""


class MonitoringSeries(Protocol):
    """Monitoring runs and the metric points each stored."""

    def find_run(self, endpoint: str, window_start: str, window_end: str,
                 as_of: str) -> MonitoringRun | None: ...

    def add_run(self, run: MonitoringRun, points: Sequence[MetricPoint]) -> None:
        """Raises ConflictError (rule monitoring.run_unique) when the window is stored."""

    def runs(self, endpoint: str | None = None) -> list[MonitoringRun]: ...

    def run(self, run_id: str) -> MonitoringRun:
        """Raises NotFoundError."""

    def points(self, run_id: str) -> list[MetricPoint]: ...

    def series(self, endpoint: str, *, since: str | None = None
               ) -> list[tuple[str, MetricPoint]]:
        """(window end, point) of every metric of the endpoint, oldest first."""


class MonitoringAlerts(Protocol):
    """Monitoring alerts (the governance gate counts the red ones) and their deliveries."""

    def find_open(self, endpoint: str, metric: str) -> Alert | None:
        """The endpoint's unresolved alert on `metric`, if any."""

    def open(self, alert: Alert) -> int:
        """Raises ConflictError (rule alert.one_open) when one is unresolved already."""

    def seen_again(self, alert_id: int, *, severity: str, title: str, seen_at: str) -> None: ...

    def get(self, alert_id: int) -> Alert:
        """Raises NotFoundError."""

    def move(self, alert_id: int, *, was: AlertStatus, to: AlertStatus, by: str, at: str,
             comment: str) -> None:
        """Compare-and-set; raises ConflictError when the alert is no longer `was`."""

    def all(self, *, endpoint: str | None = None, unresolved: bool = False) -> list[Alert]: ...

    def add_delivery(self, delivery: Delivery) -> None: ...

    def deliveries(self, alert_id: int) -> list[Delivery]: ...


class Endpoints(Protocol):
    """Applied endpoint definitions, one row per version."""

    def next_number(self, name: str) -> int: ...

    def add(self, version: EndpointVersion) -> None: ...

    def get(self, name: str, number: int) -> EndpointVersion:
        """Raises NotFoundError."""

    def latest(self, name: str) -> EndpointVersion:
        """Raises NotFoundError."""

    def all(self) -> list[EndpointVersion]: ...


class Users(Protocol):
    """People and service accounts, and every role grant with who gave and confirmed it."""

    def add(self, user: Principal, created_at: str) -> None:
        """Raises DuplicateError when the name is taken."""

    def get(self, username: str) -> Principal:
        """Raises NotFoundError."""

    def save(self, user: Principal, *, was: Principal) -> None:
        """Compare-and-set: raises ConflictError when the stored user is no longer `was`."""

    def all(self) -> list[Principal]: ...

    def count(self) -> int: ...

    def add_grant(self, grant: RoleGrant) -> int:
        """Store a grant; returns its number."""

    def get_grant(self, grant_id: int) -> RoleGrant:
        """Raises NotFoundError."""

    def save_grant(self, grant: RoleGrant, *, was: GrantStatus) -> None:
        """Compare-and-set: raises ConflictError when its status is no longer `was`."""

    def grants(self, *, username: str | None = None, granted_by: str | None = None,
               pending_only: bool = False) -> list[RoleGrant]: ...


class Tokens(Protocol):
    def add(self, token: ApiToken) -> None: ...

    def get(self, token_id: str) -> ApiToken:
        """Raises NotFoundError."""

    def revoke(self, token_id: str, revoked_at: str) -> None: ...

    def of(self, username: str) -> list[ApiToken]: ...


class OversightRecords(Protocol):
    """Governance evidence: sign-offs, findings, exceptions, requests, approvals, alerts."""

    def add_signoff(self, signoff: ValidationSignoff) -> None: ...

    def signoffs(self, model: str, version: int | None = None) -> list[ValidationSignoff]: ...

    def add_finding(self, finding: Finding) -> int: ...

    def get_finding(self, finding_id: int) -> Finding:
        """Raises NotFoundError."""

    def close_finding(self, finding_id: int, closed_by: str, closed_at: str) -> None: ...

    def findings(self, *, model: str | None = None, version: int | None = None,
                 open_only: bool = False) -> list[Finding]: ...

    def add_exception(self, exception: PolicyException) -> None: ...

    def exceptions(self, model: str, version: int, *, now: str) -> list[PolicyException]: ...

    def add_request(self, request: TransitionRequest) -> int: ...

    def get_request(self, request_id: int) -> TransitionRequest:
        """Raises NotFoundError."""

    def requests(self, *, model: str | None = None,
                 status: RequestStatus | None = None) -> list[TransitionRequest]: ...

    def set_request_status(self, request_id: int, status: RequestStatus) -> None: ...

    def add_approval(self, request_id: int, approval: Approval) -> None:
        """Raises DuplicateError when the approver has already spoken on the request."""

    def open_alert(self, model: str, severity: str, title: str, opened_by: str,
                   opened_at: str) -> int: ...

    def open_red_alerts(self, model: str) -> int: ...


class ValidationRuns(Protocol):
    """Stored validation runs (their full results live in the artifact store)."""

    def add(self, run: ValidationRun) -> None: ...

    def get(self, run_id: str) -> ValidationRun:
        """Raises NotFoundError."""

    def of(self, model: str, version: int | None = None) -> list[ValidationRun]:
        """Runs of a model (or one of its versions), oldest first."""

    def baseline(self, model: str) -> ValidationBaseline | None:
        """The model's initial validation, once recorded."""

    def set_baseline(self, baseline: ValidationBaseline) -> None:
        """Record the initial validation; ConflictError if the model has one already."""


class References(Protocol):
    def digests(self) -> set[str]:
        """Every sha256 any row of the metadata mentions (the artifacts it refers to)."""


class RefusalCounts(Protocol):
    """Unauthenticated refusals counted per minute and subject (core/refusals.py)."""

    def count(self, window: str, subject: str) -> int:
        """Count one more; returns the window's count for `subject` now."""

    def mark_recorded(self, window: str, subject: str) -> None:
        """One of the window's refusals of `subject` became an audit event."""

    def closed(self, before: str) -> list[RefusalCount]:
        """The counts of every window that began before `before`."""

    def forget(self, before: str) -> None:
        """Drop the counts of every window that began before `before`."""


class Rollouts(Protocol):
    """Rollouts of challengers; one active per endpoint, held by the store."""

    def add(self, rollout: Rollout) -> Rollout:
        """Store a new rollout (its id assigned). ConflictError `rollout.one_active` if the
        endpoint has an active one, whoever added it a moment ago."""

    def get(self, rollout_id: int) -> Rollout:
        """Raises NotFoundError."""

    def active(self, endpoint: str) -> Rollout | None: ...

    def all_active(self) -> list[Rollout]: ...

    def of(self, endpoint: str) -> list[Rollout]:
        """Every rollout of the endpoint, oldest first."""

    def save(self, rollout: Rollout, *, was: Rollout) -> Rollout:
        """Compare-and-set on `was.revision`; ConflictError `store.changed_meanwhile` if
        another writer moved it first."""


class Leases(Protocol):
    """Singleton workers' leases: one holder at a time, taken over once expired."""

    def get(self, name: str) -> Lease | None: ...

    def take(self, name: str, holder: str, *, now: str, until: str) -> bool:
        """Hold (or renew) `name` until `until`; False while another holds it unexpired."""

    def release(self, name: str, holder: str) -> None: ...


class Retrainings(Protocol):
    """Retrainings started by red alerts; one per alert, held by the store."""

    def claim(self, retraining: Retraining) -> Retraining:
        """Store it (its id assigned); ConflictError `retraining.one_per_alert` if the
        alert started one already, whoever claimed it a moment ago."""

    def get(self, retraining_id: int) -> Retraining:
        """Raises NotFoundError."""

    def of_alert(self, alert_id: int) -> Retraining | None: ...

    def all(self, endpoint: str | None = None) -> list[Retraining]:
        """Oldest first."""

    def save(self, retraining: Retraining, *, was: Retraining) -> Retraining:
        """Compare-and-set on `was.revision`; ConflictError `store.changed_meanwhile`."""


class Transaction(Protocol):
    """One unit of work: every repository in it commits or rolls back together."""

    @property
    def audit(self) -> AuditLog: ...

    @property
    def models(self) -> ModelVersions: ...

    @property
    def decisions(self) -> DecisionLog: ...

    @property
    def endpoints(self) -> Endpoints: ...

    @property
    def features(self) -> FeatureViews: ...

    @property
    def users(self) -> Users: ...

    @property
    def tokens(self) -> Tokens: ...

    @property
    def oversight(self) -> OversightRecords: ...

    @property
    def validation_runs(self) -> ValidationRuns: ...

    @property
    def refusals(self) -> RefusalCounts: ...

    @property
    def references(self) -> References: ...

    @property
    def labels(self) -> Labels: ...

    @property
    def monitoring(self) -> MonitoringSeries: ...

    @property
    def alerts(self) -> MonitoringAlerts: ...

    @property
    def rollouts(self) -> Rollouts: ...

    @property
    def leases(self) -> Leases: ...

    @property
    def retrainings(self) -> Retrainings: ...


class MetadataStore(Protocol):
    def transaction(self) -> AbstractContextManager[Transaction]:
        """A write transaction; changes and their audit events commit together."""

    def reading(self) -> AbstractContextManager[Transaction]:
        """A read-only view; writing through it is an error."""

    def describe(self) -> str:
        """The store's location with any password hidden."""


class FeatureViews(Protocol):
    """Applied feature view definitions, one row per version, and online watermarks."""

    def next_number(self, name: str) -> int: ...

    def add(self, version: FeatureViewVersion) -> None:
        """Raises DuplicateError when the name and number exist."""

    def get(self, name: str, number: int) -> FeatureViewVersion:
        """Raises NotFoundError naming the known versions."""

    def latest(self, name: str) -> FeatureViewVersion:
        """Raises NotFoundError naming the known views."""

    def all(self) -> list[FeatureViewVersion]: ...

    def watermark(self, view_ref: str) -> str | None:
        """The end of the last materialisation of `name@number`, or None."""

    def save_watermark(self, view_ref: str, watermark: str) -> None: ...


class OnlineStore(Protocol):
    """The latest feature payloads by entity key, in namespaces (one per view version).

    Payloads are opaque text to the store; the feature service encodes and decodes them.
    """

    def write(self, namespace: str, items: Iterable[tuple[str, str]]) -> int:
        """Store (entity key, payload) pairs, replacing older payloads; returns the count."""

    def read(self, namespace: str, keys: Sequence[str]) -> list[str | None]:
        """The payload of each key in order; None for a key never written."""

    def describe(self) -> str: ...

    def close(self) -> None: ...


class OfflineEngine(Protocol):
    """The rows of feature views over time, read where they live.

    What the feature service asks of an offline engine (DuckDB today, Spark later). The
    engine owns how rows are read, joined and batched; the feature service owns what is
    the same for every engine: windowed aggregation (`core.windows`), on-demand views,
    and how values are encoded for the online store. `OfflineEngineContract` in the
    tests states every rule below as a test; a new engine passes it with a fixture.

    Tables are Arrow tables; their columns have public names:

    - join keys: the view's `join_keys`, as in the source;
    - `event_timestamp` (EVENT_TIMESTAMP): when an event happened, or the time an entity
      row asks about. Always `timestamp("us", tz="UTC")`.
    - `created_timestamp` (CREATED_TIMESTAMP): when a row was recorded, from the source's
      `created_timestamp_column`; the event time when the source records none.
      `timestamp("us", tz="UTC")`.
    - `entity_row` (ENTITY_ROW): the position (from 0, int64) of an entity row in the
      table a method was given.
    - feature columns, named as the view's schema fields, of their dtype's Arrow type:
      int64, float64, string (or large_string), bool. Null is missing.

    A view whose join keys or schema fields take one of these time or row names cannot
    be read unambiguously; engines may assume none does.

    Rules every method follows:

    - The rows of a view are its source's rows followed by the rows `append` kept for
      it (under the view's name, so every version of a view reads them).
    - A row is *known* from its created time, and never before its event time: from
      max(event time, created time). A row without an event time is never read.
    - Of several rows of one entity, the *latest* is the greatest by (event time,
      created time, source order). Source order: a Parquet source's files sorted by
      path, then rows within each file, then appended rows in the order appended; any
      other source in the order it is read.
    - Times given are timezone-aware; `start`/`end` bound the half-open range
      (start, end] of known times.
    """

    def describe(self) -> str:
        """Where the engine reads and keeps rows, for people (no secrets)."""

    def check_source(self, view: FeatureView) -> None:
        """Check that the view's source can be read and matches the view.

        Every join key, the timestamp field and the created timestamp column (when
        named) must exist, the times as timestamps or dates, and each schema field with a
        type compatible with its dtype. Raises InvalidInputError (rule
        `features.schema_matches_source`) naming every culprit column, or (rule
        `features.source`) when the source cannot be read at all.
        """

    def append(self, view: FeatureView, rows: pa.Table) -> None:
        """Keep `rows` as more rows of `view`, read after its source's rows from now on.

        `rows` has the view's join keys, its source's timestamp field and created
        timestamp column (when the source has one) and the schema columns, named as in
        the source. Rows are kept durably before the call returns, never half.
        """

    def point_in_time(self, entity_rows: pa.Table,
                      reads: Sequence[tuple[FeatureView, Sequence[str]]], *,
                      late_corrections: bool) -> pa.Table:
        """Each entity row's feature values as known at its `event_timestamp`.

        `entity_rows` holds (at least) `event_timestamp` and the join keys of every view
        read; `reads` names plain views (no aggregations) and the schema fields asked of
        each (feature names are unique across the reads). For each entity row and view: the
        latest of the entity's rows with an event time at or before the row's time and,
        unless `late_corrections`, known by then; null when there is none, or when that
        row's event time is older than the row's time minus the view's TTL. With
        `late_corrections` rows count from their event time whenever they were recorded.

        Returns one column per feature asked, named as the feature, and exactly one row
        per entity row, in the order of `entity_rows`; no other columns.
        """

    def events_in_windows(self, entity_rows: pa.Table, view: FeatureView, *,
                          late_corrections: bool) -> pa.Table:
        """The events each entity row's windows read, for windowed aggregation.

        `entity_rows` holds (at least) `event_timestamp` and the view's join keys. For
        each entity row at time t: its entity's rows with t - view.max_window < event
        time <= t and, unless `late_corrections`, a created time <= t. Returns `entity_row`,
        `event_timestamp`, `created_timestamp` and the schema columns, ordered by entity
        row, then event time, created time and source order. Entity rows without events
        have no rows here.
        """

    def latest_rows(self, view: FeatureView, *, start: datetime | None,
                    end: datetime) -> Iterator[pa.Table]:
        """Each touched entity's latest row known at `end`, what an online store serves.

        Touched: the entity has a row known in (start, end]; every entity with a row
        known by `end` when `start` is None. No TTL applies (readers check it). Yields
        tables of join keys, `event_timestamp` and the schema columns, one row per
        entity, in batches of the engine's choosing (each is written in one go).
        """

    def recent_events(self, view: FeatureView, *, start: datetime | None,
                      end: datetime) -> Iterator[pa.Table]:
        """Each touched entity's events known at `end` within the view's longest window.

        Touched as in `latest_rows`. The rows known by `end` with end - view.max_window <
        event time <= end. Yields tables of join keys, `event_timestamp`,
        `created_timestamp` and the schema columns; the rows of one entity are
        consecutive (they may run on into the next table) and ordered by event time,
        created time and source order. A touched entity without such events yields no rows.
        """

    def data_bounds(self, view: FeatureView) -> tuple[datetime, datetime] | None:
        """The earliest and latest time a row of the view became known; None when none."""

    def sample_keys(self, view: FeatureView, sample: int, seed: int) -> pa.Table:
        """Up to `sample` distinct entities of the view (its join key columns).

        The same seed gives the same entities for the same rows; every entity when
        `sample` is at least their number.
        """


class PinnedFeature(Protocol):
    """A feature ref pinned to the exact view version it reads."""

    @property
    def view(self) -> str: ...

    @property
    def number(self) -> int: ...

    @property
    def feature(self) -> str: ...

    @property
    def pinned(self) -> str:
        """`view@number:feature`."""


class HistoricalFeatures(Protocol):
    """What training needs from a feature store: exact versions and point-in-time retrieval.

    Frames are pandas DataFrames; core stays free of pandas, hence `Any`.
    """

    def resolve(self, refs: Sequence[str]) -> Sequence[PinnedFeature]:
        """Pin each `view:feature` or `view@3:feature`. Raises NotFoundError."""

    def get_historical_features(self, entity_df: Any, features: Sequence[str]) -> Any:
        """`entity_df` (join keys and an `event_timestamp` column) with one column per
        feature, named as the feature, each value as known at the row's `event_timestamp`,
        rows in `entity_df`'s order."""
