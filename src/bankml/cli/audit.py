"""`bankml audit`: read and verify the hash-chained trail."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bankml.cli.app import console, errors, new_group
from bankml.cli.context import HomeOption, TokenOption, acting_user, open_platform
from bankml.core.errors import InvalidInputError
from bankml.presenters import audit_event_view

app = new_group("Read and verify the audit trail.")


@app.command("log")
def log(
    home: HomeOption = None,
    subject: Annotated[str | None, typer.Option(help="Only events about this subject.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many, newest.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    token: TokenOption = None,
) -> None:
    """List audit events, newest last (auditor, model_risk or admin)."""
    with open_platform(home) as platform:
        events = platform.audit.events(acting_user(platform, token), subject=subject,
                                       limit=limit, newest_first=True)
    events.reverse()
    if as_json:
        for event in events:
            console.print_json(json.dumps(audit_event_view(event)), indent=None)
        return
    table = Table(title=f"Audit trail{f' of {subject}' if subject else ''}")
    for column in ("#", "recorded at (UTC)", "actor", "action", "subject", "hash"):
        table.add_column(column)
    for event in events:
        table.add_row(str(event.sequence), event.recorded_at[:19].replace("T", " "),
                      event.actor, event.action, event.subject, event.hash[:12])
    console.print(table)


@app.command("verify")
def verify(home: HomeOption = None, token: TokenOption = None) -> None:
    """Re-compute the chain; exit 1 and name the first broken event if it does not hold."""
    with open_platform(home) as platform:
        report = platform.audit.verify(acting_user(platform, token))
    if report.is_intact:
        console.print(f"[green]Audit trail intact:[/] {report.events_checked} events, head "
                      f"#{report.head.sequence} {report.head.hash[:16]}")
        return
    found = report.breaks[0]
    errors.print(f"[bold red]Audit trail broken at event {found.sequence} ({found.kind}):[/] "
                 f"{found.detail}. {report.events_checked} events before it verified.")
    raise typer.Exit(1)


def _utc(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInputError(option, f"{text!r} is not an ISO 8601 time such as "
                                "2026-03-01 or 2026-03-01T09:30:00+00:00") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command("export")
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write (JSON lines).")],
    since: Annotated[str | None, typer.Option("--from", help="From this UTC time (ISO 8601), "
                                                             "inclusive.")] = None,
    until: Annotated[str | None, typer.Option("--to", help="Up to this UTC time, "
                                                           "exclusive.")] = None,
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """Write events with their chain hashes, for verification outside bankml (docs/audit.md)."""
    with open_platform(home) as platform:
        by = acting_user(platform, token)
        lines = platform.audit.export(by, since=_utc(since, "--from"),
                                      until=_utc(until, "--to"))
        with output.open("w", encoding="utf-8") as target:
            count = sum(1 for line in lines if target.write(line + "\n")) - 1
    console.print(f"Wrote {count} events to {output}.")
