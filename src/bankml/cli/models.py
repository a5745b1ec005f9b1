"""`bankml models`: what the registry holds."""

from __future__ import annotations

from rich.table import Table

from bankml.cli.app import console, new_group
from bankml.cli.context import HomeOption, open_platform

app = new_group("The model registry.")


@app.command("list")
def list_versions(home: HomeOption = None) -> None:
    """Every model version with its stage, artifact and headline metrics."""
    with open_platform(home) as platform:
        versions = platform.registry.versions()
    table = Table(title="Model versions")
    for column in ("model", "stage", "created (UTC)", "by", "artifact sha256", "AUC"):
        table.add_column(column)
    for version in versions:
        auc = version.metrics.get("auc")
        table.add_row(version.ref, str(version.stage), version.created_at[:19].replace("T", " "),
                      version.created_by, version.artifact_sha256[:16],
                      f"{auc:.3f}" if auc is not None else "")
    console.print(table)
