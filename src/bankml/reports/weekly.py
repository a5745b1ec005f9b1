"""The weekly production model review laid out: a one-page summary, then each model.

`sections(review)` turns the gathered review (core/review.py) into titled blocks of text,
tables and charts; `to_html` (inline SVG, no external reference), `body_html` (the same
without the page around it, for the web UI) and `to_pdf` (reportlab, charts as images)
render the same blocks, as the validation report's renderers do. Figures are printed with
four decimals (`figure`), so a reader can hold them against the monitoring store.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from matplotlib.figure import Figure
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Image, KeepTogether, PageBreak, Paragraph, SimpleDocTemplate

from bankml.core.review import (
    RAG_ORDER,
    EndpointWeek,
    ModelWeek,
    WeekFigure,
    WeeklyReview,
    recommendation_of,
    steps_reached,
)
from bankml.core.rollouts import Rollout
from bankml.reports import charts
from bankml.reports.validation import CSS, Block, html_table, pdf_table

STATUS_COLUMN = 2  # of the figure tables: this week's status, coloured


@dataclass(frozen=True, slots=True, kw_only=True)
class Part:
    title: str
    level: int = 2  # 2: a model; 3: a part of one
    text: list[str] = field(default_factory=list)  # HTML-safe already
    tables: list[Block] = field(default_factory=list)
    charts: list[Callable[[], Figure | None]] = field(default_factory=list)
    page_break: bool = False  # start a new page before it (PDF)


def figure(value: float | None) -> str:
    """How the report prints a figure: four decimals, thousands separated."""
    return "n/a" if value is None else f"{value:,.4f}"


def _signed(value: float | None) -> str:
    return "" if value is None else f"{value:+,.4f}"


def sections(review: WeeklyReview) -> list[Part]:
    parts = [_summary(review)]
    for number, model in enumerate(review.models, start=1):
        parts += _model(number, model)
    return parts


def _summary(review: WeeklyReview) -> Part:
    groups = review.by_rag()
    rows = [(str(rag), str(len(groups[rag])), ", ".join(groups[rag]) or "-")
            for rag in RAG_ORDER]
    models = [(m.model, m.production_version, str(m.tier), str(m.rag), str(m.previous_rag),
               str(len(m.alerts_unresolved)), str(len(m.approvals_pending)),
               str(len(m.findings_open)), "yes" if m.review_overdue else "no")
              for m in review.models]
    text = [f"Week {review.week}: {review.start[:10]} to {review.end[:10]} (exclusive), "
            f"UTC; open items as of {review.as_of}. {len(review.models)} "
            f"{'model' if len(review.models) == 1 else 'models'} in production."]
    if not review.models:
        text.append("No model is in production.")
    return Part(title="Summary", text=text, tables=[
        Block(header=("RAG", "models", "which"), rows=rows, verdict_column=0,
              caption="Models by RAG"),
        Block(header=("model", "production", "tier", "RAG", "last week", "alerts open",
                      "approvals pending", "findings open", "review overdue"),
              rows=models, verdict_column=3, caption="Production models"),
        Block(header=("what changed since last week",),
              rows=[(line,) for line in review.changes] or [("nothing",)]),
        Block(header=("decisions needed",),
              rows=[(line,) for line in review.decisions_needed] or [("none",)])])


def _model(number: int, m: ModelWeek) -> list[Part]:
    head = Part(title=f"{number}. {m.model}", page_break=True, text=[
        f"<b>{html.escape(m.production_version)}</b> in {html.escape(m.stage)}; "
        f"{html.escape(m.domain)}, tier {m.tier}, owner {html.escape(m.owner)}. "
        f"RAG <b>{m.rag}</b> (last week {m.previous_rag}).",
        f"Last validation sign-off: {m.last_validation or 'none'}; next periodic review due "
        f"{m.next_review_due or 'not set'}"
        + (" (<b>overdue</b>)." if m.review_overdue else ".")])
    parts = [head]
    for e in m.endpoints:
        parts += _endpoint(e)
    parts.append(_alerts(m))
    parts.append(_governance(m))
    return parts


def _figure_table(figures: Sequence[WeekFigure], caption: str) -> Block:
    return Block(header=("metric", "this week", "status", "last week", "change", "n"),
                 rows=[(f.metric, figure(f.value), f.status, figure(f.previous)
                        if f.previous_status is not None else "not measured",
                        _signed(f.change), f"{f.n:,}") for f in figures],
                 verdict_column=STATUS_COLUMN, caption=caption)


def _endpoint(e: EndpointWeek) -> list[Part]:
    if e.run_id is None:
        return [Part(title=f"Endpoint {e.endpoint}", level=3, text=[
            f"No monitoring run this week (RAG {e.rag}; last week {e.previous_rag}). "
            f"{e.decisions:,} decisions counted; {e.overridden} overridden by a person "
            "(overrides recorded in the week)."])]
    text = [f"Monitoring run {e.run_id}, window {html.escape(e.window)}, "
            f"{html.escape(e.version or '')} as champion: RAG <b>{e.rag}</b> (last week "
            f"{e.previous_rag}). {e.decisions:,} decisions; {e.overridden} overridden by a "
            "person (overrides recorded in the week)."]
    rollouts = Block(header=("rollout", "challenger", "status", "step", "started", "ended",
                             "why it ended"),
                     rows=[(f"#{r.rollout_id}", r.challenger_ref, str(r.status),
                            str(r.step), r.created_at[:16], (r.ended_at or "")[:16],
                            _why(r.outcome)) for r in e.rollouts],
                     caption=f"Rollouts and rollbacks ({len(e.rollbacks)} rolled back)")
    compared = Block(header=("rollout", "challenger", "AUC difference", "DeLong p",
                             "champion AUC", "n", "recommendation", "why"),
                     rows=[_comparison(r) for r in e.rollouts],
                     caption="Champion against challenger on matured labels, as each "
                             "rollout's record keeps it")
    return [
        Part(title=f"Endpoint {e.endpoint}: drift", level=3, text=text,
             tables=[_figure_table(e.drift, "PSI of the score and of each input against "
                                            "the development sample")],
             charts=[lambda: charts.psi_by_input(
                 [(f.metric, f.value, f.previous, f.status) for f in e.drift])]),
        Part(title=f"Endpoint {e.endpoint}: performance on matured labels", level=3,
             tables=[_figure_table(e.performance, "AUC (Gini = 2 AUC - 1), Brier score, "
                                                  "AUC drop from validation")]
             if e.performance else [],
             text=[] if e.performance else ["No matured labels of both classes this week."]),
        Part(title=f"Endpoint {e.endpoint}: KPIs against last week", level=3,
             tables=[_figure_table(e.kpis, "Business KPIs")]),
        Part(title=f"Endpoint {e.endpoint}: rollouts and rollbacks", level=3,
             tables=[rollouts, compared] if e.rollouts else [],
             text=[] if e.rollouts else ["No rollout under way this week."]),
        _retrainings(e),
    ]


def _comparison(r: Rollout) -> tuple[str, ...]:
    auc = r.comparison.get("auc_difference") or {}
    n = auc.get("n")
    return (f"#{r.rollout_id}", r.challenger_ref, _signed(auc.get("value")) or "n/a",
            figure(auc.get("p_value")), figure(auc.get("champion_auc")),
            "" if n is None else f"{n:,}", recommendation_of(r),
            str(r.comparison.get("reason", ""))[:80])


def _retrainings(e: EndpointWeek) -> Part:
    title = f"Endpoint {e.endpoint}: retrainings"
    if not e.retrainings:
        return Part(title=title, level=3, text=["No retraining started this week."])
    return Part(title=title, level=3, tables=[Block(
        header=("retraining", "alert", "metric", "started", "status", "steps reached"),
        rows=[(f"#{t.retraining_id}", f"#{t.alert_id}", t.metric, t.started_at[:16],
               str(t.status), "; ".join(steps_reached(t))) for t in e.retrainings],
        caption="Started by red alerts in the week, with every step each reached")])


def _why(outcome: dict[str, Any]) -> str:
    reason = outcome.get("reason") or outcome.get("guardrail") or ""
    return str(reason)[:80]


def _alerts(m: ModelWeek) -> Part:
    header = ("alert", "severity", "status", "metric", "opened", "closed", "title")
    rows = [(f"#{a.alert_id}", a.severity, str(a.status), a.metric or "", a.opened_at[:16],
             (a.closed_at or "")[:16], a.title) for a in m.alerts_opened]
    closed = [(f"#{a.alert_id}", a.severity, str(a.status), a.metric or "", a.opened_at[:16],
               (a.closed_at or "")[:16], a.title) for a in m.alerts_closed]
    return Part(title="Alerts", level=3, text=[
        f"{len(m.alerts_opened)} opened and {len(m.alerts_closed)} resolved in the week; "
        f"{len(m.alerts_unresolved)} unresolved at its end "
        f"({sum(a.severity == 'red' for a in m.alerts_unresolved)} red)."],
        tables=[b for b in (Block(header=header, rows=rows, caption="Opened in the week"),
                            Block(header=header, rows=closed, caption="Resolved in the week"))
                if b.rows])


def _governance(m: ModelWeek) -> Part:
    tables = []
    if m.approvals_pending:
        tables.append(Block(header=("request", "version", "to", "requested by", "since",
                                    "approvals so far"),
                            rows=[(f"#{r.request_id}", r.ref, str(r.target), r.requested_by,
                                   r.created_at[:10], str(len(r.approvals)))
                                  for r in m.approvals_pending], caption="Approvals pending"))
    if m.findings_open:
        tables.append(Block(header=("finding", "severity", "title", "owner", "due"),
                            rows=[(f"#{f.finding_id}", str(f.severity), f.title, f.owner,
                                   f.due_date) for f in m.findings_open],
                            caption=f"Findings open ({m.findings_overdue} overdue)"))
    return Part(title="Approvals, reviews and findings", level=3, tables=tables, text=[
        f"{len(m.approvals_pending)} approvals pending; {len(m.findings_open)} findings open, "
        f"{m.findings_overdue} overdue; periodic review "
        + ("overdue." if m.review_overdue else "not overdue.")])


# -- HTML -----------------------------------------------------------------------------------


def body_html(review: WeeklyReview) -> str:
    """The report's content without the page around it (the web UI shows it in its own)."""
    parts = [f"<h1>Weekly production model review {html.escape(review.week)}</h1>"]
    for part in sections(review):
        tag = f"h{part.level}"
        parts.append(f"<{tag}>{html.escape(part.title)}</{tag}>")
        parts += [f"<p>{line}</p>" for line in part.text]
        for chart in part.charts:
            drawn = chart()
            if drawn is not None:
                parts.append(f"<div class='chart'>{charts.svg(drawn)}</div>")
        parts += [html_table(block) for block in part.tables]
    return "\n".join(parts)


def to_html(review: WeeklyReview) -> str:
    """A self-contained page: inline CSS and inline SVG charts, no external reference."""
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Weekly "
            f"review {html.escape(review.week)}</title><style>{CSS}</style></head><body>\n"
            f"{body_html(review)}\n</body></html>")


# -- PDF ------------------------------------------------------------------------------------


def to_pdf(review: WeeklyReview) -> bytes:
    """An A4 PDF of the same sections, the summary on the first page."""
    styles = getSampleStyleSheet()
    cell = styles["BodyText"].clone("cell", fontSize=6.5, leading=8)
    body = styles["BodyText"].clone("body", fontSize=9, leading=12)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=1.5 * cm,
                                 rightMargin=1.5 * cm, topMargin=1.5 * cm,
                                 bottomMargin=1.5 * cm,
                                 title=f"Weekly review {review.week}", author="bankml",
                                 creator="bankml", invariant=1)
    story: list[Any] = [Paragraph(f"Weekly production model review {review.week}",
                                  styles["Title"])]
    width = A4[0] - 3 * cm
    for part in sections(review):
        if part.page_break:
            story.append(PageBreak())
        story.append(Paragraph(html.escape(part.title),
                               styles["Heading2" if part.level == 2 else "Heading3"]))
        story += [Paragraph(line, body) for line in part.text]
        for chart in part.charts:
            drawn = chart()
            if drawn is not None:
                w, h = drawn.get_size_inches()
                story.append(Image(io.BytesIO(charts.png(drawn)), width=width,
                                   height=width * h / w))
        for block in part.tables:
            flowables = pdf_table(block, cell, body, width)
            story += [KeepTogether(flowables)] if len(block.rows) < 25 else flowables
    document.build(story)
    return buffer.getvalue()


__all__ = ["body_html", "figure", "sections", "to_html", "to_pdf"]
