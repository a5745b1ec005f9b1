"""`bankml alerts`: monitoring alerts, and moving them open -> acknowledged -> resolved."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bankml.cli.app import console, new_group
from bankml.cli.context import HomeOption, TokenOption, acting_user, open_platform
from bankml.core.monitoring import Alert

app = new_group("Monitoring alerts: list them, acknowledge and resolve them with a comment.")
COLOURS = {"red": "red", "amber": "yellow"}
AlertId = Annotated[int, typer.Argument(help="The alert's number (see `bankml alerts list`).")]
Comment = Annotated[str, typer.Option("--comment", "-m", help="Why: kept in the audit trail.")]


@app.command("list")
def list_alerts(
    endpoint: Annotated[str | None, typer.Option(help="Only this endpoint's.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Resolved ones too.")] = False,
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """Unresolved alerts (every alert with --all), oldest first."""
    with open_platform(home) as platform:
        found = platform.alerts.alerts(acting_user(platform, token), endpoint=endpoint,
                                       unresolved=not all_)
    table = Table("#", "severity", "status", "endpoint", "metric", "title", "last seen",
                  "by", "comment")
    for alert in found:
        colour = COLOURS.get(alert.severity, "white")
        table.add_row(str(alert.alert_id), f"[{colour}]{alert.severity}[/]", str(alert.status),
                      alert.endpoint or "", alert.metric or "", alert.title,
                      alert.last_seen_at or alert.opened_at, _mover(alert), alert.comment)
    console.print(table)


@app.command("ack")
def acknowledge(alert_id: AlertId, comment: Comment, home: HomeOption = None,
                token: TokenOption = None) -> None:
    """Say that someone is on it: open -> acknowledged."""
    with open_platform(home) as platform:
        moved = platform.alerts.acknowledge(acting_user(platform, token), alert_id,
                                            comment=comment)
    console.print(f"Alert #{moved.alert_id} [yellow]acknowledged[/] by {moved.acknowledged_by}.")


@app.command("resolve")
def resolve(alert_id: AlertId, comment: Comment, home: HomeOption = None,
            token: TokenOption = None) -> None:
    """Close it: a resolved red alert no longer blocks promotion."""
    with open_platform(home) as platform:
        moved = platform.alerts.resolve(acting_user(platform, token), alert_id, comment=comment)
    console.print(f"Alert #{moved.alert_id} [green]resolved[/] by {moved.closed_by}.")


def _mover(alert: Alert) -> str:
    return alert.closed_by or alert.acknowledged_by or alert.opened_by
