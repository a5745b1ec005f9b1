"""`bankml features`: apply definitions, inspect versions, materialise, look up, check skew."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from bankml.cli.app import console, new_group
from bankml.cli.context import HomeOption, TokenOption, acting_user, open_platform
from bankml.core.errors import InvalidInputError
from bankml.presenters import feature_view_version_view

if TYPE_CHECKING:
    from bankml.features.service import Progress as ProgressCallback

app = new_group("The feature store: definitions, versions, online values.")


@app.command()
def apply(file: Annotated[Path, typer.Argument(help="Python file of definitions.")],
          home: HomeOption = None, token: TokenOption = None) -> None:
    """Record each definition in FILE; a changed one becomes a new version."""
    with open_platform(home) as platform:
        results = platform.features.apply(acting_user(platform, token), file)
    for result in results:
        state = "[green]new version[/]" if result.created else "unchanged"
        console.print(f"{result.ref:<30} {state}  {result.digest[:16]}")


@app.command("list")
def list_views(home: HomeOption = None) -> None:
    """Every feature view version with its kind, features and digest."""
    with open_platform(home) as platform:
        versions = platform.features.versions()
    table = Table(title="Feature views")
    for column in ("view", "kind", "features", "created (UTC)", "by", "digest"):
        table.add_column(column)
    for version in versions:
        names = [a["name"] for a in version.spec.get("aggregations", [])] or [
            f["name"] for f in version.spec["schema"]]
        table.add_row(version.ref, version.kind, ", ".join(names),
                      version.created_at[:19].replace("T", " "), version.created_by,
                      version.digest[:16])
    console.print(table)


@app.command()
def show(ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
         home: HomeOption = None) -> None:
    """The stored definition of a view version, as JSON."""
    with open_platform(home) as platform:
        version = platform.features.version(ref)
    console.print_json(json.dumps(feature_view_version_view(version)))


@app.command()
def materialize(
    incremental: Annotated[bool, typer.Option(help="Start from each view's watermark.")] = False,
    start: Annotated[datetime | None, typer.Option(help="Rows recorded after (UTC).")] = None,
    end: Annotated[datetime | None, typer.Option(help="Up to (UTC); default now.")] = None,
    view: Annotated[list[str] | None, typer.Option(help="Only this view (repeatable).")] = None,
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """Load the latest values of every view (or --view) into the online store."""
    with open_platform(home) as platform, _progress("materialising") as progress:
        by = acting_user(platform, token)
        if incremental:
            results = platform.features.materialize_incremental(
                by, _utc(end), views=view, progress=progress)
        else:
            results = platform.features.materialize(by, _utc(start), _utc(end), views=view,
                                                    progress=progress)
        store = platform.features.online_store
    for result in results:
        console.print(f"{result.view:<30} {result.entities:>9,} entities  "
                      f"({result.start or 'beginning'} .. {result.end})")
    console.print(f"Online store: {store}")


@app.command()
def get(
    entity: Annotated[list[str], typer.Option(help="A join key as KEY=VALUE (repeatable).")],
    feature: Annotated[list[str], typer.Option(help="VIEW[@N]:FEATURE (repeatable).")],
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """Look one entity up in the online store (feature values are personal data)."""
    row: dict[str, str] = {}
    for pair in entity:
        key, separator, value = pair.partition("=")
        if not separator:
            raise InvalidInputError("--entity", f"{pair!r} is not KEY=VALUE",
                                    rule="features.entity")
        row[key] = value
    with open_platform(home) as platform:
        result = platform.features.get_online_features(acting_user(platform, token), [row],
                                                       feature)
    table = Table(title=", ".join(f"{k}={v}" for k, v in row.items()))
    table.add_column("feature")
    table.add_column("value")
    for name, value in result.rows[0].items():
        if name not in row:
            table.add_row(name, "null" if value is None else str(value))
    console.print(table)
    for view, found in result.found[0].items():
        if not found:
            console.print(f"[yellow]{view}: entity not in the online store[/]")


@app.command("skew-check")
def skew_check(
    view: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
    sample: Annotated[int, typer.Option(help="Entities to compare.")] = 100,
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """Compare offline and online values of a sample of entities now; exit 1 on a mismatch."""
    with open_platform(home) as platform:
        report = platform.features.skew_check(acting_user(platform, token), view,
                                              sample=sample)
    table = Table(title=f"{report.view}: {report.entities} entities at {report.at}")
    table.add_column("feature")
    table.add_column("mismatches", justify="right")
    for name, count in report.by_feature().items():
        table.add_row(name, f"[red]{count}[/]" if count else "0")
    console.print(table)
    for mismatch in report.mismatches[:20]:
        console.print(f"  {mismatch.entity} {mismatch.feature}: offline {mismatch.offline!r}, "
                      f"online {mismatch.online!r}")
    console.print(f"{len(report.mismatches)} mismatches.")
    if report.mismatches:
        raise typer.Exit(1)


@contextmanager
def _progress(label: str) -> Iterator[ProgressCallback]:
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,}"),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def advance(name: str, done: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(f"{label} {name}", total=None)
            bar.update(tasks[name], completed=done)

        yield advance


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
