"""The weekly production model review: the week's evidence gathered, rendered, kept.

`assemble` reads, for every model with a production version, the week's latest monitoring
run of each endpoint that serves it (and the week before's, to compare), the alerts opened
and resolved in the week, rollouts started or ended in it, overrides of its decisions,
open approval requests, open findings and the next periodic review (the inventory's),
the retrainings its red alerts started in the week (from the retrainings store, the steps
each reached) and each rollout under way in the week with the champion/challenger
comparison its record keeps. Overrides are counted by when they were recorded.
`write` renders it (HTML or PDF, reports/weekly.py), keeps the bytes in the artifact
store and records `report.weekly_written` naming the week, the format and the sha256,
so the review's minutes can cite exactly what was read; `stored` gives it back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bankml.access import acting, viewing
from bankml.core.canonical import utc_timestamp
from bankml.core.errors import InvalidInputError, NotFoundError
from bankml.core.identity import Permission, Principal
from bankml.core.monitoring import Alert, AlertStatus, MetricPoint, MonitoringRun
from bankml.core.oversight import RequestStatus
from bankml.core.ports import ArtifactStore, MetadataStore, Transaction
from bankml.core.registry import Stage
from bankml.core.retraining import RetrainingStatus
from bankml.core.review import (
    EndpointWeek,
    ModelWeek,
    Rag,
    WeekFigure,
    WeeklyReview,
    rag_of,
    recommendation_of,
    worst,
)
from bankml.core.weeks import IsoWeek
from bankml.governance.inventory import InventoryRow, build_inventory
from bankml.governance.oversight import Oversight
from bankml.registry import Registry

FORMATS = ("html", "pdf")
ACTION = "report.weekly_written"
PERFORMANCE = ("performance.auc", "performance.gini", "performance.brier",
               "performance.auc_drop")


@dataclass(frozen=True, slots=True, kw_only=True)
class WrittenReport:
    """A weekly review as stored: its bytes, their sha256 and where the store keeps them."""

    week: str
    format: str
    sha256: str
    location: str
    content: bytes
    path: Path | None = None  # the file written beside the store, if any


@dataclass(frozen=True, slots=True, kw_only=True)
class Writing:
    """One `report.weekly_written` event: what the minutes cite."""

    format: str
    sha256: str
    written_at: str
    written_by: str


def subject_of(week: IsoWeek) -> str:
    return f"report:weekly:{week.label}"


class WeeklyReviews:
    """Gathers, renders and keeps the weekly production model review."""

    def __init__(self, metadata: MetadataStore, artifacts: ArtifactStore, registry: Registry,
                 oversight: Oversight, *, folder: Path,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._metadata, self._artifacts = metadata, artifacts
        self._registry, self._oversight = registry, oversight
        self._folder, self._clock = folder, clock

    def assemble(self, by: Principal, week: IsoWeek) -> WeeklyReview:
        """The review of `week`; a week that has not begun is refused (`week.begun`)."""
        now = self._clock()
        if week.start > now:
            raise InvalidInputError("week", f"{week.label} begins on {week.start.date()}, "
                                    "after today: there is nothing to review yet",
                                    rule="week.begun")
        # open items are judged on the week's last day, or today for the running week
        as_of = min(now, week.end - timedelta(microseconds=1))
        inventory = {row.model: row for row in build_inventory(
            by, self._registry, self._oversight, self._oversight.policies,
            today=as_of.date())}
        with viewing(self._metadata, by, Permission.EVIDENCE_READ, subject_of(week)) as tx:
            models = [self._model_week(tx, name, week, inventory[name])
                      for name in sorted(inventory) if inventory[name].production_version]
        return WeeklyReview(week=week.label, start=utc_timestamp(week.start),
                            end=utc_timestamp(week.end), as_of=as_of.date().isoformat(),
                            models=tuple(models), changes=tuple(_changes(models)),
                            decisions_needed=tuple(_decisions_needed(models)))

    def render(self, review: WeeklyReview, fmt: str) -> bytes:
        _check_format(fmt)
        # matplotlib and reportlab load when a review is rendered, not with the platform
        from bankml.reports import weekly as layout  # noqa: PLC0415

        if fmt == "pdf":
            return layout.to_pdf(review)
        return layout.to_html(review).encode("utf-8")

    def write(self, by: Principal, week: IsoWeek, *, fmt: str = "html",
              out: Path | None = None) -> WrittenReport:
        """Render the review of `week`, keep it in the artifact store and record
        `report.weekly_written`; the file goes to `out` (default: the reports folder,
        `weekly-YYYY-Www.FORMAT`)."""
        _check_format(fmt)
        review = self.assemble(by, week)
        content = self.render(review, fmt)
        staged = self._artifacts.stage(content)
        try:
            with acting(self._metadata, by, Permission.EVIDENCE_READ, subject_of(week)) as tx:
                tx.audit.record(by.name, ACTION, subject_of(week), {
                    "week": week.label, "format": fmt, "sha256": staged.digest,
                    "bytes": len(content), "models": [m.model for m in review.models],
                    "rag": {m.model: str(m.rag) for m in review.models}})
        except BaseException:
            staged.discard()
            raise
        digest = staged.commit()
        path = out or self._folder / f"weekly-{week.label}.{fmt}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return WrittenReport(week=week.label, format=fmt, sha256=digest,
                             location=self._artifacts.location(digest), content=content,
                             path=path)

    def written(self, by: Principal, week: IsoWeek) -> list[Writing]:
        """Every review of `week` written so far, oldest first, as the audit trail has it."""
        with viewing(self._metadata, by, Permission.EVIDENCE_READ, subject_of(week)) as tx:
            return [Writing(format=str(e.payload["format"]), sha256=str(e.payload["sha256"]),
                            written_at=e.recorded_at, written_by=e.actor)
                    for e in tx.audit.events(subject=subject_of(week)) if e.action == ACTION]

    def stored(self, by: Principal, week: IsoWeek, *, fmt: str = "html") -> WrittenReport:
        """The latest review of `week` written in `fmt`; its bytes are verified against the
        sha256 its audit event names. Raises NotFoundError when none was written."""
        _check_format(fmt)
        found = [w for w in self.written(by, week) if w.format == fmt]
        if not found:
            raise NotFoundError("weekly review", f"{week.label} ({fmt})",
                                f"Write it: bankml report weekly --week {week.label} "
                                f"--format {fmt}, or POST /v1/reports/weekly.")
        digest = found[-1].sha256
        return WrittenReport(week=week.label, format=fmt, sha256=digest,
                             location=self._artifacts.location(digest),
                             content=self._artifacts.get(digest))

    # -- gathering ------------------------------------------------------------------------

    def _model_week(self, tx: Transaction, name: str, week: IsoWeek,
                    row: InventoryRow) -> ModelWeek:
        start, end = utc_timestamp(week.start), utc_timestamp(week.end)
        model = tx.models.find_model(name)
        if model is None:  # the inventory listed it a moment ago
            raise NotFoundError("model", name)
        prod = next(v for v in tx.models.all(name) if v.stage == Stage.PROD)
        served = sorted({e.name for e in tx.endpoints.all()
                         if tx.endpoints.latest(e.name).spec.get("model") == name})
        endpoints = tuple(self._endpoint_week(tx, endpoint, name, prod.ref, week)
                          for endpoint in served)
        alerts = [a for a in tx.alerts.all() if a.model == name]
        as_of = min(utc_timestamp(self._clock()), end)
        as_of_day = as_of[:10]
        findings = tuple(tx.oversight.findings(model=name, open_only=True))
        return ModelWeek(
            model=name, domain=str(model.domain), tier=model.risk_tier, owner=model.owner,
            stage=str(prod.stage), production_version=prod.ref,
            rag=worst([e.rag for e in endpoints]),
            previous_rag=worst([e.previous_rag for e in endpoints]), endpoints=endpoints,
            alerts_opened=tuple(a for a in alerts if start <= a.opened_at < end),
            alerts_closed=tuple(a for a in alerts if a.status == AlertStatus.RESOLVED
                                and a.closed_at is not None and start <= a.closed_at < end),
            alerts_unresolved=tuple(a for a in alerts if _unresolved_at(a, as_of)),
            approvals_pending=tuple(tx.oversight.requests(model=name,
                                                          status=RequestStatus.OPEN)),
            last_validation=_iso(row.last_validation),
            next_review_due=_iso(row.next_review_due), review_overdue=row.review_overdue,
            findings_open=findings,
            findings_overdue=sum(f.due_date < as_of_day for f in findings))

    def _endpoint_week(self, tx: Transaction, endpoint: str, model: str, prod_ref: str,
                       week: IsoWeek) -> EndpointWeek:
        start, end = utc_timestamp(week.start), utc_timestamp(week.end)
        runs = tx.monitoring.runs(endpoint)
        latest = _latest_in(runs, week)
        earlier = _latest_in(runs, week.previous())
        now = _champion_points(tx.monitoring.points(latest.run_id), model, prod_ref) \
            if latest else []
        before = _champion_points(tx.monitoring.points(earlier.run_id), model, prod_ref) \
            if earlier else []
        figures = _figures(now, before)
        decisions = next((p.value for p in now if p.metric == "decisions"), None)
        # under way at some time in the week: a canary begun last week still needs deciding
        rollouts = tuple(r for r in tx.rollouts.of(endpoint) if r.created_at < end
                         and (r.ended_at is None or r.ended_at >= start))
        retrainings = tuple(r for r in tx.retrainings.all(endpoint)
                            if r.model == model and start <= r.started_at < end)
        return EndpointWeek(
            endpoint=endpoint, run_id=latest.run_id if latest else None,
            window=f"{latest.window_start} .. {latest.window_end}" if latest else "",
            version=now[0].model if now else None, rag=rag_of(now),
            previous_rag=rag_of(before),
            drift=tuple(f for f in figures if f.metric == "score.psi"
                        or f.metric.startswith("feature.psi[")),
            performance=tuple(f for metric in PERFORMANCE for f in figures
                              if f.metric == metric),
            kpis=tuple(f for f in figures if f.metric.startswith("kpi.")),
            decisions=int(decisions or 0),
            overridden=len({o.decision_id for o in
                            tx.decisions.overrides_recorded(endpoint, start, end)}),
            rollouts=rollouts, retrainings=retrainings)


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InvalidInputError("format", f"{fmt!r} is not a report format; use "
                                + " or ".join(FORMATS), rule="report.format")


def _latest_in(runs: Sequence[MonitoringRun], week: IsoWeek) -> MonitoringRun | None:
    """The run whose window ends last within the week. A window ending on a Monday 00:00
    measured the days before it, so it belongs to the week that Monday closes."""
    start, end = utc_timestamp(week.start), utc_timestamp(week.end)
    inside = [r for r in runs if start < r.window_end <= end]
    return max(inside, key=lambda r: (r.window_end, r.created_at), default=None)


def _champion_points(points: list[MetricPoint], model: str, prod_ref: str
                     ) -> list[MetricPoint]:
    """The points of the model's champion route: of the production version when it was
    measured, else of the version that was champion then."""
    champion = [p for p in points if p.route == "champion"
                and p.model.rpartition("@")[0] == model]
    versions = sorted({p.model for p in champion})
    chosen = prod_ref if prod_ref in versions else (versions[-1] if versions else None)
    return [p for p in champion if p.model == chosen]


def _figures(now: list[MetricPoint], before: list[MetricPoint]) -> list[WeekFigure]:
    previous = {p.metric: p for p in before}
    figures = []
    for point in now:
        earlier = previous.get(point.metric)
        figures.append(WeekFigure(
            metric=point.metric, value=point.value, status=str(point.status), n=point.n,
            previous=earlier.value if earlier else None,
            previous_status=str(earlier.status) if earlier else None))
        if point.metric == "performance.auc":  # Gini = 2 AUC - 1, the credit convention
            figures.append(WeekFigure(
                metric="performance.gini", value=_gini(point.value), status=str(point.status),
                n=point.n, previous=_gini(earlier.value) if earlier else None,
                previous_status=str(earlier.status) if earlier else None))
    return figures


def _gini(auc: float | None) -> float | None:
    return None if auc is None else 2 * auc - 1


def _unresolved_at(alert: Alert, moment: str) -> bool:
    if alert.opened_at >= moment:
        return False
    return alert.status != AlertStatus.RESOLVED or (alert.closed_at or "") >= moment


def _iso(day: object) -> str | None:
    return None if day is None else str(day)


JUDGED = ("red", "amber", "green")


def _changes(models: list[ModelWeek]) -> list[str]:
    """What a reader of last week's review would not know."""
    lines = []
    for m in models:
        if m.rag != m.previous_rag:
            lines.append(f"{m.model}: RAG {m.previous_rag} -> {m.rag}")
        for e in m.endpoints:
            for f in (*e.drift, *e.performance, *e.kpis):
                if f.status in JUDGED and f.previous_status in JUDGED \
                        and f.status != f.previous_status:
                    lines.append(f"{m.model} on {e.endpoint}: {f.metric} {f.previous_status} "
                                 f"-> {f.status}")
            for r in e.rollouts:
                lines.append(f"{m.model} on {e.endpoint}: rollout #{r.rollout_id} of "
                             f"{r.challenger_ref} {str(r.status).replace('_', ' ')}")
            for t in e.retrainings:
                lines.append(f"{m.model} on {e.endpoint}: retraining #{t.retraining_id} "
                             f"after alert #{t.alert_id} ({t.metric}) {t.status}")
        if m.alerts_opened or m.alerts_closed:
            lines.append(f"{m.model}: {len(m.alerts_opened)} alerts opened, "
                         f"{len(m.alerts_closed)} resolved")
    return lines


def _decisions_needed(models: list[ModelWeek]) -> list[str]:
    """What the meeting has to decide or chase, model by model."""
    lines = []
    for m in models:
        for request in m.approvals_pending:
            lines.append(f"{m.model}: approve or reject request #{request.request_id} "
                         f"({request.ref} to {request.target})")
        reds = [a for a in m.alerts_unresolved if a.severity == "red"]
        if reds:
            lines.append(f"{m.model}: {len(reds)} red alerts unresolved (they block "
                         "promotions): act or accept")
        for e in m.endpoints:
            for r in e.rollouts:
                if r.is_active and recommendation_of(r) == "promote":
                    lines.append(f"{m.model} on {e.endpoint}: challenger {r.challenger_ref} "
                                 f"recommended for promotion (rollout #{r.rollout_id}: "
                                 f"{r.comparison.get('reason', '')}): promote it with the "
                                 "prod approvals or keep the champion")
            for t in e.retrainings:
                if t.status == RetrainingStatus.STOPPED:
                    waiting = (f"; request #{t.request_id} waits"
                               if t.request_id is not None else "")
                    lines.append(f"{m.model} on {e.endpoint}: retraining #{t.retraining_id} "
                                 f"stopped at {t.outcome.get('step', '?')} "
                                 f"({t.outcome.get('rule', '?')}){waiting}")
        if m.review_overdue:
            lines.append(f"{m.model}: periodic review overdue since {m.next_review_due}")
        if m.findings_overdue:
            lines.append(f"{m.model}: {m.findings_overdue} findings past their due date")
        if m.rag == Rag.NOT_MONITORED:
            lines.append(f"{m.model}: not monitored this week; run bankml monitor run")
    return lines


__all__ = ["ACTION", "FORMATS", "WeeklyReviews", "Writing", "WrittenReport", "subject_of"]
