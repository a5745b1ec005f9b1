"""`bankml report weekly`: the weekly production model review, written and kept."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from bankml.cli.app import console
from bankml.cli.context import HomeOption, TokenOption, acting_user, open_platform
from bankml.core.weeks import parse_week, week_of


def report_weekly(
    week: Annotated[str | None, typer.Option(
        help="ISO week, YYYY-Www (default: the current week, UTC).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="html or pdf.")] = "html",
    out: Annotated[Path | None, typer.Option(
        help="File to write (default: BANKML_HOME/reports/weekly-YYYY-Www.FORMAT).")] = None,
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """Write the weekly production model review: a one-page summary, then each production
    model's drift, performance, KPIs, alerts, rollouts, overrides and governance. The file
    is kept in the artifact store and its sha256 recorded in the audit trail."""
    chosen = parse_week(week) if week is not None else week_of(datetime.now(UTC))
    with open_platform(home) as platform:
        written = platform.weekly.write(acting_user(platform, token), chosen, fmt=fmt, out=out)
    console.print(f"Wrote {escape(str(written.path))}\n"
                  f"sha256 {written.sha256} (stored at {escape(written.location)}; audit "
                  f"event report.weekly_written on report:weekly:{written.week})")
