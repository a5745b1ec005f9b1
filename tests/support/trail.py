"""Reading the audit trail in tests, as the store holds it (no principal needed)."""

from __future__ import annotations

from typing import Any

from bankml import Platform
from bankml.core.audit import AuditEvent, ChainReport, verify_chain


def audit_events(platform: Platform, **filters: Any) -> list[AuditEvent]:
    """The trail's events, filtered as `tx.audit.events` filters them."""
    with platform.metadata.reading() as tx:
        return list(tx.audit.events(**filters))


def verify(platform: Platform) -> ChainReport:
    with platform.metadata.reading() as tx:
        return verify_chain(tx.audit.events(), tx.audit.head())
