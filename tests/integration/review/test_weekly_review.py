"""The weekly review of a credit model in production, monitored two weeks running: the PDF's
figures are the monitoring store's, read here straight from its tables; writing it keeps
the bytes in the artifact store and records their sha256 in the audit trail."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bankml import Platform
from bankml.core.canonical import sha256_hex, utc_timestamp
from bankml.core.errors import InvalidInputError, NotFoundError
from bankml.core.oversight import Severity
from bankml.core.registry import ModelVersion
from bankml.core.weeks import IsoWeek, week_of
from bankml.datasets import load_german_credit
from bankml.monitoring.policy import DEFAULT, parse_policy
from support.pdf import pdf_text
from support.people import staff
from support.served import credit_endpoint, credit_in_prod, requests_from

DRIFTED = ("duration_months", "credit_amount")


@dataclass(frozen=True)
class Reviewed:
    platform: Platform
    database: Path
    week: IsoWeek
    version: ModelVersion
    run_id: str


def _traffic(version: ModelVersion, *, start: int, drifted: bool) -> list[dict[str, object]]:
    requests = requests_from(load_german_credit(None).frame, version, 240, start=start,
                             entity=("customer_id", "row_id"))
    if drifted:
        for name in DRIFTED:
            high = sorted(r[name] for r in requests)[-40:]
            for i, request in enumerate(requests):
                request[name] = high[i % len(high)]
    return requests


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reviewed]:
    """Last week stable, this week two inputs drifted and the labels inverted; labels
    mature at once; one alert resolved, one decision overridden, one finding open."""
    folder = tmp_path_factory.mktemp("weekly")
    database = folder / "metadata.db"
    now = datetime.now(UTC)
    week = week_of(now)
    moment = [week.previous().start + timedelta(days=3)]
    policy = parse_policy(DEFAULT.read_text().replace(
        "maturity_days: {}", "maturity_days: {credit-pd: 0}"), source="test policy")
    with Platform.open(folder / "home", metadata_url=f"sqlite:///{database}",
                       clock=lambda: moment[0]) as platform:
        version = credit_in_prod(platform)
        credit_endpoint(platform)
        ops, mira = staff(platform, "ops"), staff(platform, "mira")
        run_ids = []
        # this week's decisions halfway between its Monday and now, labelled by now
        for decided_at, drifted, as_of in [(moment[0], False, week.start),
                                           (week.start + (now - week.start) / 2, True,
                                            week.end)]:
            moment[0] = decided_at
            records = platform.decisions.decide(ops, "credit-pd", _traffic(
                version, start=0, drifted=drifted))
            ranked = sorted(records, key=lambda r: r.score)
            bad = {r.decision_id for r in (ranked[:80] if drifted else ranked[-80:])}
            bad |= {r.decision_id for r in ranked[::7]}
            platform.labels.ingest(ops, [
                {"decision_id": r.decision_id, "outcome": int(r.decision_id in bad),
                 "observed_at": utc_timestamp(decided_at + (now - decided_at) / 4)}
                for r in records], endpoint="credit-pd")
            [run] = platform.monitor.run(mira, endpoint="credit-pd", as_of=as_of,
                                         window_days=7, policy=policy)
            run_ids.append(run.run_id)
        alerts = platform.alerts.alerts(mira, endpoint="credit-pd", unresolved=True)
        platform.alerts.resolve(mira, alerts[0].alert_id, comment="seen, accepted")
        approved = next(r for r in records if str(r.outcome) == "approve")
        platform.decisions.override(staff(platform, "bob"), approved.decision_id,
                                    outcome="decline", reason_code="POLICY",
                                    comment="documents missing")
        platform.oversight.raise_finding(mira, version.name, severity=Severity.MEDIUM,
                                         title="drifted inputs unexplained", owner="dana",
                                         due=(now + timedelta(days=30)).date())
        yield Reviewed(platform, database, week, version, run_ids[-1])


def champion_points(database: Path, run_id: str, ref: str) -> dict[str, float | None]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT metric, value FROM monitoring_metrics WHERE run_id = ? AND model = ? "
            "AND route = 'champion'", (run_id, ref)).fetchall()
    return dict(rows)


def test_the_pdf_shows_the_monitoring_stores_figures(reviewed: Reviewed) -> None:
    """Each input's PSI, the AUC and its Gini, every KPI and the week's alert counts in the
    PDF are those the store holds for the week's latest run."""
    platform, ref = reviewed.platform, reviewed.version.ref
    written = platform.weekly.write(staff(platform, "mira"), reviewed.week, fmt="pdf")
    text = pdf_text(written.content)
    stored = champion_points(reviewed.database, reviewed.run_id, ref)
    start, end = utc_timestamp(reviewed.week.start), utc_timestamp(reviewed.week.end)
    with sqlite3.connect(reviewed.database) as connection:
        [(opened,)] = connection.execute(
            "SELECT count(*) FROM alerts WHERE model = ? AND opened_at >= ? AND opened_at < ?",
            (reviewed.version.name, start, end)).fetchall()
        [(closed,)] = connection.execute(
            "SELECT count(*) FROM alerts WHERE model = ? AND status = 'resolved' AND "
            "closed_at >= ? AND closed_at < ?", (reviewed.version.name, start, end)).fetchall()

    assert written.content.startswith(b"%PDF")
    psi = {m: v for m, v in stored.items() if m.startswith("feature.psi[")}
    kpis = {m: v for m, v in stored.items() if m.startswith("kpi.")}
    assert len(psi) == len(reviewed.version.inputs)
    assert kpis
    auc = stored["performance.auc"]
    assert auc is not None
    figures = {**psi, **kpis, "performance.auc": auc, "performance.gini": 2 * auc - 1}
    for metric, value in figures.items():
        shown = "n/a" if value is None else f"{value:,.4f}"
        assert re.search(rf"{re.escape(metric)}\n{re.escape(shown)}\n", text), metric
    assert (opened > 0, closed) == (True, 1)
    assert f"{opened} opened and {closed} resolved in the week" in text


def test_writing_keeps_the_bytes_and_audits_their_digest(reviewed: Reviewed) -> None:
    """The report's sha256 is its bytes', the artifact store returns those bytes, and one
    report.weekly_written event names the week, the format and the digest."""
    platform = reviewed.platform
    written = platform.weekly.write(staff(platform, "aude"), reviewed.week, fmt="html")

    assert written.sha256 == sha256_hex(written.content)
    assert platform.artifacts.get(written.sha256) == written.content
    assert written.path is not None
    assert written.path.read_bytes() == written.content
    html = written.content.decode()
    assert "<svg" in html
    assert not re.search(r"(src|href)=['\"]?(https?:|//)", html)
    events = [e for e in platform.audit.events(staff(platform, "aude"),
                                               subject=f"report:weekly:{reviewed.week}")
              if e.action == "report.weekly_written"]
    assert (events[-1].actor, events[-1].payload["week"], events[-1].payload["format"],
            events[-1].payload["sha256"]) == ("aude", reviewed.week.label, "html",
                                              written.sha256)
    again = platform.weekly.stored(staff(platform, "vera"), reviewed.week, fmt="html")
    assert (again.sha256, again.content) == (written.sha256, written.content)


def test_the_summary_names_what_changed_and_what_needs_deciding(reviewed: Reviewed) -> None:
    """The drifted week turns the model red against last week, and the override and the
    open finding are counted."""
    review = reviewed.platform.weekly.assemble(staff(reviewed.platform, "mira"), reviewed.week)

    [model] = review.models
    [endpoint] = model.endpoints
    assert (model.rag, endpoint.overridden, len(model.findings_open)) == ("red", 1, 1)
    assert any(line.startswith(f"{model.model}: RAG") for line in review.changes) \
        or model.previous_rag == "red"
    assert any("red alerts unresolved" in line for line in review.decisions_needed)


def test_a_week_not_begun_or_never_written_is_refused(reviewed: Reviewed) -> None:
    """Next week has nothing to review yet; a format never written is not found."""
    platform, mira = reviewed.platform, staff(reviewed.platform, "mira")
    later = week_of(reviewed.week.end + timedelta(days=1))

    with pytest.raises(InvalidInputError, match="after today") as refused:
        platform.weekly.write(mira, later)
    with pytest.raises(NotFoundError, match="bankml report weekly --week"):
        platform.weekly.stored(mira, reviewed.week.previous(), fmt="pdf")
    with pytest.raises(InvalidInputError) as bad_format:
        platform.weekly.write(mira, reviewed.week, fmt="docx")
    assert (refused.value.field, refused.value.rule) == ("week", "week.begun")
    assert (bad_format.value.field, bad_format.value.rule) == ("format", "report.format")


def test_a_week_without_a_run_is_not_monitored(reviewed: Reviewed) -> None:
    """Two weeks back nothing was measured: the model is not monitored that week, and the
    review asks for a run."""
    before = reviewed.week.previous().previous()

    review = reviewed.platform.weekly.assemble(staff(reviewed.platform, "mira"), before)

    [model] = review.models
    assert (model.rag, model.endpoints[0].run_id) == ("not monitored", None)
    assert f"{model.model}: not monitored this week; run bankml monitor run" in \
        review.decisions_needed


def test_overrides_count_in_the_week_they_were_recorded(reviewed: Reviewed) -> None:
    """A decision of last week overridden this week counts in this week's review, not in
    last week's: overrides are counted by when they were recorded."""
    platform, mira = reviewed.platform, staff(reviewed.platform, "mira")
    last = reviewed.week.previous()
    with sqlite3.connect(reviewed.database) as connection:
        [(decision_id,)] = connection.execute(
            "SELECT decision_id FROM decisions WHERE decided_at >= ? AND decided_at < ? "
            "AND outcome = 'approve' LIMIT 1",
            (utc_timestamp(last.start), utc_timestamp(last.end))).fetchall()

    def counted(week: IsoWeek) -> int:
        return platform.weekly.assemble(mira, week).models[0].endpoints[0].overridden

    before = (counted(last), counted(reviewed.week))
    platform.decisions.override(staff(platform, "bob"), decision_id, outcome="decline",
                                reason_code="POLICY", comment="late documents")
    with sqlite3.connect(reviewed.database) as connection:
        [(recorded,)] = connection.execute(
            "SELECT overridden_at FROM decision_overrides WHERE decision_id = ?",
            (decision_id,)).fetchall()

    assert utc_timestamp(reviewed.week.start) <= recorded < utc_timestamp(reviewed.week.end)
    assert (counted(last), counted(reviewed.week)) == (before[0], before[1] + 1)
