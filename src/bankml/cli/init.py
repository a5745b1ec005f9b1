"""`bankml init`: create a home and say what is where."""

from __future__ import annotations

from rich.table import Table

from bankml.cli.app import console
from bankml.cli.context import HomeOption, open_platform


def init(home: HomeOption = None) -> None:
    """Create the bankml home (stores, migrations, keys) and print what is where."""
    with open_platform(home) as platform:
        settings = platform.settings
        table = Table(title="bankml home", show_header=False)
        table.add_row("home", str(settings.home.resolve()))
        table.add_row("metadata", platform.metadata.describe())
        table.add_row("artifacts", settings.resolved_artifacts_uri)
        table.add_row("pseudonym key", str(settings.pseudonym_key_path.resolve()))
        table.add_row("datasets", str(settings.datasets) if settings.datasets
                      else "synthetic (set BANKML_DATASETS to use the public files)")
        table.add_row("acting as", settings.actor)
    console.print(table)
    console.print("Next: [bold]bankml demo[/] runs the end-to-end example.")
