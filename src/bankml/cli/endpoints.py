"""`bankml endpoints`: apply endpoint definitions, list them, show one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bankml.cli.app import console, new_group
from bankml.cli.context import HomeOption, TokenOption, acting_user, open_platform

app = new_group("Decision endpoints: a served model, its policy, reasons and mode.")


@app.command("apply")
def apply(file: Annotated[Path, typer.Argument(help="The endpoint definition (YAML).")],
          home: HomeOption = None, token: TokenOption = None) -> None:
    """Record the endpoint; a changed definition becomes a new version (ML engineers)."""
    with open_platform(home) as platform:
        applied = platform.endpoints.apply(acting_user(platform, token), file)
    state = "[green]new version[/]" if applied.created else "unchanged"
    console.print(f"{applied.version.ref:<30} {state}  {applied.version.digest[:16]}")


@app.command("list")
def list_endpoints(home: HomeOption = None) -> None:
    """Every endpoint's latest version: model, mode, policy."""
    with open_platform(home) as platform:
        versions = platform.endpoints.latest()
    table = Table(title="Endpoints")
    for column in ("endpoint", "model", "mode", "policy", "created (UTC)", "by"):
        table.add_column(column)
    for version in versions:
        spec = version.spec
        policy = ", ".join(f"{k} {v}" for k, v in spec["policy"].items())
        table.add_row(version.ref, spec["model"], spec["mode"], policy,
                      version.created_at[:19].replace("T", " "), version.created_by)
    console.print(table)


@app.command("show")
def show(ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
         home: HomeOption = None) -> None:
    """The stored definition of an endpoint version, as JSON."""
    with open_platform(home) as platform:
        version = platform.endpoints.version(ref)
    spec = dict(version.spec)
    if spec.get("reasons"):
        spec["reasons"] = {"top": spec["reasons"]["top"],
                           "catalogue_sha256": version.endpoint.reasons.sha256
                           if version.endpoint.reasons else None}
    console.print_json(json.dumps({"ref": version.ref, "digest": version.digest,
                                   "created_at": version.created_at,
                                   "created_by": version.created_by,
                                   "description": version.description, "owner": version.owner,
                                   "definition": spec}))
