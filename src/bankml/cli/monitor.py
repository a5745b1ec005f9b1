"""`bankml monitor`: measure endpoints' windows and show their status."""

from __future__ import annotations

import re
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from bankml.cli.app import console, new_group
from bankml.cli.context import HomeOption, TokenOption, acting_user, open_platform
from bankml.core.errors import BankmlError, InvalidInputError
from bankml.core.monitoring import Status
from bankml.monitoring.schedule import Cron, Schedule

if TYPE_CHECKING:
    from bankml.monitoring.policy import MonitoringPolicy
    from bankml.settings import Settings

app = new_group("Production monitoring: runs per window, status with RAG and sparklines.")
COLOURS = {Status.GREEN: "green", Status.AMBER: "yellow", Status.RED: "red",
           Status.INSUFFICIENT: "dim", Status.INFO: "blue"}
BARS = "▁▂▃▄▅▆▇█"
DataOption = Annotated[Path | None, typer.Option(
    "--data", help="Fresh data (the spec's source file, now) for a retraining a red alert "
    "starts; default the policy's, else the source the model's spec declares.")]
WorkersOption = Annotated[int | None, typer.Option(
    "--workers", help="Worker processes measuring endpoints at once (each holds one "
    "endpoint's window in memory); default BANKML_MONITOR_WORKERS, 1.")]


@app.command("run")
def run(
    endpoint: Annotated[str | None, typer.Option(help="Only this endpoint.")] = None,
    window: Annotated[str, typer.Option(help="Window length in days, e.g. 7d.")] = "7d",
    as_of: Annotated[str | None, typer.Option("--as-of", help="End of the window (ISO 8601, "
                                              "UTC); default the start of today.")] = None,
    policy: Annotated[Path | None, typer.Option(help="A monitoring policy YAML.")] = None,
    data: DataOption = None, workers: WorkersOption = None,
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """Measure the window of each endpoint; a window measured before is shown, not redone.
    A red alert the policy lets retrain starts its model's pipeline (see `retrainings`)."""
    days = _days(window)
    moment = None if as_of is None else _utc(as_of)
    with open_platform(home) as platform, console.status("measuring"):
        runs = platform.monitor.run(acting_user(platform, token), endpoint=endpoint,
                                    window_days=days, as_of=moment,
                                    policy=_policy(policy),
                                    data=data, workers=_workers(workers, platform.settings))
    for done in runs:
        console.print(f"{done.endpoint} {done.window_start} .. {done.window_end}: "
                      f"{done.decisions:,} decisions, [green]{done.greens} green[/], "
                      f"[yellow]{done.ambers} amber[/], [red]{done.reds} red[/] "
                      f"(run {done.run_id})")


@app.command("schedule")
def schedule(
    cron: Annotated[str, typer.Option(help="When, in UTC: minute hour day-of-month month "
                                           "day-of-week.")] = "0 2 * * 1",
    endpoint: Annotated[str | None, typer.Option(help="Only this endpoint.")] = None,
    window: Annotated[str, typer.Option(help="Window length in days, e.g. 7d.")] = "7d",
    policy: Annotated[Path | None, typer.Option(help="A monitoring policy YAML.")] = None,
    data: DataOption = None, workers: WorkersOption = None,
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """Run monitoring at every moment of CRON until SIGTERM or Ctrl-C.

    Each window ends at its scheduled moment and is measured once: on start the latest
    moment already due is run (a stored window is only read back), then each next one.
    A failed run is reported and the schedule goes on.
    """
    days, plan = _days(window), Cron.parse(cron)
    chosen = _policy(policy)
    with open_platform(home) as platform:
        by = acting_user(platform, token)
        processes = _workers(workers, platform.settings)

        def job(moment: datetime) -> None:
            try:
                runs = platform.monitor.run(by, endpoint=endpoint, window_days=days,
                                            as_of=moment, policy=chosen, data=data,
                                            workers=processes)
            except BankmlError as failed:
                console.print(f"[red]{moment:%Y-%m-%dT%H:%MZ}: {failed}[/] ({failed.rule})")
                runs = []
            for done in runs:
                console.print(f"{done.endpoint} window to {done.window_end}: "
                              f"{done.decisions:,} decisions, {done.reds} red, "
                              f"{done.ambers} amber (run {done.run_id})")
            console.print(f"next window at {plan.next_after(moment):%Y-%m-%dT%H:%MZ}")

        loop = Schedule(plan, job)
        handlers = {sig: signal.signal(sig, lambda *_: loop.stop())
                    for sig in (signal.SIGTERM, signal.SIGINT)}
        console.print(f"Monitoring on '{cron}' (UTC), {days}-day windows; SIGTERM stops.")
        try:
            loop.run_forever()
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
    console.print("Stopped.")


@app.command("retrainings")
def retrainings(
    endpoint: Annotated[str | None, typer.Option(help="Only this endpoint.")] = None,
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """Retrainings that red alerts started: each step reached, or where it stopped and why."""
    with open_platform(home) as platform:
        found = platform.retraining.retrainings(acting_user(platform, token), endpoint)
    table = Table("#", "alert", "endpoint", "metric", "status", "version", "run", "rollout",
                  "stopped at")
    for r in found:
        stopped = (f"{r.outcome.get('step')}: {r.outcome.get('rule')}" if r.outcome else "")
        table.add_row(str(r.retraining_id), str(r.alert_id), r.endpoint, escape(r.metric),
                      str(r.status), r.ref or "", r.run_id or "",
                      "" if r.rollout_id is None else str(r.rollout_id), escape(stopped))
    console.print(table)


@app.command("status")
def status(
    endpoint: Annotated[str, typer.Option(help="The endpoint.")],
    weeks: Annotated[int, typer.Option(help="How many weeks the sparklines cover.")] = 8,
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """Each metric's latest status with a sparkline of its last weeks."""
    since = datetime.now(UTC) - timedelta(weeks=weeks)
    with open_platform(home) as platform:
        found = platform.monitor.status(acting_user(platform, token), endpoint, since=since)
    table = Table("model", "route", "metric", "status", "value", "p", "n", "trend")
    for trend in found:
        last = trend.latest
        colour = COLOURS[last.status]
        table.add_row(last.model, last.route, escape(last.metric), f"[{colour}]{last.status}[/]",
                      _number(last.value), _number(last.p_value), f"{last.n:,}",
                      sparkline([w.value for w in trend.history]))
    console.print(table)


def sparkline(values: list[float | None]) -> str:
    """One bar per window, scaled between the series' own minimum and maximum."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = high - low or 1.0
    return "".join(" " if v is None else BARS[int((v - low) / span * (len(BARS) - 1))]
                   for v in values)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def _workers(given: int | None, settings: Settings) -> int:
    """The flag's number, else the setting's; the monitor refuses one out of range."""
    return settings.monitor_workers if given is None else given


def _days(window: str) -> int:
    match = re.fullmatch(r"(\d+)d", window.strip())
    if match is None or int(match.group(1)) < 1:
        raise InvalidInputError("--window", f"{window!r} is not a number of days like 7d",
                                rule="monitoring.window_days")
    return int(match.group(1))


def _utc(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError("--as-of", f"{text!r} is not an ISO 8601 time",
                                rule="monitoring.as_of") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _policy(path: Path | None) -> MonitoringPolicy | None:
    """The policy file's, or None for the home's own; pydantic loads only when one is read."""
    if path is None:
        return None
    from bankml.monitoring.policy import load_policy  # noqa: PLC0415 - loads on first use
    return load_policy(path)
