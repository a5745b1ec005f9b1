"""`bankml init`: create a home, its first admin, and say what is where."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bankml.cli.app import console
from bankml.cli.context import HomeOption, open_platform


def init(home: HomeOption = None,
         admin: Annotated[str | None, typer.Option(
             help="Username of the first admin (default: BANKML_ACTOR).")] = None) -> None:
    """Create the bankml home (stores, migrations, keys, first admin); print what is where."""
    with open_platform(home, auto_migrate=True) as platform:  # init always migrates
        settings = platform.settings
        first = platform.identity.bootstrap_admin(admin or settings.actor.lower())
        table = Table(title="bankml home", show_header=False)
        table.add_row("home", str(settings.home.resolve()))
        table.add_row("metadata", platform.metadata.describe())
        table.add_row("artifacts", settings.resolved_artifacts_uri)
        for label, value, path in (
                ("pseudonym key", settings.pseudonym_key, settings.pseudonym_key_path),
                ("anchor key", settings.anchor_key, settings.anchor_key_path)):
            setting = f"BANKML_{label.upper().replace(' ', '_')}"
            table.add_row(label, f"from {setting}" if value else str(path.resolve()))
        table.add_row("datasets", str(settings.datasets) if settings.datasets
                      else "synthetic (set BANKML_DATASETS to use the public files)")
        if first is not None:
            table.add_row("first admin", first.token.username)
    console.print(table)
    if first is not None:
        console.print(f"Created the first admin, [bold]{first.token.username}[/]. Their token "
                      "is shown only now; keep it in BANKML_TOKEN:")
        console.print(f"export BANKML_TOKEN={first.plaintext}", markup=False, highlight=False,
                      soft_wrap=True)
        console.print("Admins manage people, not models: add them with "
                      "[bold]bankml users add NAME --role data_scientist[/] (roles: "
                      "data_scientist, validator, model_risk, ml_engineer, business_owner, "
                      "auditor, admin), then [bold]bankml tokens create --user NAME[/]. "
                      "Roles that validate or approve wait for a second admin's "
                      "[bold]bankml users confirm[/].")
    console.print("Next: [bold]bankml demo[/] runs the end-to-end example.")
