"""Demo step: an independent validator runs the battery and writes the report."""

from __future__ import annotations

from pathlib import Path

from bankml.cli.app import console
from bankml.cli.validate import show_run
from bankml.core.identity import Principal
from bankml.core.registry import ModelVersion
from bankml.core.validation import ValidationRun
from bankml.platform import Platform


def validate(platform: Platform, version: ModelVersion,
             vera: Principal) -> tuple[ValidationRun, Path]:
    """Vera validates the version on its out-of-time rows; returns the run and the report."""
    run = platform.validation.run(vera, version.ref)
    console.print(f"vera (validator) runs the {platform.registry.model(version.name).domain} "
                  f"battery on {version.ref}'s out-of-time rows (bankml validate "
                  f"{version.ref}); key tests:")
    show_run(platform, run, limit=6)
    report = platform.reports.write_validation(vera, version.ref, run_id=run.run_id)
    console.print(f"Report: {report.html} (and .pdf)")
    return run, report.html
