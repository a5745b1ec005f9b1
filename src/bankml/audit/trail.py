"""The audit trail as people use it: list events, verify the chain, export it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import datetime

from bankml.access import acting, viewing
from bankml.audit.export import export_lines
from bankml.core.audit import AuditEvent, ChainReport, verify_chain
from bankml.core.identity import Permission, Principal
from bankml.core.ports import MetadataStore

TRAIL = "audit:trail"


class AuditTrail:
    def __init__(self, metadata: MetadataStore) -> None:
        self._metadata = metadata

    def events(self, by: Principal, *, subject: str | None = None,
               since: datetime | None = None, until: datetime | None = None,
               limit: int | None = None, newest_first: bool = False) -> list[AuditEvent]:
        with viewing(self._metadata, by, Permission.AUDIT_READ, TRAIL) as tx:
            return list(tx.audit.events(subject=subject, since=since, until=until,
                                        limit=limit, newest_first=newest_first))

    def verify(self, by: Principal) -> ChainReport:
        """Re-compute the whole chain, streaming, against the head the store keeps."""
        with viewing(self._metadata, by, Permission.AUDIT_READ, TRAIL) as tx, \
                closing(tx.audit.events()) as events:
            return verify_chain(events, tx.audit.head())

    def export(self, by: Principal, *, since: datetime | None = None,
               until: datetime | None = None) -> Iterator[str]:
        """The events recorded in [since, until) as JSON lines for auditors (audited)."""
        with acting(self._metadata, by, Permission.AUDIT_EXPORT, TRAIL) as tx:
            tx.audit.record(by.name, "audit.exported", TRAIL, {
                "since": since.isoformat() if since else None,
                "until": until.isoformat() if until else None})
        return export_lines(self._metadata, since=since, until=until)
