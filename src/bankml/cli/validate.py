"""`bankml validate` (run the battery, optionally sign off) and `bankml report validation`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from bankml.cli.app import console, new_group
from bankml.cli.context import HomeOption, TokenOption, acting_user, open_platform
from bankml.core.canonical import sha256_hex
from bankml.core.errors import InvalidInputError
from bankml.core.validation import ValidationRun

if TYPE_CHECKING:
    from bankml.platform import Platform

Ref = Annotated[str, typer.Argument(help="Model version, NAME@VERSION.")]
report_app = new_group("Reports rendered from stored evidence.")
COLOURS = {"green": "green", "amber": "yellow", "red": "red"}


def validate(
    ref: Ref,
    against: Annotated[str | None, typer.Option(
        help="Compare with this version (default: the model's champion).")] = None,
    policy: Annotated[Path | None, typer.Option(
        help="Validation policy YAML (default: the domain's shipped policy).")] = None,
    sample: Annotated[Path | None, typer.Option(
        help="A fresh sample (Parquet/CSV with inputs and label) to test as well.")] = None,
    data: Annotated[Path | None, typer.Option(
        help="Where the model's source file is now, if it has moved.")] = None,
    sign_off: Annotated[bool, typer.Option(
        "--sign-off", help="Record your conclusion on the version, resting on this run.")] = False,
    passed: Annotated[bool | None, typer.Option(
        "--passed/--failed", help="Your conclusion (with --sign-off).")] = None,
    summary: Annotated[str, typer.Option(help="Why (with --sign-off).")] = "",
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """Run the validation battery on a version's out-of-time rows and store the result."""
    if sign_off and passed is None:
        raise InvalidInputError("--passed/--failed", "--sign-off needs your conclusion",
                                rule="validation.conclusion_stated")
    with open_platform(home) as platform:
        user = acting_user(platform, token)
        with console.status(f"validating {ref}"):
            run = platform.validation.run(user, ref, against=against, policy=policy,
                                          sample=sample, data=data)
        show_run(platform, run)
        if sign_off:
            signoff = platform.oversight.record_validation(
                user, run.ref, passed=bool(passed), summary=summary or
                f"Validation run {run.run_id}: opinion {int(run.opinion)}.", run_id=run.run_id)
            console.print(f"Signed off: {run.ref} {'passed' if signoff.passed else 'failed'} "
                          f"(fairness {'passed' if signoff.fairness_passed else 'failed'}), "
                          f"resting on run {run.run_id}.")


def show_run(platform: Platform, run: ValidationRun, *, limit: int | None = None) -> None:
    """The opinion and each test's verdict (the first `limit` tests when given)."""
    result = platform.validation.result(run)
    table = Table(show_header=True)
    for column in ("test", "population", "statistic", "p-value", "verdict"):
        # folded, never cut with an ellipsis: two cut test names can read the same
        table.add_column(column, overflow="fold")
    tests = result.tests if limit is None else result.key_tests(limit)
    for test in tests:
        table.add_row(escape(test.test), test.population,
                      "n/a" if math.isnan(test.value) else f"{test.value:.4f}",
                      "" if test.p_value is None else f"{test.p_value:.4f}",
                      f"[{COLOURS[test.verdict]}]{test.verdict}[/]")
    console.print(table)
    console.print(f"Run {run.run_id} of {run.ref}: {run.greens} green, {run.ambers} amber, "
                  f"{run.reds} red under {run.policy_id} {run.policy_version}.")
    console.print(f"Opinion: [bold]{int(run.opinion)} - {run.opinion.label}[/]; fairness "
                  f"{'passed' if run.fairness_passed else 'failed'}.")
    if run.self_test:
        console.print(f"[yellow]Developer self-test[/]: {run.created_by} built this model; "
                      "the run is not independent validation and no sign-off can rest on it.")


@report_app.command("validation")
def report_validation(
    ref: Ref,
    run_id: Annotated[str | None, typer.Option(
        "--run", help="The run to report (default: the version's latest).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Folder for the files (default: BANKML_HOME/reports).")] = None,
    home: HomeOption = None, token: TokenOption = None,
) -> None:
    """Write the validation report of a version as HTML (inline SVG charts) and PDF."""
    with open_platform(home) as platform:
        report = platform.reports.write_validation(acting_user(platform, token), ref,
                                                   run_id=run_id, folder=out)
    for path in (report.html, report.pdf):
        console.print(f"Wrote {path} (sha256 {sha256_hex(path.read_bytes())[:16]})")
