"""The `bankml` entry point."""

from __future__ import annotations

import gc
import sys
from typing import Annotated

import typer

from bankml import __version__
from bankml.cli import (
    alerts,
    artifacts,
    audit,
    decisions,
    endpoints,
    features,
    governance,
    labels,
    models,
    monitor,
    rollouts,
    users,
    validation,
)
from bankml.cli.app import console, new_group, report
from bankml.cli.demo import demo
from bankml.cli.init import init
from bankml.cli.inventory import inventory
from bankml.cli.serve import serve
from bankml.cli.train import train
from bankml.cli.validate import report_app, validate
from bankml.cli.weekly import report_weekly
from bankml.core.errors import BankmlError

app = new_group("bankml: the operating loop for a bank's production models.")
app.command()(init)
app.command()(demo)
app.command()(inventory)
app.command()(train)
app.command()(validate)
app.command()(serve)
app.command()(rollouts.deploy)
app.add_typer(audit.app, name="audit")
app.add_typer(models.app, name="models")
app.add_typer(decisions.app, name="decisions")
app.add_typer(endpoints.app, name="endpoints")
app.add_typer(labels.app, name="labels")
app.add_typer(monitor.app, name="monitor")
app.add_typer(rollouts.app, name="rollout")
app.add_typer(alerts.app, name="alerts")
app.add_typer(features.app, name="features")
app.add_typer(users.users_app, name="users")
app.add_typer(users.tokens_app, name="tokens")
app.add_typer(governance.app, name="governance")
app.add_typer(governance.findings_app, name="findings")
report_app.command("weekly")(report_weekly)
app.add_typer(validation.app, name="validation")
app.add_typer(report_app, name="report")
app.add_typer(artifacts.app, name="artifacts")
show_tracebacks = False


def _print_version(value: bool) -> None:
    if value:
        console.print(f"bankml {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_print_version,
                                          is_eager=True, help="Print the version.")] = False,
) -> None:
    """bankml: the operating loop for a bank's production models."""
    global show_tracebacks  # noqa: PLW0603 - one flag for the process, read by run()
    show_tracebacks = debug


def run() -> None:
    """The console entry point: a BankmlError prints its message and rule, exit code 1."""
    # What start-up imported lives as long as the process: keep it out of the collector's
    # full sweeps, each of which would walk its ~230,000 objects (0.1-0.2 s a time).
    gc.freeze()
    try:
        app()
    except BankmlError as error:
        report(error, debug=show_tracebacks)
        sys.exit(1)
