"""The one RAG rule of the inventory and the weekly review (core.monitoring.rag_of)."""

from __future__ import annotations

import pytest

from bankml.core.monitoring import Alert, AlertStatus, MetricPoint, Status, rag_of


def point(status: Status) -> MetricPoint:
    return MetricPoint(metric="score.psi", model="pd@1", route="champion", value=0.1, n=500,
                       status=status)


def alert(severity: str, status: AlertStatus = AlertStatus.OPEN) -> Alert:
    return Alert(alert_id=1, model="pd", severity=severity, title="t", status=status,
                 opened_by="system", opened_at="2026-12-01T00:00:00.000000Z")


@pytest.mark.parametrize(("points", "alerts", "expected"), [
    ([Status.GREEN, Status.RED], [], Status.RED),
    ([Status.GREEN], [alert("red", AlertStatus.ACKNOWLEDGED)], Status.RED),
    ([Status.GREEN, Status.AMBER], [], Status.AMBER),
    ([Status.GREEN], [alert("amber")], Status.AMBER),
    ([Status.GREEN, Status.INSUFFICIENT, Status.INFO], [], Status.GREEN),
    ([Status.INSUFFICIENT, Status.INFO], [], Status.INSUFFICIENT),
    ([], [alert("amber")], Status.AMBER),
    ([], [], None),
])
def test_the_worst_evidence_sets_the_status(points: list[Status], alerts: list[Alert],
                                            expected: Status | None) -> None:
    """Red before amber before green, alerts and points alike; nothing judged is
    insufficient, nothing at all is no status."""
    assert rag_of([point(s) for s in points], alerts).status == expected


def test_the_reason_counts_the_evidence() -> None:
    """The reason says how many alerts and points made the status."""
    found = rag_of([point(Status.RED), point(Status.RED)], [alert("red")])

    assert found.reason == "1 open red alert, 2 red points"
