"""`bankml governance` and `bankml findings`: requests, approvals, sign-offs, findings."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from bankml.cli.app import console, new_group
from bankml.cli.context import HomeOption, TokenOption, acting_user, open_platform
from bankml.core.errors import InvalidInputError
from bankml.core.identity import Role
from bankml.core.oversight import RequestStatus, Severity, TransitionRequest
from bankml.core.policy import Gate
from bankml.core.registry import Stage

app = new_group("Promotions under policy: requests, four-eyes approvals, sign-offs.")
findings_app = new_group("Validation findings: raise, close, list.")
Ref = Annotated[str, typer.Argument(help="Model version, NAME@VERSION.")]
RequestId = Annotated[int, typer.Argument(help="The request's number.")]
AsRole = Annotated[Role, typer.Option("--as", help="The role you approve in.")]


def print_gates(gates: list[Gate], title: str) -> None:
    table = Table(title=title)
    for column in ("gate", "holds", "detail"):
        table.add_column(column)
    for gate in gates:
        table.add_row(gate.rule, "[green]yes[/]" if gate.passed else "[red]no[/]", gate.detail)
    console.print(table if gates else f"{title}: no gate applies.")


def print_request(request: TransitionRequest) -> None:
    console.print(f"Request #{request.request_id}: {request.ref} -> {request.target}, "
                  f"[bold]{request.status}[/]"
                  + "".join(f"\n  {a.role}: {'approved' if a.approved else 'rejected'} by "
                            f"{a.approver} {a.comment}" for a in request.approvals))


@app.command("status")
def status(ref: Ref, target: Annotated[Stage, typer.Argument(help="Target stage.")],
           home: HomeOption = None, token: TokenOption = None) -> None:
    """The gates between a version and a stage, and which hold now."""
    with open_platform(home) as platform:
        gates = platform.oversight.gates(acting_user(platform, token), ref, target)
    print_gates(gates, f"{ref} -> {target}")


@app.command("request")
def request(ref: Ref, target: Annotated[Stage, typer.Argument(help="Target stage.")],
            reason: Annotated[str, typer.Option(help="Why.")], home: HomeOption = None,
            token: TokenOption = None) -> None:
    """Ask to move a version; it moves as soon as every gate holds."""
    with open_platform(home) as platform:
        by = acting_user(platform, token)
        made = platform.oversight.request_transition(by, ref, target, reason=reason)
        gates = platform.oversight.gates(by, ref, target, made)
    print_request(made)
    if made.status == RequestStatus.OPEN:
        print_gates(gates, "Still needed")


@app.command("approve")
def approve(request_id: RequestId, role: AsRole,
            comment: Annotated[str, typer.Option(help="Your note.")] = "",
            home: HomeOption = None, token: TokenOption = None) -> None:
    """Approve a request in one of your roles."""
    with open_platform(home) as platform:
        print_request(platform.oversight.approve(acting_user(platform, token), request_id,
                                                 role=role, comment=comment))


@app.command("reject")
def reject(request_id: RequestId, role: AsRole,
           comment: Annotated[str, typer.Option(help="Why (required).")],
           home: HomeOption = None, token: TokenOption = None) -> None:
    """Reject a request; it closes, and a new request starts over."""
    with open_platform(home) as platform:
        print_request(platform.oversight.reject(acting_user(platform, token), request_id,
                                                role=role, comment=comment))


@app.command("requests")
def requests(model: Annotated[str | None, typer.Option(help="Only this model.")] = None,
             open_only: Annotated[bool, typer.Option("--open", help="Open ones only.")] = False,
             home: HomeOption = None, token: TokenOption = None) -> None:
    """Transition requests and their approvals."""
    with open_platform(home) as platform:
        found = platform.oversight.requests(acting_user(platform, token), model=model,
                                            status=RequestStatus.OPEN if open_only else None)
    for item in found:
        print_request(item)
    if not found:
        console.print("No requests.")


@app.command("signoff")
def signoff(ref: Ref,
            passed: Annotated[bool, typer.Option("--passed/--failed", help="Your conclusion.")],
            summary: Annotated[str, typer.Option(help="What you concluded and why.")],
            run_id: Annotated[str | None, typer.Option(
                "--run", help="Your validation run of this version it rests on (needed "
                "for --passed; its fairness verdict is the sign-off's).")] = None,
            home: HomeOption = None, token: TokenOption = None) -> None:
    """Record a validator's conclusion on a version (the evidence gates read).

    A failed fairness verdict is not overridden here: model risk grants a time-boxed
    exception (`bankml governance exception REF --gate gate.fairness ...`).
    """
    with open_platform(home) as platform:
        recorded = platform.oversight.record_validation(
            acting_user(platform, token), ref, passed=passed, summary=summary, run_id=run_id)
    rests = f", resting on run {recorded.run_id}" if recorded.run_id else ", on no run"
    console.print(f"Recorded: {ref} validation {'passed' if recorded.passed else 'failed'} "
                  f"(fairness {'passed' if recorded.fairness_passed else 'failed'}) by "
                  f"{recorded.validator}{rests}.")


@app.command("exception")
def exception(ref: Ref, gate: Annotated[str, typer.Option(help="e.g. gate.fairness")],
              justification: Annotated[str, typer.Option(help="Why it may proceed.")],
              expires: Annotated[str, typer.Option(help="Last day, YYYY-MM-DD.")],
              home: HomeOption = None, token: TokenOption = None) -> None:
    """Grant a time-boxed exception to one gate (model risk)."""
    with open_platform(home) as platform:
        granted = platform.oversight.grant_exception(
            acting_user(platform, token), ref, gate=gate, justification=justification,
            expires=_day(expires, "--expires"))
    console.print(f"Exception to {granted.gate} for {ref} until {granted.expires_at[:10]}.")


@findings_app.command("add")
def add_finding(ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
                severity: Annotated[Severity, typer.Option(help="high, medium or low.")],
                title: Annotated[str, typer.Option(help="What is wrong.")],
                owner: Annotated[str, typer.Option(help="Who must fix it (username).")],
                due: Annotated[str, typer.Option(help="Due date, YYYY-MM-DD.")],
                home: HomeOption = None, token: TokenOption = None) -> None:
    """Raise a finding; high ones block promotion under the default policies."""
    with open_platform(home) as platform:
        finding = platform.oversight.raise_finding(
            acting_user(platform, token), ref, severity=severity, title=title, owner=owner,
            due=_day(due, "--due"))
    console.print(f"Finding #{finding.finding_id} ({finding.severity}) on {ref}, owner "
                  f"{finding.owner}, due {finding.due_date}.")


@findings_app.command("close")
def close_finding(finding_id: Annotated[int, typer.Argument(help="The finding's number.")],
                  note: Annotated[str, typer.Option(help="How it was resolved.")],
                  home: HomeOption = None, token: TokenOption = None) -> None:
    """Close a finding once it is resolved."""
    with open_platform(home) as platform:
        platform.oversight.close_finding(acting_user(platform, token), finding_id, note=note)
    console.print(f"Finding #{finding_id} closed.")


@findings_app.command("list")
def list_findings(model: Annotated[str | None, typer.Option(help="Only this model.")] = None,
                  open_only: Annotated[bool, typer.Option("--open", help="Open only.")] = False,
                  home: HomeOption = None, token: TokenOption = None) -> None:
    """Findings with owner, due date and status."""
    with open_platform(home) as platform:
        found = platform.oversight.findings(acting_user(platform, token), model=model,
                                            open_only=open_only)
    table = Table(title="Findings")
    for column in ("#", "model", "severity", "title", "owner", "due", "status"):
        table.add_column(column)
    for item in found:
        ref = item.model if item.version is None else f"{item.model}@{item.version}"
        table.add_row(str(item.finding_id), ref, str(item.severity), item.title, item.owner,
                      item.due_date, str(item.status))
    console.print(table)


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInputError(option, f"{text!r} is not a date YYYY-MM-DD") from exc
