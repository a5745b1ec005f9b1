"""Validation runs in tests about governance, not about the battery.

A sign-off must rest on a stored run of its version by its validator. Tests of gates,
approvals or the inventory store the run's row directly, as a run of the battery would
(`Validation._store`), so that they need no trained model; tests of the battery itself
run it (tests/integration/validation).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from bankml import Platform
from bankml.core.canonical import utc_timestamp
from bankml.core.identity import Principal
from bankml.core.registry import parse_model_ref
from bankml.core.validation import Opinion, ValidationRun


def stored_run(platform: Platform, by: Principal, ref: str, *,
               fairness_passed: bool = True) -> ValidationRun:
    """A run of `ref` by `by` with the given fairness verdict, stored as evidence."""
    name, number = parse_model_ref(ref)
    assert isinstance(number, int), ref
    run = ValidationRun(
        run_id=secrets.token_hex(8), model=name, version=number,
        created_at=utc_timestamp(datetime.now(UTC)), created_by=by.name,
        policy_id="test-policy", policy_version="1", opinion=Opinion.ADEQUATE,
        fairness_passed=fairness_passed, greens=1, ambers=0,
        reds=0 if fairness_passed else 1,
        result_sha256=platform.artifacts.put(b'{"stored": "by tests/support/evidence"}'))
    with platform.metadata.transaction() as tx:
        tx.validation_runs.add(run)
    return run


def signed_off(platform: Platform, by: Principal, ref: str, *, passed: bool = True,
               fairness_passed: bool = True, summary: str = "ok") -> ValidationRun:
    """`by` validates `ref` (a stored run) and signs off on that run."""
    run = stored_run(platform, by, ref, fairness_passed=fairness_passed)
    platform.oversight.record_validation(by, ref, passed=passed, summary=summary,
                                         run_id=run.run_id)
    return run
