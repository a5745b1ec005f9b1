"""Demo step: an independent validator runs the battery and writes the report."""

from __future__ import annotations

from pathlib import Path

from bankml.cli.app import console
from bankml.cli.demo_steps.scale import Scale
from bankml.cli.validate import show_run
from bankml.core.identity import Principal
from bankml.core.registry import ModelVersion
from bankml.core.validation import ValidationRun
from bankml.platform import Platform


def validate(platform: Platform, version: ModelVersion, vera: Principal,
             scale: Scale) -> tuple[ValidationRun, Path | None]:
    """Vera validates the version on its out-of-time rows; returns the run and the report
    (none with --quick: rendering its charts twice, HTML and PDF, is most of the step)."""
    run = platform.validation.run(vera, version.ref)
    console.print(f"vera (validator) runs the {platform.registry.model(version.name).domain} "
                  f"battery on {version.ref}'s out-of-time rows (bankml validate "
                  f"{version.ref}); key tests:")
    show_run(platform, run, limit=6)
    if scale.quick:
        console.print(f"Report: left out by --quick; bankml report validation {version.ref} "
                      "writes it (HTML and PDF)")
        return run, None
    report = platform.reports.write_validation(vera, version.ref, run_id=run.run_id)
    console.print(f"Report: {report.html} (and .pdf)")
    return run, report.html
