"""`bankml demo --portfolio N`: a bank's portfolio of N endpoints in one `bankml serve`.

Each endpoint is a segment of consumer lending, a product in a region, deciding with a
model of its own: the German credit scorecard's spec under the segment's name and seed
(its own holdout draw, so its own fit), trained, validated independently, signed off and
approved with four eyes, then served. One `bankml serve` starts with every endpoint and
decides once on each over HTTP; then weeks of traffic on a simulated clock (drifting on
every fourth segment from week 3), late outcomes, and a monitoring run per week over the
whole portfolio. Card fraud per channel is not among the segments: on its synthetic twin
its validation is red on recall at the alert budget and on alert-rate fairness, and a
portfolio of models that no validator could sign off would show nothing worth copying.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bankml.cli.app import console
from bankml.cli.demo_steps import gates
from bankml.cli.demo_steps.applicants import within
from bankml.cli.demo_steps.credit import ENDPOINT, SPEC, _request
from bankml.cli.demo_steps.monitoring import (
    LABEL_LAG_WEEKS,
    MATURITY_DAYS,
    SimulatedClock,
    _drifted,
)
from bankml.cli.demo_steps.scale import FULL
from bankml.cli.demo_steps.served import app_token, served
from bankml.core.canonical import utc_timestamp
from bankml.core.identity import Principal
from bankml.core.registry import ModelVersion
from bankml.datasets import german_credit, load_german_credit
from bankml.documents import load_yaml
from bankml.monitoring.policy import DEFAULT, MonitoringPolicy, parse_policy
from bankml.platform import Platform
from bankml.serving.endpoint_files import load_endpoint

WEEKS, PER_WEEK, DRIFT_FROM_WEEK = FULL.weeks, FULL.per_week, FULL.drift_from_week
PRODUCTS = ("instalment", "car", "home-improvement", "education", "furniture")
REGIONS = ("north", "south", "east", "west", "central", "capital", "coast", "mountains",
           "islands", "border")
APP = "portfolio-app"  # the service account that decides over HTTP
DRIFT_EVERY = 4  # every fourth segment drifts: a new broker channel in its region


@dataclass(frozen=True, slots=True, kw_only=True)
class Served:
    """One `bankml serve` with the portfolio: how long it took to be ready, its memory."""

    startup_s: float  # until /v2/health/ready answers
    rss_ready_mib: float
    rss_loaded_mib: float  # after one decision on every endpoint (each loaded)
    peak_mib: float
    decided: int  # decisions made over HTTP, one per endpoint


@dataclass(frozen=True, slots=True, kw_only=True)
class Week:
    decisions: int
    labels: int
    runs: int
    greens: int
    ambers: int
    reds: int
    monitoring_s: float  # the weekly run over every endpoint


@dataclass(slots=True, kw_only=True)
class Portfolio:
    endpoints: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)  # name@number in prod behind them
    refused: list[str] = field(default_factory=list)  # segments a validator did not sign off
    setup_s: float = 0.0
    served: Served | None = None
    weeks: list[Week] = field(default_factory=list)


def segments(count: int) -> list[str]:
    """`count` segment names, product-region, then numbered past the 50 combinations."""
    names = [f"{product}-{region}" for region in REGIONS for product in PRODUCTS]
    return [names[i % len(names)] + (f"-{i // len(names) + 1}" if i >= len(names) else "")
            for i in range(count)]


def run(platform: Platform, people: dict[str, Principal], count: int, *, weeks: int = WEEKS,
        per_week: int = PER_WEEK) -> Portfolio:
    """The whole portfolio demo; returns its figures (the benchmark prints them)."""
    found = Portfolio()
    started = time.perf_counter()
    console.rule(f"[bold]1. {count} segments: trained, validated, signed off, approved")
    build(platform, people, segments(2 * count), found, wanted=count)
    found.setup_s = time.perf_counter() - started
    console.print(f"{len(found.endpoints)} endpoints in prod, each on a model of its own, "
                  f"in {found.setup_s:.0f} s"
                  + (f"; not signed off by the validator, left in staging: "
                     f"{', '.join(found.refused)}" if found.refused else "."))
    if not found.endpoints:
        return found
    data = load_german_credit(platform.settings.datasets)
    # each segment's model saw its own training ranges: the applicants all of them accept
    versions = [platform.registry.get(ref) for ref in found.models]
    pool = [r for r in (_request(row, versions[0])
                        for row in data.frame.to_dict(orient="records"))
            if all(within(r, version) for version in versions)]
    console.rule(f"[bold]2. One `bankml serve` with {len(found.endpoints)} endpoints")
    found.served = serve(platform, found.endpoints, pool[0])
    console.print(f"Ready in {found.served.startup_s:.1f} s, resident "
                  f"{found.served.rss_ready_mib:.0f} MiB; after one decision over HTTP on "
                  f"every endpoint (each loads its model on its first): "
                  f"{found.served.rss_loaded_mib:.0f} MiB (peak {found.served.peak_mib:.0f}).")
    console.rule(f"[bold]3. {weeks} weeks of traffic, late outcomes, a weekly monitoring run")
    defaulted = dict(zip(data.frame["row_id"].astype(str),
                         data.frame[german_credit.TARGET].astype(int), strict=True))
    found.weeks = watch(platform, people, found.endpoints, pool, defaulted, weeks=weeks,
                        per_week=per_week)
    inventory(platform, people["mira"], found)
    return found


def build(platform: Platform, people: dict[str, Principal], names: list[str],
          found: Portfolio, *, wanted: int) -> None:
    """Segment after segment, its model through the gates and behind its endpoint, until
    `wanted` are served (what an earlier run on this home did is kept). A model whose
    validation is not adequate stays in staging unsigned, as a validator would leave it."""
    folder = platform.settings.home / "portfolio"
    folder.mkdir(parents=True, exist_ok=True)
    template = load_endpoint(ENDPOINT)
    with platform.metadata.reading() as tx:
        applied = {e.name for e in tx.endpoints.all()}
    with _progress() as progress:
        task = progress.add_task("segments", total=wanted)
        for index, segment in enumerate(names):
            if len(found.endpoints) == wanted:
                break
            endpoint, model = f"credit-{segment}", f"credit-pd-{segment}"
            progress.update(task, description=model)
            if endpoint in applied:
                found.endpoints.append(endpoint)
                found.models.append(platform.registry.get(f"{model}@champion").ref)
                progress.advance(task)
                continue
            promoted, opinion = _promote(platform, people, _spec(folder, model, segment, index))
            if promoted is None:
                found.refused.append(f"{model} (opinion {opinion})")
                continue
            platform.endpoints.apply(people["eli"], replace(
                template, name=endpoint, model=model,
                description=f"{template.description} Segment: {segment}."))
            found.endpoints.append(endpoint)
            found.models.append(promoted.ref)
            progress.advance(task)


def _spec(folder: Path, model: str, segment: str, index: int) -> Path:
    spec: dict[str, Any] = load_yaml(SPEC.read_text(encoding="utf-8"), source=str(SPEC))
    spec["model"]["name"] = model
    spec["seed"] = 7 + index  # the segment's own holdout draw
    spec["tags"] = {**spec.get("tags", {}), "segment": segment}
    # the spec names its dataset, not a path, so it reads the same data from any folder
    path = folder / f"{model}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def _promote(platform: Platform, people: dict[str, Principal], spec: Path
             ) -> tuple[ModelVersion | None, int]:
    """Train, validate, sign off, then staging and prod with four eyes (gates); the
    version in prod (None when the validator does not sign off) and the opinion."""
    version = platform.training.train(people["dana"], spec)
    checked = platform.validation.run(people["vera"], version.ref)
    if not gates.sign_off(platform, people, version, checked, reason="segment model"):
        return None, int(checked.opinion)
    gated = gates.to_prod(platform, people, version, reason="validated segment model")
    return (None if gated.held_back else gated.version), int(checked.opinion)


def serve(platform: Platform, endpoints: list[str], request: dict[str, Any]) -> Served:
    """Start `bankml serve` on this home, wait until it is ready, decide once on every
    endpoint over HTTP, read its memory, stop it."""
    from bankml.client import BankmlClient  # noqa: PLC0415 - HTTP only for this step

    token = app_token(platform, APP, scopes=frozenset({"*"}),
                      display_name="The portfolio's applications",
                      description="bankml demo --portfolio")
    with served(platform.settings.home) as server:
        ready = _memory_mib(server.pid)
        with BankmlClient(server.url, token) as client:  # as the bank's applications call it
            decided = sum(bool(client.decide(endpoint, request)["decision_id"])
                          for endpoint in endpoints)
        loaded = _memory_mib(server.pid)
    return Served(startup_s=server.startup_s, rss_ready_mib=ready[0],
                  rss_loaded_mib=loaded[0], peak_mib=loaded[1], decided=decided)


def watch(platform: Platform, people: dict[str, Principal], endpoints: list[str],
          pool: list[dict[str, Any]], defaulted: dict[str, int], *, weeks: int,
          per_week: int) -> list[Week]:
    """Weeks of decisions on every endpoint on a simulated clock, the outcomes of each
    week's decisions two weeks later, and a monitoring run over the portfolio per week."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first = today - timedelta(weeks=weeks)
    clock = SimulatedClock(first)
    policy = _policy(endpoints)
    rng = np.random.default_rng(11)
    decided: list[list[tuple[str, str, str]]] = []  # per week: (endpoint, decision, customer)
    found: list[Week] = []
    table = Table("week", "decisions", "outcomes in", "runs", "green", "amber", "red",
                  "monitoring s")
    with Platform.from_settings(platform.settings, clock=clock) as simulated, \
            _progress() as progress:
        for week in range(1, weeks + 1):
            monday = first + timedelta(weeks=week - 1)
            clock.moment = monday + timedelta(days=2, hours=10)
            task = progress.add_task(f"week {week}", total=len(endpoints))
            made: list[tuple[str, str, str]] = []
            for index, endpoint in enumerate(endpoints):
                chosen = [pool[i] for i in rng.choice(len(pool), per_week, replace=False)]
                if index % DRIFT_EVERY == DRIFT_EVERY - 1 and week >= DRIFT_FROM_WEEK:
                    chosen = _drifted(chosen, pool)
                records = simulated.decisions.decide(people["eli"], endpoint, chosen)
                made += [(endpoint, r.decision_id, q["customer_id"])
                         for r, q in zip(records, chosen, strict=True)]
                progress.advance(task)
            decided.append(made)
            arrived = _outcomes(simulated, people["eli"], decided, week, clock.moment,
                                defaulted)
            began = time.perf_counter()
            runs = simulated.monitor.run(people["mira"], as_of=monday + timedelta(weeks=1),
                                         policy=policy)
            seconds = time.perf_counter() - began
            found.append(Week(decisions=len(made), labels=arrived, runs=len(runs),
                              greens=sum(r.greens for r in runs),
                              ambers=sum(r.ambers for r in runs),
                              reds=sum(r.reds for r in runs), monitoring_s=seconds))
            progress.remove_task(task)
    for week, row in enumerate(found, start=1):
        table.add_row(str(week), f"{row.decisions:,}", f"{row.labels:,}", str(row.runs),
                      str(row.greens), str(row.ambers), str(row.reds),
                      f"{row.monitoring_s:.1f}")
    console.print(table)
    return found


def inventory(platform: Platform, viewer: Principal, found: Portfolio) -> None:
    """The inventory and the alerts as the model-risk function sees them now."""
    from bankml.governance.inventory import build_inventory  # noqa: PLC0415

    rows = build_inventory(viewer, platform.registry, platform.oversight,
                           platform.oversight.policies)
    ours = {m.partition("@")[0] for m in found.models}
    in_prod = [row for row in rows if row.model in ours and row.production_version]
    alerts = platform.alerts.alerts(viewer, unresolved=True)
    red = sorted({a.endpoint for a in alerts if a.severity == "red" and a.endpoint})
    console.print(f"Inventory: {len(rows)} models, {len(in_prod)} of the portfolio's in prod "
                  f"(bankml inventory). Open alerts: {len(alerts)}, red on "
                  f"{len(red)} endpoints{': ' + ', '.join(red[:6]) if red else ''}"
                  f"{' ...' if len(red) > 6 else ''} (bankml alerts list; bankml monitor "
                  f"status --endpoint {found.endpoints[0]}).")


def _outcomes(simulated: Platform, eli: Principal, decided: list[list[tuple[str, str, str]]],
              week: int, moment: datetime, defaulted: dict[str, int]) -> int:
    """The outcomes of the decisions made LABEL_LAG_WEEKS ago, per endpoint."""
    if week <= LABEL_LAG_WEEKS:
        return 0
    by_endpoint: dict[str, list[dict[str, Any]]] = {}
    for endpoint, decision_id, customer in decided[week - 1 - LABEL_LAG_WEEKS]:
        by_endpoint.setdefault(endpoint, []).append({
            "decision_id": decision_id, "outcome": defaulted[customer],
            "observed_at": utc_timestamp(moment)})
    return sum(simulated.labels.ingest(eli, rows, endpoint=endpoint,
                                       source="demo outcomes").new
               for endpoint, rows in by_endpoint.items())


def _policy(endpoints: list[str]) -> MonitoringPolicy:
    maturity = ", ".join(f"{e}: {MATURITY_DAYS}" for e in endpoints)
    return parse_policy(DEFAULT.read_text().replace("maturity_days: {}",
                                                    f"maturity_days: {{{maturity}}}"),
                        source="the shipped policy with the demo's maturity")


def _memory_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of `pid` in MiB, from /proc (Linux); (0, 0) elsewhere."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return 0.0, 0.0
    found = {}
    for line in status.read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found.get("VmRSS", 0.0), found.get("VmHWM", 0.0)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description:<34}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)
