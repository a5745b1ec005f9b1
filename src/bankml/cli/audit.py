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
from bankml.core.audit import ChainReport, parse_checkpoint
from bankml.core.errors import InvalidInputError
from bankml.presenters import audit_event_view

app = new_group("Read and verify the audit trail.")


@app.command("log")
def log(
    home: HomeOption = None,
    subject: Annotated[str | None, typer.Option(help="Only events about this subject.")] = None,
    action: Annotated[str | None, typer.Option(
        help="Only this action, or every action under a prefix that ends in a dot "
             "(rollout.).")] = None,
    actor: Annotated[str | None, typer.Option(help="Only events by this actor.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many, newest.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    token: TokenOption = None,
) -> None:
    """List audit events, newest last (auditor, model_risk or admin)."""
    with open_platform(home) as platform:
        events = platform.audit.events(acting_user(platform, token), subject=subject,
                                       action=action, actor=actor, limit=limit,
                                       newest_first=True)
    events.reverse()
    if as_json:
        for event in events:
            console.print_json(json.dumps(audit_event_view(event)), indent=None)
        return
    narrowed = [f"{label} {value}" for label, value in
                (("of", subject), ("action", action), ("by", actor)) if value]
    table = Table(title=" ".join(["Audit trail", *narrowed]))
    for column in ("#", "recorded at (UTC)", "actor", "action", "subject", "hash"):
        table.add_column(column)
    for event in events:
        table.add_row(str(event.sequence), event.recorded_at[:19].replace("T", " "),
                      event.actor, event.action, event.subject, event.hash[:12])
    console.print(table)


@app.command("verify")
def verify(
    home: HomeOption = None, token: TokenOption = None,
    anchors: Annotated[bool, typer.Option(
        "--anchors", help="Also check the chain against every anchor kept outside the "
                          "database: a rewritten or wiped chain no longer matches them.")] = False,
    expect_head: Annotated[list[str] | None, typer.Option(
        "--expect-head", metavar="SEQ:HASH",
        help="A head written down earlier (this command prints it; so does an export's "
             "header): the chain must still hold that event with that hash. Repeatable.")
    ] = None,
    deep: Annotated[bool, typer.Option(
        "--deep", help="Also re-derive the state beside the chain (roles, artifacts, stages, "
                       "aliases, feature definitions) from its events and name every row "
                       "that disagrees.")] = False,
) -> None:
    """Re-compute the chain; exit 1 and say what does not hold if it does not."""
    expected = [parse_checkpoint(text, label=f"expected head {text.strip()[:24]}")
                for text in expect_head or []]
    with open_platform(home) as platform:
        report = platform.audit.verify(acting_user(platform, token), anchors=anchors,
                                       expect=expected, deep=deep)
    print_report(report)
    if not report.is_intact:
        raise typer.Exit(1)


def print_report(report: ChainReport) -> None:
    """The chain's head, or its first break; every checkpoint that fails, named."""
    for failure in report.checkpoint_failures:
        errors.print(f"[bold red]{failure.label}:[/] {failure.detail}.", highlight=False)
    if report.breaks:
        found = report.breaks[0]
        errors.print(f"[bold red]Audit trail broken at event {found.sequence} ({found.kind}):[/] "
                     f"{found.detail}. {report.events_checked} events before it verified.")
        return
    for row in report.disagreements:
        errors.print(f"[bold red]{row.table}.{row.column} of {row.key}:[/] stored "
                     f"{row.stored}, but {row.detail}: {row.derived}.", highlight=False)
    checked = (f"; {report.checkpoints_checked} checkpoints checked"
               if report.checkpoints_checked else "")
    if report.rows_checked is not None:
        checked += f"; {report.rows_checked} rows re-derived"
    head = f"{report.events_checked} events, head {report.head.sequence}:{report.head.hash}"
    if report.is_intact:
        console.print(f"[green]Audit trail intact:[/] {head}{checked}", highlight=False)
    else:
        failing = len(report.checkpoint_failures) + len(report.disagreements)
        errors.print(f"[bold red]Audit trail does not hold:[/] {head}{checked}, "
                     f"{failing} failing.", highlight=False)


@app.command("anchor")
def anchor(home: HomeOption = None, token: TokenOption = None) -> None:
    """Seal the chain's head now and keep it outside the database (auditor, model_risk or
    admin); run it from a scheduler to anchor at fixed times."""
    with open_platform(home) as platform:
        made = platform.audit.anchoring.anchor(acting_user(platform, token))
    if made is None:
        console.print("The chain is empty: nothing to anchor.")
        return
    console.print(f"Anchored head {made.sequence}:{made.hash} as {made.digest}.")


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
