"""The audit trail as people use it: list events, verify the chain, export it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import replace
from datetime import datetime

from bankml.access import acting, viewing
from bankml.audit.anchors import Anchoring
from bankml.audit.deep import derivations
from bankml.audit.export import export_lines
from bankml.core.anchors import AnchorReason
from bankml.core.audit import (
    AuditEvent,
    ChainReport,
    Checkpoint,
    check_checkpoints,
    verify_chain,
)
from bankml.core.identity import Permission, Principal
from bankml.core.limits import check_integer
from bankml.core.ports import MetadataStore

TRAIL = "audit:trail"


class AuditTrail:
    def __init__(self, metadata: MetadataStore, anchoring: Anchoring) -> None:
        self._metadata, self._anchoring = metadata, anchoring

    @property
    def anchoring(self) -> Anchoring:
        return self._anchoring

    def events(self, by: Principal, *, subject: str | None = None,
               since: datetime | None = None, until: datetime | None = None,
               limit: int | None = None, newest_first: bool = False,
               action: str | None = None, actor: str | None = None) -> list[AuditEvent]:
        """Events narrowed by subject, time, action (exact, or a prefix ending in a dot:
        `rollout.`) and actor."""
        with viewing(self._metadata, by, Permission.AUDIT_READ, TRAIL) as tx:
            if limit is not None:
                check_integer("limit", limit)
            return list(tx.audit.events(subject=subject, since=since, until=until,
                                        limit=limit, newest_first=newest_first,
                                        action=action, actor=actor))

    def verify(self, by: Principal, *, anchors: bool = False,
               expect: Sequence[Checkpoint] = (), deep: bool = False) -> ChainReport:
        """Re-compute the whole chain, streaming, against the head the store keeps; with
        `anchors`, also against every anchor kept outside the database, and against each
        checkpoint in `expect` (e.g. a head an auditor wrote down); with `deep`, re-derive
        the state beside the chain from its events and name every row that disagrees."""
        checkpoints, failures = list(expect), []
        if anchors:
            stored = self._anchoring.stored()
            checkpoints += stored.checkpoints
            failures += stored.unreadable
        wanted = {point.sequence for point in checkpoints}
        hashes: dict[int, str] = {}
        state = derivations() if deep else []

        def noting(events: Iterable[AuditEvent]) -> Iterator[AuditEvent]:
            for event in events:
                if event.sequence in wanted:
                    hashes[event.sequence] = event.hash
                for derivation in state:
                    derivation.observe(event)
                yield event

        with viewing(self._metadata, by, Permission.AUDIT_READ, TRAIL) as tx:
            with closing(tx.audit.events()) as events:
                report = verify_chain(noting(events), tx.audit.head())
            compared = [derivation.compare(tx) for derivation in state]
        examined = len(checkpoints) + len(failures)  # unreadable anchors were examined too
        failures += check_checkpoints(report, hashes, checkpoints)
        return replace(report, checkpoints_checked=examined, checkpoint_failures=failures,
                       rows_checked=sum(rows for rows, _ in compared) if deep else None,
                       disagreements=[found for _, rows in compared for found in rows])

    def export(self, by: Principal, *, since: datetime | None = None,
               until: datetime | None = None) -> Iterator[str]:
        """The events recorded in [since, until) as JSON lines for auditors (audited), the
        head anchored outside the database first."""
        with acting(self._metadata, by, Permission.AUDIT_EXPORT, TRAIL) as tx:
            tx.audit.record(by.name, "audit.exported", TRAIL, {
                "since": since.isoformat() if since else None,
                "until": until.isoformat() if until else None})
        anchor = self._anchoring.anchor_head(AnchorReason.EXPORT, actor=by.name)
        return export_lines(self._metadata, since=since, until=until,
                            anchor=anchor.digest if anchor else None)
