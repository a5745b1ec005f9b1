"""`bankml decisions`: look up and replay logged decisions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from bankml.cli.app import console, errors, new_group
from bankml.cli.context import HomeOption, TokenOption, acting_user, open_platform
from bankml.core.errors import InvalidInputError
from bankml.presenters import decision_view

app = new_group("Logged decisions: show, replay, verify.")
DecisionId = Annotated[str, typer.Argument(help="The decision's id.")]


@app.command("show")
def show(decision_id: DecisionId, home: HomeOption = None, token: TokenOption = None) -> None:
    """The decision record as logged (its inputs are personal data: a role reads them)."""
    with open_platform(home) as platform:
        record = platform.decisions.get(acting_user(platform, token), decision_id)
    console.print_json(json.dumps(decision_view(record)))


@app.command("replay")
def replay(decision_id: DecisionId, home: HomeOption = None,
           token: TokenOption = None) -> None:
    """Score the decision again from its recorded artifact and inputs; exit 1 if it differs."""
    with open_platform(home) as platform:
        result = platform.decisions.replay(acting_user(platform, token), decision_id)
    reasons = ("" if result.reasons is None else
               f", reasons {'the same' if result.reasons_equal else 'DIFFERENT'} "
               f"({', '.join(result.reasons) or 'none'})")
    line = (f"logged {result.record.score!r} ({result.record.outcome}), replayed "
            f"{result.score!r} ({result.outcome}), |delta| {result.delta:.1e}{reasons}")
    if not result.is_identical:
        errors.print(f"[bold red]Different:[/] {line}")
        raise typer.Exit(1)
    console.print(f"[green]Identical:[/] {line}")


@app.command("verify")
def verify(
    endpoint: Annotated[str | None, typer.Option(help="Only this endpoint's decisions.")] = None,
    since: Annotated[str | None, typer.Option("--from", help="Decided from this UTC time "
                                                             "(ISO 8601), inclusive.")] = None,
    until: Annotated[str | None, typer.Option("--to", help="Up to this UTC time, "
                                                           "exclusive.")] = None,
    recompute_features: Annotated[bool, typer.Option(
        "--recompute-features", help="Also rebuild each decision's online feature values "
                                     "from the offline store as of its time.")] = False,
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """Check every batch's proof and make each decision again; exit 1 on any difference."""
    with open_platform(home) as platform, console.status("verifying decisions"):
        report = platform.decisions.verify(
            acting_user(platform, token), endpoint=endpoint, since=_utc(since, "--from"),
            until=_utc(until, "--to"), recompute_features=recompute_features)
    for problem in report.proof_problems[:20]:
        errors.print(f"[red]proof[/] batch {problem.batch_id} decision "
                     f"{problem.decision_id or '-'}: {problem.problem}", highlight=False)
    for mismatch in report.mismatches[:20]:
        errors.print(f"[red]{mismatch.what}[/] {mismatch.decision_id}: logged "
                     f"{mismatch.logged!r}, now {mismatch.now!r}", highlight=False)
    line = (f"{report.checked:,} decisions made again ({report.bitwise:,} bitwise, the rest "
            f"within 1e-9) and {report.proofs_checked:,} batch proofs checked in "
            f"{report.seconds:.2f} s ({report.rate_per_s:,.0f} decisions/s)")
    if not report.is_intact:
        errors.print(f"[bold red]Differences:[/] {len(report.proof_problems)} proof problems, "
                     f"{len(report.mismatches)} mismatches; {line}.")
        raise typer.Exit(1)
    console.print(f"[green]Intact:[/] {line}.")


def _utc(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInputError(option, f"{text!r} is not an ISO 8601 time such as "
                                "2026-03-01 or 2026-03-01T09:30:00+00:00",
                                rule="input.time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
