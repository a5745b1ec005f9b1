"""Reading the audit trail in tests, as the store holds it (no principal needed)."""

from __future__ import annotations

from typing import Any

from bankml import Platform
from bankml.core.audit import AuditEvent, ChainReport, verify_chain
from bankml.core.refusals import ALL_SUBJECTS


def audit_events(platform: Platform, **filters: Any) -> list[AuditEvent]:
    """The trail's events, filtered as `tx.audit.events` filters them."""
    with platform.metadata.reading() as tx:
        return list(tx.audit.events(**filters))


def refusals_counted(platform: Platform) -> int:
    """Unauthenticated refusals counted in the open windows (recorded or not): a refusal
    past its minute's budget is counted here instead of appended to the chain."""
    with platform.metadata.reading() as tx:
        return sum(count.refused for count in tx.refusals.closed(before="9999")
                   if count.subject != ALL_SUBJECTS)


def verify(platform: Platform) -> ChainReport:
    with platform.metadata.reading() as tx:
        return verify_chain(tx.audit.events(), tx.audit.head())
