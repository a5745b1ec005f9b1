"""Demo step: model risk writes the weekly production model review of the monitored week
and keeps it for the meeting's minutes."""

from __future__ import annotations

from datetime import timedelta

from rich.markup import escape

from bankml.cli.app import console
from bankml.core.canonical import parse_utc_timestamp
from bankml.core.identity import Principal
from bankml.core.weeks import week_of
from bankml.platform import Platform
from bankml.review import WrittenReport


def weekly(platform: Platform, mira: Principal, endpoint: str) -> WrittenReport:
    """The review of the week the last monitoring run closed, as PDF (and HTML)."""
    last = max(platform.monitor.runs(mira, endpoint), key=lambda r: r.window_end)
    # a window ending on Monday 00:00 measured the week before it
    week = week_of(parse_utc_timestamp(last.window_end) - timedelta(microseconds=1))
    pdf = platform.weekly.write(mira, week, fmt="pdf")
    html = platform.weekly.write(mira, week, fmt="html")
    review = platform.weekly.assemble(mira, week)
    for model in review.models:
        console.print(f"  {escape(model.production_version)}: RAG {model.rag} (last week "
                      f"{model.previous_rag}); {len(model.alerts_opened)} alerts opened, "
                      f"{len(model.alerts_closed)} resolved; "
                      f"{sum(len(e.rollouts) for e in model.endpoints)} rollouts")
    for line in review.decisions_needed[:4]:
        console.print(f"  decide: {escape(line)}")
    console.print(f"mira writes the review of {week} (bankml report weekly --week {week} "
                  f"--format pdf): {pdf.path}, sha256 {pdf.sha256[:16]}; HTML {html.path}. "
                  "Each is kept in the artifact store, its sha256 on the audit trail "
                  "(report.weekly_written), for the minutes to cite.")
    return pdf
