"""Shared pieces of the command line: consoles, command groups, and how errors are shown."""

from __future__ import annotations

import typer
from rich.console import Console

from bankml.core.errors import BankmlError

console = Console()
errors = Console(stderr=True)


def new_group(help_text: str) -> typer.Typer:
    # Exceptions propagate to `report` in main.run instead of typer's traceback printer.
    return typer.Typer(help=help_text, no_args_is_help=True, pretty_exceptions_enable=False,
                       add_completion=False)


def report(error: BankmlError, *, debug: bool) -> None:
    """The message and the rule; the traceback only when asked for."""
    if debug:
        errors.print_exception()
    errors.print(f"[bold red]Error:[/] {error}", highlight=False)
    if error.rule:
        errors.print(f"[dim]rule: {error.rule}[/]")
