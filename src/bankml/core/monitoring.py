"""Monitoring's domain: delayed ground truth, metric statuses, the time series, alerts.

Labels are outcomes that arrive after the decision (a default within a year, a fraud
confirmed in weeks, a SAR filed in months). One decision may receive several: the same
outcome again is a duplicate and changes nothing; another outcome is a correction, kept
as the next version, and the latest version is the one monitoring reads. A decision is
*mature* once its domain's (or endpoint's) maturity window has passed: before that its
outcome may still change, so performance leaves it out and says how many it left out.

Every metric gets a status from a threshold of the monitoring policy: green, amber or
red, or `insufficient` when its sample is below the threshold's minimum. A threshold that
reads a test (`significance`) turns amber or red only when the test also rejects, and
the bounds are read on the effect size, never on the p-value alone: at large n a test
rejects negligible differences, and those must not page anybody.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bankml.core.errors import ConflictError
from bankml.core.validation import Better, Tag


class Status(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    INSUFFICIENT = "insufficient"  # too few rows to judge
    INFO = "info"  # reported, not judged (counts, the figures a judged metric derives from)


class LabelChange(StrEnum):
    NEW = "new"
    DUPLICATE = "duplicate"  # the outcome the decision already has: nothing stored
    CORRECTION = "correction"  # another outcome: stored as the next version


@dataclass(frozen=True, slots=True, kw_only=True)
class Label:
    """One version of a decision's outcome."""

    decision_id: str
    endpoint: str
    version: int
    outcome: int  # 1: the domain's event (default, fraud, SAR filed, product taken)
    observed_at: str  # when the outcome happened (canonical UTC)
    ingested_at: str
    ingested_by: str
    source: str  # the file's name and sha256, or "api"

    def change_from(self, latest: Label | None) -> LabelChange:
        """What storing this label would be, given the decision's latest one."""
        if latest is None:
            return LabelChange.NEW
        same = latest.outcome == self.outcome and latest.observed_at == self.observed_at
        return LabelChange.DUPLICATE if same else LabelChange.CORRECTION


@dataclass(frozen=True, slots=True, kw_only=True)
class RowProblem:
    """Why one row of a label file was refused."""

    row: int  # 1-based, the header not counted
    field: str
    rule: str
    message: str

    def describe(self) -> str:
        return f"row {self.row}: {self.field}: {self.message} ({self.rule})"


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestReport:
    endpoint: str
    rows: int
    new: int
    duplicates: int
    corrections: int
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricThreshold:
    """Green and amber bounds of one metric's effect size, with provenance and the
    conditions under which it may judge at all."""

    metric: str
    better: Better
    green: float
    amber: float
    tag: Tag
    source: str
    min_n: int = 0  # fewer rows: insufficient, never red
    significance: float | None = None  # with a p-value: amber/red only when p < this

    def status(self, value: float | None, *, n: int, p_value: float | None = None) -> Status:
        if n < self.min_n or value is None or math.isnan(value):
            return Status.INSUFFICIENT
        sign = 1.0 if self.better == Better.HIGHER else -1.0
        if sign * value >= sign * self.green:
            return Status.GREEN
        if self.significance is not None and p_value is not None \
                and not p_value < self.significance:
            return Status.GREEN  # a difference the test cannot tell from chance
        return Status.AMBER if sign * value >= sign * self.amber else Status.RED


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricPoint:
    """One metric of one endpoint, model version and route over one window."""

    metric: str  # e.g. "feature.psi[income]", "performance.auc", "kpi.approval_rate"
    model: str  # name@version
    route: str
    value: float | None
    n: int
    status: Status
    p_value: float | None = None
    baseline: float | None = None  # the validation figure it is compared with
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowValue:
    """One window's figure of a metric: what a sparkline draws."""

    window_end: str
    value: float | None
    status: Status


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricTrend:
    """A metric of one model version and route: its latest point and its recent windows."""

    latest: MetricPoint
    window_end: str  # of the latest point
    history: tuple[WindowValue, ...]  # oldest first, the latest included


def trends(series: Sequence[tuple[str, MetricPoint]]) -> list[MetricTrend]:
    """Group (window end, point) pairs, oldest first, by model, route and metric."""
    grouped: dict[tuple[str, str, str], list[tuple[str, MetricPoint]]] = {}
    for window_end, point in series:
        grouped.setdefault((point.model, point.route, point.metric), []).append(
            (window_end, point))
    return [MetricTrend(latest=points[-1][1], window_end=points[-1][0], history=tuple(
        WindowValue(window_end=end, value=p.value, status=p.status) for end, p in points))
        for _, points in sorted(grouped.items())]


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoreHistogram:
    """One model version and route's scores in a monitoring window against the version's
    development sample (the baseline its score PSI is measured on), counted on the same
    bins: `edges` has one more entry than each count."""

    model: str  # name@version
    route: str
    window_start: str
    window_end: str
    edges: tuple[float, ...]
    window: tuple[int, ...]
    baseline: tuple[int, ...] | None  # None: the version has no development sample

    @staticmethod
    def shares(counts: tuple[int, ...]) -> tuple[float, ...]:
        """Each bin's share of the sample (samples of any size compare)."""
        total = sum(counts)
        return tuple(c / total if total else 0.0 for c in counts)


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitoringRun:
    run_id: str
    endpoint: str
    window_start: str
    window_end: str
    as_of: str
    policy_id: str
    policy_version: str
    created_at: str
    created_by: str
    decisions: int
    greens: int
    ambers: int
    reds: int


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


NEXT_ALERT_STATUS = {AlertStatus.OPEN: {AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED},
                     AlertStatus.ACKNOWLEDGED: {AlertStatus.RESOLVED}}


class AlertTransitionError(ConflictError):
    rule = "alert.transition"


def check_alert_move(alert_id: int, current: AlertStatus, target: AlertStatus) -> None:
    if target not in NEXT_ALERT_STATUS.get(current, set()):
        allowed = ", ".join(sorted(NEXT_ALERT_STATUS.get(current, ()))) or "none"
        raise AlertTransitionError(f"Alert #{alert_id} is {current} and cannot become "
                                   f"{target}. Allowed next: {allowed}.")


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """A monitoring alert: one per endpoint and metric while it is not resolved."""

    alert_id: int
    model: str
    severity: str  # amber or red
    title: str
    status: AlertStatus
    opened_by: str
    opened_at: str
    endpoint: str | None = None
    metric: str | None = None
    last_seen_at: str | None = None
    acknowledged_by: str | None = None
    acknowledged_at: str | None = None
    closed_by: str | None = None
    closed_at: str | None = None
    comment: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One attempt to POST an alert to a webhook."""

    alert_id: int
    url: str
    attempt: int
    delivered: bool
    http_status: int | None
    error: str
    attempted_at: str


# -- a model's RAG status -------------------------------------------------------------------

RAG_ORDER = (Status.RED, Status.AMBER, Status.GREEN, Status.INSUFFICIENT)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rag:
    """A model's red / amber / green status and the evidence it rests on."""

    status: Status | None  # None: never monitored and no alert
    reason: str


def rag_of(points: Sequence[MetricPoint], open_alerts: Sequence[Alert]) -> Rag:
    """The one RAG rule, over a model's points in the latest monitoring run of each
    endpoint that serves it and its unresolved alerts (the inventory), or over the week's
    points alone (the weekly review, `core.review.rag_of`):

    - red: an unresolved red alert, or a red point;
    - amber: else an unresolved amber alert (acknowledged counts: it is not resolved), or
      an amber point;
    - green: else at least one point judged green;
    - insufficient: monitored, but no point had the sample to be judged;
    - None: never monitored and no alert.
    """
    worst = {str(a.severity) for a in open_alerts}
    judged = {p.status for p in points}
    for status in (Status.RED, Status.AMBER):
        alerts = sum(a.severity == status for a in open_alerts)
        marked = sum(p.status == status for p in points)
        if status in worst or status in judged:
            parts = [f"{alerts} open {status} alert{'s' * (alerts != 1)}"] if alerts else []
            parts += [f"{marked} {status} point{'s' * (marked != 1)}"] if marked else []
            return Rag(status=status, reason=", ".join(parts))
    if Status.GREEN in judged:
        return Rag(status=Status.GREEN, reason="every judged point green, no open alert")
    if points:
        return Rag(status=Status.INSUFFICIENT, reason="no point had the sample to be judged")
    return Rag(status=None, reason="not monitored")
