"""`bankml inventory`: the model inventory, with what is overdue."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from bankml.cli.app import console
from bankml.cli.context import HomeOption, TokenOption, acting_user, open_platform
from bankml.cli.users import grants_table

if TYPE_CHECKING:
    from bankml.governance.inventory import InventoryRow


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


def inventory(
    overdue: Annotated[bool, typer.Option("--overdue", help="Only models with overdue "
                                                           "reviews or findings.")] = False,
    output: Annotated[Format, typer.Option("--format", help="table, csv or json.")] = Format.TABLE,
    access: Annotated[bool, typer.Option("--access", help="List who holds which role, granted "
                                                          "and confirmed by whom.")] = False,
    everything: Annotated[bool, typer.Option("--all", help="Retired models too (every "
                                                           "version archived).")] = False,
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """Every model: owner, developer, validator, tier, status, reviews and findings."""
    with open_platform(home) as platform:
        by = acting_user(platform, token)
        if access:
            console.print(grants_table(platform.identity.grants(by)))
            return
        from bankml.governance.inventory import build_inventory  # noqa: PLC0415 - not for --help

        rows = build_inventory(by, platform.registry, platform.oversight,
                               platform.oversight.policies, include_retired=everything)
    if overdue:
        rows = [row for row in rows if row.is_overdue]
    records = [_record(row) for row in rows]
    if output == Format.JSON:
        console.print_json(json.dumps(records))
    elif output == Format.CSV:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(records[0]) if records else ["model"])
        writer.writeheader()
        writer.writerows({k: "; ".join(v) if isinstance(v, list) else v for k, v in r.items()}
                         for r in records)
        console.print(buffer.getvalue(), end="", markup=False, highlight=False, soft_wrap=True)
    else:
        _table(rows)


def _record(row: InventoryRow) -> dict[str, Any]:
    record = asdict(row)
    for key, value in record.items():
        if hasattr(value, "isoformat"):
            record[key] = value.isoformat()
        elif isinstance(value, tuple):
            record[key] = list(value)
    record["review_overdue"], record["overdue"] = row.review_overdue, row.is_overdue
    return record


def _table(rows: list[InventoryRow]) -> None:
    table = Table(title="Model inventory")
    for column in ("model", "tier", "domain", "owner", "developer", "validator", "status",
                   "in prod", "validated", "review due", "findings", "features"):
        table.add_column(column)
    for row in rows:
        due = str(row.next_review_due or "")
        table.add_row(
            row.model, str(row.tier), row.domain, row.owner, row.developer,
            row.validator or "", row.status, row.production_version or "",
            str(row.last_validation or ""), f"[red]{due} overdue[/]" if row.review_overdue
            else due, f"{row.open_findings} open" + (f", [red]{row.overdue_findings} overdue[/]"
                                                     if row.overdue_findings else ""),
            ", ".join(row.feature_views))
    console.print(table)
