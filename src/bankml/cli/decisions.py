"""`bankml decisions`: look up and replay logged decisions."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bankml.cli.app import console, errors, new_group
from bankml.cli.context import HomeOption, TokenOption, acting_user, open_platform
from bankml.presenters import decision_view

app = new_group("Logged decisions.")
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
    line = (f"logged {result.record.score!r} ({result.record.outcome}), replayed "
            f"{result.score!r} ({result.outcome}), |delta| {result.delta:.1e}")
    if not result.is_identical:
        errors.print(f"[bold red]Different:[/] {line}")
        raise typer.Exit(1)
    console.print(f"[green]Identical:[/] {line}")
