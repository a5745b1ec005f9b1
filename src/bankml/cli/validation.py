"""`bankml validation`: the stored runs of a version, and one run in full."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from bankml.cli.app import console, new_group
from bankml.cli.context import HomeOption, TokenOption, acting_user, open_platform
from bankml.cli.validate import show_run
from bankml.presenters import validation_run_view

app = new_group("Stored validation runs: list a version's, show one.")


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"


FormatOption = Annotated[Format, typer.Option("--format", help="table or json.")]


@app.command("list")
def list_runs(
    ref: Annotated[str, typer.Argument(help="Model version, NAME@VERSION.")],
    output: FormatOption = Format.TABLE,
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """A version's validation runs, oldest first, with who ran them and the opinion."""
    with open_platform(home) as platform:
        acting_user(platform, token)
        runs = platform.validation.runs(ref)
    if output == Format.JSON:
        console.print_json(json.dumps([validation_run_view(run) for run in runs]))
        return
    table = Table(title=f"Validation runs of {ref}")
    # a run id is never cut or wrapped (it is copied into `validation show`); the rest fold
    table.add_column("run", no_wrap=True, min_width=16)
    for column in ("created (UTC)", "by", "opinion", "g/a/r", "fairness"):
        table.add_column(column, overflow="fold")
    for run in runs:
        by = f"{run.created_by} (self-test)" if run.self_test else run.created_by
        table.add_row(run.run_id, run.created_at[:16].replace("T", " "), by,
                      f"{int(run.opinion)} {run.opinion.label}",
                      f"{run.greens}/{run.ambers}/{run.reds}",
                      "passed" if run.fairness_passed else "failed")
    console.print(table)


@app.command("show")
def show(
    run_id: Annotated[str, typer.Argument(help="The run's id (`bankml validation list`).")],
    output: FormatOption = Format.TABLE,
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """One run: every test's verdict and the opinion; JSON adds the stored summary."""
    with open_platform(home) as platform:
        acting_user(platform, token)
        run = platform.validation.get(run_id)
        if output == Format.JSON:
            view = validation_run_view(run, platform.validation.result(run))
            console.print_json(json.dumps(view))
            return
        show_run(platform, run)
