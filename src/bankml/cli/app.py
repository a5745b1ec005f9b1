"""The root command group: every BankmlError becomes a message, its rule and exit code 1."""

from __future__ import annotations

from typing import Any

import click
import typer
from rich.console import Console
from typer.core import TyperGroup

from bankml.core.errors import BankmlError

console = Console()
errors = Console(stderr=True)


class BankmlGroup(TyperGroup):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BankmlError as exc:
            if ctx.params.get("debug"):
                errors.print_exception()
            errors.print(f"[bold red]Error:[/] {exc}", markup=True, highlight=False)
            if exc.rule:
                errors.print(f"[dim]rule: {exc.rule}[/]")
            raise typer.Exit(1) from exc


def new_group(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, cls=BankmlGroup, no_args_is_help=True,
                       pretty_exceptions_enable=False, add_completion=False)
