"""Results stored before they had a schema version load through the service and render."""

from __future__ import annotations

from bankml import Platform
from bankml.core.canonical import canonical_json
from bankml.core.validation import Opinion, ValidationRun
from bankml.reports.validation import to_html, to_pdf
from support.evidence_v1 import RESULT_V1


def stored_run(platform: Platform) -> ValidationRun:
    """A version-1 result in the artifact store, with the run row that points at it."""
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
    run = stored_run(platform)

    result = platform.validation.result(platform.validation.get(run.run_id))

    assert (result.schema_version, result.run_id, result.opinion) == (
        1, run.run_id, run.opinion)
    assert result.scope.snapshot_sha256 == RESULT_V1["scope"]["snapshot_sha256"]


def test_version_1_result_renders_as_a_report(platform: Platform) -> None:
    """The report renders from a version-1 result: opinion, tests, fairness, previous run."""
    result = platform.validation.result(stored_run(platform))

    page = to_html(result, [])

    assert "Overall opinion: 2 - adequate, minor deficiencies" in page
    assert "fairness.impact_ratio[sex]" in page
    assert "0.8408 [0.724, 0.984]" in page
    assert "Previous validation: run a4ed1e541d13159f" in page
    assert "bankml validate german-credit-pd@1" in page
    assert to_pdf(result, []).startswith(b"%PDF")
