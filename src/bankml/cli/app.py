"""Shared pieces of the command line: consoles, command groups, and how errors are shown."""

from __future__ import annotations

import typer
from rich.console import Console

from bankml.core.errors import BankmlError, NotFoundError

console = Console()
errors = Console(stderr=True)
# What to do next, on the command line: services' messages name no command.
HINTS_BY_RULE = {
    "auth.token_valid": "Act with a token: set BANKML_TOKEN or pass --token (an admin "
                        "creates one with `bankml tokens create --user NAME`).",
    "metadata.schema_current": "Run `bankml init` (it migrates), or set "
                               "BANKML_AUTO_MIGRATE=true.",
    "access.second_admin": "Another admin confirms with `bankml users confirm GRANT`.",
}
HINTS_BY_KIND = {
    "model": "List models with `bankml models list`.",
    "model version": "List versions with `bankml models list`.",
    "user": "List people with `bankml users list`.",
    "transition request": "List them with `bankml governance requests`.",
    "feature view": "Apply a definition with `bankml features apply FILE.py`.",
    "feature view version": "List views with `bankml features list`.",
    "validation run": "Run `bankml validate NAME@V` first.",
    "manifest": "Only versions built by `bankml train` record one.",
    "dataset snapshot": "Only versions built by `bankml train` keep the rows a validation "
                        "reads.",
}


def new_group(help_text: str) -> typer.Typer:
    # Exceptions propagate to `report` in main.run instead of typer's traceback printer.
    return typer.Typer(help=help_text, no_args_is_help=True, pretty_exceptions_enable=False,
                       add_completion=False)


def report(error: BankmlError, *, debug: bool) -> None:
    """The message and the rule; the traceback only when asked for."""
    if debug:
        errors.print_exception()
    errors.print(f"[bold red]Error:[/] {error}", highlight=False)
    hint = HINTS_BY_RULE.get(error.rule) or (
        HINTS_BY_KIND.get(error.kind) if isinstance(error, NotFoundError) else None)
    if hint:
        errors.print(hint, highlight=False)
    errors.print(f"[dim]rule: {error.rule}[/]")
