"""Reports as use cases: stored evidence gathered and rendered into files.

The CLI and the HTTP API ask for a report by version (and run); which run, which findings
and where the files go are decided here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bankml.core.errors import InvalidInputError
from bankml.core.identity import Principal
from bankml.core.oversight import Finding, ValidationSignoff
from bankml.core.validation import ValidationResult, ValidationRun
from bankml.registry import Registry
from bankml.validation.runs import Validation


class Findings(Protocol):
    """Where the findings and sign-offs governance recorded on a model are read from."""

    def findings(self, by: Principal, *, model: str | None = None) -> list[Finding]: ...

    def signoffs(self, by: Principal, model: str) -> list[ValidationSignoff]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationReport:
    """A run's report as written: the run it shows and the two files."""

    run: ValidationRun
    html: Path
    pdf: Path


class Reports:
    """Renders stored evidence as self-contained report files."""

    def __init__(self, validation: Validation, registry: Registry, findings: Findings, *,
                 folder: Path) -> None:
        self._validation, self._registry, self._findings = validation, registry, findings
        self._folder = folder

    def validation_run(self, ref: str, *, run_id: str | None = None) -> ValidationRun:
        """The run a report of `ref` shows: `run_id`, or the version's latest independent
        run (a developer self-test only when there is no other).

        A run of another version is refused (`validation.run_matches`).
        """
        if run_id is not None:
            run = self._validation.get(run_id)
        else:
            latest = self._validation.latest(ref)  # NotFoundError when never validated
            independent = [r for r in self._validation.runs(ref) if not r.self_test]
            run = independent[-1] if independent else latest
        version = self._registry.get(ref)
        if run.ref != version.ref:
            raise InvalidInputError("run", f"{run.run_id} validated {run.ref}, not "
                                    f"{version.ref}", rule="validation.run_matches")
        return run

    def validation_findings(self, by: Principal, run: ValidationRun) -> list[Finding]:
        """The findings on the run's model that concern its version or the whole model."""
        return [finding for finding in self._findings.findings(by, model=run.model)
                if finding.version in (None, run.version)]

    def write_validation(self, by: Principal, ref: str, *, run_id: str | None = None,
                         folder: Path | None = None) -> ValidationReport:
        """Write the validation report of a run as HTML and PDF into `folder` (default:
        the reports folder of the home): `validation-NAME-V-RUN.html` and `.pdf`. Reading
        the evidence is `by`'s permission (checked as the findings are read)."""
        # matplotlib and reportlab load when a report is written, not with the platform
        from bankml.reports.validation import Governance, to_html, to_pdf  # noqa: PLC0415

        run = self.validation_run(ref, run_id=run_id)
        findings = self.validation_findings(by, run)
        evidence = Governance(self_test=run.self_test, signoffs=[
            s for s in self._findings.signoffs(by, run.model) if s.version == run.version])
        result: ValidationResult = self._validation.result(run)
        target = folder or self._folder
        target.mkdir(parents=True, exist_ok=True)
        stem = target / f"validation-{run.model}-{run.version}-{run.run_id}"
        html_path, pdf_path = stem.with_suffix(".html"), stem.with_suffix(".pdf")
        html_path.write_text(to_html(result, findings, evidence), encoding="utf-8")
        pdf_path.write_bytes(to_pdf(result, findings, evidence))
        return ValidationReport(run=run, html=html_path, pdf=pdf_path)


__all__ = ["Findings", "Reports", "ValidationReport"]
