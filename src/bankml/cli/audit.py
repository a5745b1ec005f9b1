"""`bankml audit`: read and verify the hash-chained trail."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from bankml.cli.app import console, errors, new_group
from bankml.cli.context import HomeOption, open_platform

app = new_group("Read and verify the audit trail.")


@app.command("log")
def log(
    home: HomeOption = None,
    subject: Annotated[str | None, typer.Option(help="Only events about this subject.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many, newest.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List audit events, newest last."""
    with open_platform(home) as platform:
        events = platform.audit.events(subject=subject, limit=limit, newest_first=True)
    events.reverse()
    if as_json:
        for event in events:
            console.print_json(json.dumps({
                "sequence": event.sequence, "recorded_at": event.recorded_at,
                "actor": event.actor, "action": event.action, "subject": event.subject,
                "payload": event.payload, "prev_hash": event.prev_hash, "hash": event.hash,
            }), indent=None)
        return
    table = Table(title=f"Audit trail{f' of {subject}' if subject else ''}")
    for column in ("#", "recorded at (UTC)", "actor", "action", "subject", "hash"):
        table.add_column(column)
    for event in events:
        table.add_row(str(event.sequence), event.recorded_at[:19].replace("T", " "),
                      event.actor, event.action, event.subject, event.hash[:12])
    console.print(table)


@app.command("verify")
def verify(home: HomeOption = None) -> None:
    """Re-compute the chain; exit 1 and name the first broken event if it does not hold."""
    with open_platform(home) as platform:
        report = platform.audit.verify()
    if report.is_intact:
        console.print(f"[green]Audit trail intact:[/] {report.events_checked} events, head "
                      f"#{report.head.sequence} {report.head.hash[:16]}")
        return
    found = report.breaks[0]
    errors.print(f"[bold red]Audit trail broken at event {found.sequence} ({found.kind}):[/] "
                 f"{found.detail}. {report.events_checked} events before it verified.")
    raise typer.Exit(1)
