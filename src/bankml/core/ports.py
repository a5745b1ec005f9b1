"""What services need from outside, as Protocols; adapters in `bankml.stores` implement them."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from bankml.core.audit import AuditEvent, ChainHead
from bankml.core.decisions import DecisionRecord
from bankml.core.identity import ApiToken, User
from bankml.core.oversight import (
    Approval,
    Finding,
    PolicyException,
    RequestStatus,
    TransitionRequest,
    ValidationSignoff,
)
from bankml.core.registry import ModelVersion


class ArtifactStore(Protocol):
    """Immutable blobs addressed by the sha256 of their bytes."""

    def put(self, data: bytes | BinaryIO | Path) -> str:
        """Store the bytes (or a file's content) and return their sha256."""

    def get(self, digest: str) -> bytes:
        """The bytes stored under `digest`, verified.

        Raises NotFoundError, or ArtifactIntegrityError when the bytes do not hash to
        `digest`.
        """

    def exists(self, digest: str) -> bool: ...

    def location(self, digest: str) -> str:
        """Where the artifact lives, for people and reports."""


class AuditLog(Protocol):
    """The hash-chained event log, as seen from inside one transaction."""

    def record(self, actor: str, action: str, subject: str,
               payload: Mapping[str, Any]) -> AuditEvent:
        """Append an event; it commits or rolls back with the transaction."""

    def events(self, *, subject: str | None = None, since: datetime | None = None,
               until: datetime | None = None, limit: int | None = None,
               newest_first: bool = False) -> Generator[AuditEvent, None, None]:
        """Events in sequence order, streamed; close the generator if you stop early."""

    def head(self) -> ChainHead: ...


class ModelVersions(Protocol):
    def next_number(self, name: str) -> int: ...

    def add(self, version: ModelVersion) -> None:
        """Raises DuplicateError when the name and number exist."""

    def get(self, name: str, number: int) -> ModelVersion:
        """Raises NotFoundError."""

    def latest(self, name: str) -> ModelVersion:
        """Raises NotFoundError when the model has no version."""

    def save_stage(self, version: ModelVersion) -> None: ...

    def all(self) -> list[ModelVersion]: ...


class DecisionLog(Protocol):
    def add(self, record: DecisionRecord) -> None: ...

    def get(self, decision_id: str) -> DecisionRecord:
        """Raises NotFoundError."""

    def count(self) -> int: ...


class Users(Protocol):
    def add(self, user: User, created_at: str) -> None:
        """Raises DuplicateError when the username is taken."""

    def get(self, username: str) -> User:
        """Raises NotFoundError."""

    def save(self, user: User) -> None: ...

    def all(self) -> list[User]: ...

    def count(self) -> int: ...


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

    def close_alert(self, alert_id: int, closed_by: str, closed_at: str) -> None: ...

    def open_red_alerts(self, model: str) -> int: ...


class Transaction(Protocol):
    """One unit of work: every repository in it commits or rolls back together."""

    @property
    def audit(self) -> AuditLog: ...

    @property
    def models(self) -> ModelVersions: ...

    @property
    def decisions(self) -> DecisionLog: ...

    @property
    def users(self) -> Users: ...

    @property
    def tokens(self) -> Tokens: ...

    @property
    def oversight(self) -> OversightRecords: ...


class MetadataStore(Protocol):
    def transaction(self) -> AbstractContextManager[Transaction]:
        """A write transaction; changes and their audit events commit together."""

    def reading(self) -> AbstractContextManager[Transaction]:
        """A read-only view; writing through it is an error."""

    def describe(self) -> str:
        """The store's location with any password hidden."""
