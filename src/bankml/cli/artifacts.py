"""`bankml artifacts`: housekeeping of the artifact store."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from bankml.cli.app import console, new_group
from bankml.cli.context import HomeOption, TokenOption, acting_user, open_platform
from bankml.housekeeping.artifacts import DEFAULT_GRACE

app = new_group("The artifact store: housekeeping.")


@app.command("gc")
def gc(
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Only list what would be removed; remove nothing.")] = False,
    grace_hours: Annotated[float, typer.Option(
        min=0, help="Keep anything written less than this long ago: a writer stores its "
                    "bytes before it commits the record that refers to them.")
    ] = DEFAULT_GRACE.total_seconds() / 3600,
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """Remove artifacts no record refers to and stale files in incoming/ (ml_engineer).

    Never removes a digest the metadata mentions (model artifacts, dataset snapshots,
    validation results, feature profiles, anchors, ...) nor one a referenced JSON artifact
    mentions. Audited as artifacts.collected.
    """
    with open_platform(home) as platform:
        collected = platform.artifact_gc.gc(acting_user(platform, token), dry_run=dry_run,
                                            grace=timedelta(hours=grace_hours))
    verb = "Would remove" if dry_run else "Removed"
    for item in collected.removed:
        console.print(f"{verb} {item.name} ({item.size_bytes:,} bytes)")
    console.print(f"{verb} {len(collected.removed)} unreferenced artifacts and "
                  f"{len(collected.stale_incoming)} stale incoming files, "
                  f"{collected.bytes_freed:,} bytes; kept {collected.kept_referenced} "
                  f"referenced and {collected.kept_young} younger than the grace period.")
