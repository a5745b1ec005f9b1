"""Stored results load through the service and render; the report service writes them.

The results are version 1 (stored before results had a schema version), so these tests
need no training run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from bankml import Platform
from bankml.core.canonical import canonical_json
from bankml.core.errors import InvalidInputError
from bankml.core.validation import Opinion, ValidationRun
from bankml.reports.validation import to_html, to_pdf
from support.evidence_v1 import RESULT_V1
from support.people import staff


def stored_run(platform: Platform) -> ValidationRun:
    """A version-1 result in the artifact store, with the run row that points at it (on
    `register`'s version)."""
    digest = platform.artifacts.put(canonical_json(RESULT_V1).encode())
    run = ValidationRun(
        run_id=RESULT_V1["run_id"], model="german-credit-pd", version=1,
        created_at=RESULT_V1["created_at"], created_by="vera",
        policy_id="bankml-credit-default", policy_version="2026.1+f4db3961c3fa",
        opinion=Opinion.MINOR_DEFICIENCIES, fairness_passed=True, greens=4, ambers=0,
        reds=0, result_sha256=digest)
    with platform.metadata.transaction() as tx:
        tx.validation_runs.add(run)
    return run


def test_version_1_result_loads_through_the_service(platform: Platform) -> None:
    """`Validation.result` reads a stored version-1 result as the typed record."""
    register(platform)
    run = stored_run(platform)

    result = platform.validation.result(platform.validation.get(run.run_id))

    assert (result.schema_version, result.run_id, result.opinion) == (
        1, run.run_id, run.opinion)
    assert result.scope.snapshot_sha256 == RESULT_V1["scope"]["snapshot_sha256"]


def test_version_1_result_renders_as_a_report(platform: Platform) -> None:
    """The report renders from a version-1 result: opinion, tests, fairness, previous run."""
    register(platform)
    result = platform.validation.result(stored_run(platform))

    page = to_html(result, [])

    assert "Overall opinion: 2 - adequate, minor deficiencies" in page
    assert "fairness.impact_ratio[sex]" in page
    assert "0.8408 [0.724, 0.984]" in page
    assert "Previous validation: run a4ed1e541d13159f" in page
    assert "bankml validate german-credit-pd@1" in page
    assert to_pdf(result, []).startswith(b"%PDF")


def register(platform: Platform) -> str:
    """A version of german-credit-pd to hang stored runs on (registered by hand)."""
    model = LogisticRegression().fit(np.array([[0.0], [1.0]]), np.array([0, 1]))
    return platform.registry.register_sklearn(staff(platform, "dana"), "german-credit-pd",
                                              model, inputs=["x"], metrics={}).ref


def test_report_files_are_named_by_the_run(platform: Platform, tmp_path: Path) -> None:
    """The report service writes the run's HTML and PDF, named by model, version and run."""
    ref = register(platform)
    run = stored_run(platform)

    report = platform.reports.write_validation(staff(platform, "vera"), ref, folder=tmp_path)

    assert report.run == run
    assert report.html == tmp_path / f"validation-german-credit-pd-1-{run.run_id}.html"
    assert "adequate, minor deficiencies" in report.html.read_text(encoding="utf-8")
    assert report.pdf.read_bytes().startswith(b"%PDF")


def test_report_of_another_versions_run_is_refused(platform: Platform) -> None:
    """A run of version 1 cannot be reported as version 2's."""
    register(platform)
    other = register(platform)
    run = stored_run(platform)

    with pytest.raises(InvalidInputError, match=rf"{run.run_id} validated german-credit-pd@1"):
        platform.reports.write_validation(staff(platform, "vera"), other, run_id=run.run_id)
