"""`bankml labels`: outcomes that arrive after the decision."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bankml.cli.app import console, new_group
from bankml.cli.context import HomeOption, TokenOption, acting_user, open_platform

app = new_group("Delayed ground truth: ingest outcomes, see a decision's versions.")


@app.command("ingest")
def ingest(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet: decision_id (or the entity "
                                              "keys and decided_at), outcome, observed_at.")],
    endpoint: Annotated[str, typer.Option(help="The endpoint whose decisions they judge.")],
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """Store new outcomes and corrections; a file with one bad row stores nothing."""
    with open_platform(home) as platform:
        report = platform.labels.ingest_file(acting_user(platform, token), file,
                                             endpoint=endpoint)
    console.print(f"[green]Ingested[/] {report.rows:,} rows for {report.endpoint}: "
                  f"{report.new:,} new, {report.corrections:,} corrections, "
                  f"{report.duplicates:,} duplicates (unchanged).")


@app.command("history")
def history(decision_id: Annotated[str, typer.Argument(help="The decision's id.")],
            home: HomeOption = None, token: TokenOption = None) -> None:
    """Every version of a decision's outcome; the last one is what monitoring reads."""
    with open_platform(home) as platform:
        versions = platform.labels.history(acting_user(platform, token), decision_id)
    table = Table("version", "outcome", "observed at", "ingested at", "by", "source")
    for label in versions:
        table.add_row(str(label.version), str(label.outcome), label.observed_at,
                      label.ingested_at, label.ingested_by, label.source)
    console.print(table)
