"""Demo step: weeks of traffic on the credit endpoint, drifting in the last ones, outcomes
that arrive weeks later, a monitoring run per week and the alerts they open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from rich.markup import escape
from rich.table import Table

from bankml.cli.app import console
from bankml.cli.demo_steps.applicants import within
from bankml.cli.demo_steps.credit import _request
from bankml.cli.demo_steps.scale import Scale
from bankml.cli.monitor import sparkline
from bankml.core.canonical import utc_timestamp
from bankml.core.decisions import DecisionRecord
from bankml.core.identity import Principal
from bankml.core.monitoring import Alert, Status
from bankml.core.registry import ModelVersion
from bankml.datasets import ExampleData, german_credit
from bankml.monitoring.policy import DEFAULT, MonitoringPolicy, parse_policy
from bankml.platform import Platform

# from the scale's drift week on, loan amounts and terms move up: a new broker channel, say
DRIFTED = ("credit_amount", "duration_months")
LABEL_LAG_WEEKS = 2  # outcomes of a week's decisions arrive two weeks later
MATURITY_DAYS = 14  # the demo's, so a month shows performance; credit's own is 365


@dataclass(frozen=True)
class Watched:
    reds_by_week: list[int]
    alerts: list[Alert]


class SimulatedClock:
    """The time the simulated weeks' decisions and outcomes carry."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def watch(platform: Platform, version: ModelVersion, data: ExampleData,
          people: dict[str, Principal], endpoint: str, scale: Scale) -> Watched:
    """The weeks before today, on a simulated clock; the runs and alerts are real."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first = today - timedelta(weeks=scale.weeks)
    clock = SimulatedClock(first)
    pool = [_request(row, version) for row in data.frame.to_dict(orient="records")]
    pool = [r for r in pool if within(r, version)]
    defaulted = dict(zip(data.frame["row_id"].astype(str),
                         data.frame[german_credit.TARGET].astype(int), strict=True))
    console.print(f"{scale.weeks} weeks of applications on a simulated clock, "
                  f"{scale.per_week} a week; from week {scale.drift_from_week} loan amounts "
                  f"and terms move up. Outcomes arrive {LABEL_LAG_WEEKS} weeks after each "
                  f"decision; the demo matures credit labels after {MATURITY_DAYS} days "
                  "(credit's own is 365).")
    policy = _demo_policy(endpoint)
    decided: list[list[tuple[DecisionRecord, str]]] = []
    reds_by_week: list[int] = []
    table = Table("week", "decisions", "outcomes in", "green", "amber", "red", "red metrics")
    rng = np.random.default_rng(7)
    with Platform.from_settings(platform.settings, clock=clock) as simulated:
        for week in range(1, scale.weeks + 1):
            monday = first + timedelta(weeks=week - 1)
            clock.moment = monday + timedelta(days=2, hours=10)
            chosen = [pool[i] for i in rng.choice(len(pool), scale.per_week,
                                               replace=False)]
            requests = _drifted(chosen, pool) if week >= scale.drift_from_week else chosen
            records = simulated.decisions.decide(people["eli"], endpoint, requests)
            decided.append([(record, request["customer_id"])
                            for record, request in zip(records, requests, strict=True)])
            arrived = 0
            if week > LABEL_LAG_WEEKS:
                arrived = simulated.labels.ingest(people["eli"], [
                    {"decision_id": record.decision_id, "outcome": defaulted[customer],
                     "observed_at": utc_timestamp(clock.moment)}
                    for record, customer in decided[week - 1 - LABEL_LAG_WEEKS]],
                    endpoint=endpoint, source="demo outcomes").new
            [run] = simulated.monitor.run(people["mira"], endpoint=endpoint,
                                          as_of=monday + timedelta(weeks=1), policy=policy)
            reds = [p.metric for p in simulated.monitor.points(people["mira"], run.run_id)
                    if p.status == Status.RED]
            reds_by_week.append(run.reds)
            table.add_row(str(week), f"{run.decisions:,}", f"{arrived:,}", str(run.greens),
                          str(run.ambers), str(run.reds), escape(_red_subjects(reds)))
    console.print(table)
    series = platform.monitor.series(people["mira"], endpoint, since=first)
    for metric in (f"feature.psi[{DRIFTED[0]}]", "performance.auc"):
        values = [p.value for _, p in series if p.metric == metric]
        console.print(f"  {escape(metric):<28} {sparkline(values):<6} "
                      + " ".join(f"{v:.3f}" for v in values if v is not None))
    alerts = platform.alerts.alerts(people["mira"], endpoint=endpoint, unresolved=True)
    if alerts:
        red = next((a for a in alerts if a.severity == "red"), alerts[0])
        platform.alerts.acknowledge(people["mira"], red.alert_id,
                                    comment="new broker channel since week 3; recalibrating")
        console.print(f"{len(alerts)} alerts open, one per metric (red: "
                      f"{sum(a.severity == 'red' for a in alerts)}); mira acknowledges "
                      f"alert {red.alert_id} ({escape(red.title)}). A red alert blocks "
                      f"promotions of "
                      f"{version.name} until it is resolved.\n"
                      f"$ bankml monitor status --endpoint {endpoint}")
    return Watched(reds_by_week, alerts)


def _demo_policy(endpoint: str) -> MonitoringPolicy:
    return parse_policy(DEFAULT.read_text().replace(
        "maturity_days: {}", f"maturity_days: {{{endpoint}: {MATURITY_DAYS}}}"),
        source="the shipped policy with the demo's maturity")


def _drifted(requests: list[dict[str, Any]], pool: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The requests with the drifted inputs drawn from the largest quarter of the pool (all
    within the model's signature)."""
    shifted = [dict(r) for r in requests]
    for name in DRIFTED:
        high = sorted(r[name] for r in pool)[-(len(pool) // 4):]
        for i, request in enumerate(shifted):
            request[name] = high[(i * 7) % len(high)]
    return shifted


def _red_subjects(metrics: list[str]) -> str:
    """Red metrics in a few words: whole-window metrics by name, inputs by their name."""
    inputs = sorted({m.split("[", 1)[1].rstrip("]") for m in metrics if "[" in m})
    whole = sorted({m for m in metrics if "[" not in m})
    return ", ".join([*whole, *inputs]) or "-"
