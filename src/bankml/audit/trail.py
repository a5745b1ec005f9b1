"""The audit trail as people use it: list events, verify the chain."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import datetime

from bankml.audit.export import export_lines
from bankml.core.audit import AuditEvent, ChainReport, verify_chain
from bankml.core.identity import Permission, User
from bankml.core.ports import MetadataStore
from bankml.governance import Identity


class AuditTrail:
    def __init__(self, metadata: MetadataStore, identity: Identity) -> None:
        self._metadata, self._identity = metadata, identity

    def events(self, *, subject: str | None = None, since: datetime | None = None,
               until: datetime | None = None, limit: int | None = None,
               newest_first: bool = False) -> list[AuditEvent]:
        with self._metadata.reading() as tx:
            return list(tx.audit.events(subject=subject, since=since, until=until,
                                        limit=limit, newest_first=newest_first))

    def verify(self) -> ChainReport:
        """Re-compute the whole chain, streaming, against the head the store keeps."""
        with self._metadata.reading() as tx, closing(tx.audit.events()) as events:
            return verify_chain(events, tx.audit.head())

    def export(self, by: User, *, since: datetime | None = None,
               until: datetime | None = None) -> Iterator[str]:
        """The events recorded in [since, until) as JSON lines for auditors (audited)."""
        self._identity.guard(by, Permission.AUDIT_EXPORT, "audit:trail")
        with self._metadata.transaction() as tx:
            tx.audit.record(by.username, "audit.exported", "audit:trail", {
                "since": since.isoformat() if since else None,
                "until": until.isoformat() if until else None})
        return export_lines(self._metadata, since=since, until=until)
