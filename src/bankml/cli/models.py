"""`bankml models`: what the registry holds, and the moves it allows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bankml.cli.app import console, errors, new_group
from bankml.cli.context import HomeOption, TokenOption, acting_user, open_platform
from bankml.cli.governance import print_gates, print_request
from bankml.core.oversight import RequestStatus
from bankml.core.registry import ModelVersion, Stage
from bankml.presenters import lineage_view, version_row_view, version_view

app = new_group("The model registry.")
Ref = Annotated[str, typer.Argument(help="NAME@VERSION, NAME@ALIAS or NAME (the latest).")]


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"


@app.command("list")
def list_versions(
    name: Annotated[str | None, typer.Argument(help="Only this model's versions.")] = None,
    output: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.TABLE,
    home: HomeOption = None,
) -> None:
    """Every model version with its stage, aliases, artifact and headline metric."""
    with open_platform(home) as platform:
        versions = platform.registry.versions(name)
        aliases = {model: platform.registry.aliases(model) for model in
                   {version.name for version in versions}}
    held = {version.ref: sorted(a for a, n in aliases[version.name].items()
                                if n == version.number) for version in versions}
    if output == Format.JSON:
        console.print_json(json.dumps([version_row_view(v, aliases=held[v.ref])
                                       for v in versions]))
        return
    table = Table(title="Model versions")
    # NAME@V is never cut or wrapped: two cut names can read the same; the rest fold
    table.add_column("model", no_wrap=True,
                     min_width=max((len(v.ref) for v in versions), default=5))
    for column in ("stage", "aliases", "created (UTC)", "by"):
        table.add_column(column, overflow="fold")
    table.add_column("artifact", no_wrap=True, min_width=12)  # a digest prefix: kept whole
    table.add_column("AUC", no_wrap=True)
    for version in versions:
        auc = version.metrics.get("test.auc", version.metrics.get("auc"))
        table.add_row(version.ref, str(version.stage), ", ".join(held[version.ref]),
                      version.created_at[:16].replace("T", " "), version.created_by,
                      version.artifact_sha256[:12], f"{auc:.3f}" if auc is not None else "")
    console.print(table)


@app.command("show")
def show(
    ref: Ref,
    home: HomeOption = None,
    in_prod_at: Annotated[datetime | None, typer.Option(
        "--in-prod-at", help="Show instead the version in prod at this UTC time.")] = None,
) -> None:
    """A version's record: model, signature, metrics, lineage, manifest (JSON)."""
    with open_platform(home) as platform:
        if in_prod_at is not None:
            name = ref.partition("@")[0]
            found = platform.registry.in_production_at(name, _utc(in_prod_at))
            if found is None:
                errors.print(f"No version of {name} was in prod at {_utc(in_prod_at)}.")
                raise typer.Exit(1)
            version = found
        else:
            version = platform.registry.get(ref)
        model = platform.registry.model(version.name)
        aliases = platform.registry.aliases(version.name)
    console.print_json(json.dumps(version_view(
        version, model=model, aliases=[a for a, n in aliases.items() if n == version.number])))


@app.command("card")
def card(
    ref: Ref,
    home: HomeOption = None,
    output: Annotated[Path | None, typer.Option(
        help="Write here (.md or .html); default: cards/NAME@V.{md,html} in the home.")] = None,
) -> None:
    """Write the version's model card, Markdown and HTML, and print where."""
    with open_platform(home) as platform:
        found = platform.registry.card(ref)
        folder = platform.settings.home / "cards"
    targets = ([output] if output is not None else
               [folder / f"{found.version.ref}.md", folder / f"{found.version.ref}.html"])
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(found.html() if target.suffix == ".html" else found.markdown(),
                          encoding="utf-8")
        console.print(f"Model card of {found.version.ref}: {target}")


@app.command("transition")
def transition(
    ref: Ref,
    stage: Annotated[Stage, typer.Argument(help="The target stage.")],
    reason: Annotated[str, typer.Option(help="Why; recorded on the audit trail.")] = "",
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """Request a move dev -> staging -> prod -> archived; it happens once its gates hold."""
    with open_platform(home) as platform:
        by = acting_user(platform, token)
        request = platform.oversight.request_transition(by, ref, stage, reason=reason)
        gates = platform.oversight.gates(by, request.ref, request.target, request)
    print_request(request)
    if request.status == RequestStatus.OPEN:
        print_gates(gates, "Still needed")


@app.command("alias")
def alias(
    name: Annotated[str, typer.Argument(help="The model.")],
    alias_name: Annotated[str, typer.Argument(metavar="ALIAS", help="e.g. champion.")],
    version: Annotated[int | None, typer.Argument(help="The version it points at.")] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Remove the alias.")] = False,
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """Point an alias (champion, challenger, ...) at a version, or remove it."""
    if (version is None) != remove:
        errors.print("Give a VERSION to point the alias at, or --remove (not both).")
        raise typer.Exit(2)
    with open_platform(home) as platform:
        before = platform.registry.set_alias(acting_user(platform, token), name, alias_name,
                                             version)
    was = f" (was {name}@{before})" if before is not None else ""
    now = (f"{name}@{alias_name} removed" if version is None
           else f"{name}@{alias_name} -> {name}@{version}")
    console.print(now + was)


@app.command("reproduce")
def reproduce(
    ref: Ref,
    spec: Annotated[Path | None, typer.Option(
        help="Rebuild from this spec instead of the recorded one (to test a change).")] = None,
    data: Annotated[Path | None, typer.Option(
        help="Where the spec's source file is now, if it has moved.")] = None,
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """Rebuild a version from its manifest; say "identical" or which input differs (exit 1)."""
    with open_platform(home) as platform, console.status("rebuilding") as status:
        result = platform.training.reproduce(acting_user(platform, token), ref, spec=spec,
                                             data=data, progress=status.update)
    if result.is_identical:
        console.print(f"{result.version.ref}: [green]{result.verdict}[/]")
        return
    errors.print(f"{result.version.ref}: [bold red]{result.verdict}[/]", highlight=False)
    raise typer.Exit(1)


@app.command("lineage")
def lineage(
    ref: Annotated[str | None, typer.Argument(help="NAME@V: what made this version.")] = None,
    feature_view: Annotated[str | None, typer.Option(
        help="VIEW or VIEW@V: which versions were trained on it.")] = None,
    home: HomeOption = None,
) -> None:
    """What made a version (dataset, feature views, spec), or what uses a feature view."""
    if (ref is None) == (feature_view is None):
        errors.print("Give a version (NAME@V) or --feature-view VIEW[@V], one of them.")
        raise typer.Exit(2)
    with open_platform(home) as platform:
        if feature_view is not None:
            _print_versions(f"Versions trained on {feature_view}",
                            platform.registry.using_feature_view(feature_view))
            return
        found = platform.registry.lineage(str(ref))
    console.print_json(json.dumps(lineage_view(found.version,
                                               siblings=found.siblings_on_dataset)))


def _print_versions(title: str, versions: list[ModelVersion]) -> None:
    table = Table(title=title)
    for column in ("model", "stage", "feature views"):
        table.add_column(column)
    for version in versions:
        table.add_row(version.ref, str(version.stage), ", ".join(version.feature_views))
    console.print(table)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
