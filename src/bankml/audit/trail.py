"""The audit trail as people use it: list events, verify the chain."""

from __future__ import annotations

from contextlib import closing
from datetime import datetime

from bankml.core.audit import AuditEvent, ChainReport, verify_chain
from bankml.core.ports import MetadataStore


class AuditTrail:
    def __init__(self, metadata: MetadataStore) -> None:
        self._metadata = metadata

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
