"""Gate evaluation: each gate fails without its evidence and passes with it."""

from __future__ import annotations

from dataclasses import replace

from bankml.core.identity import Role
from bankml.core.oversight import (
    Approval,
    Finding,
    FindingStatus,
    PolicyException,
    Severity,
    ValidationSignoff,
)
from bankml.core.policy import Evidence, FairnessRule, StepRequirements, evaluate

STRICT = StepRequirements(
    validation=True, independent_validator=True,
    approvals=(Role.MODEL_RISK, Role.BUSINESS_OWNER),
    fairness=FairnessRule.PASSED_OR_EXCEPTION,
    blocking_findings=frozenset({Severity.HIGH, Severity.MEDIUM}), no_open_red_alerts=True)
AT = "2026-03-03T09:00:00.000000Z"
SIGNOFF = ValidationSignoff(model="pd", version=1, validator="vera", passed=True,
                            fairness_passed=True, summary="ok", recorded_at=AT,
                            run_id="0f3a")
APPROVALS = (Approval(approver="mira", role=Role.MODEL_RISK, approved=True, comment="",
                      recorded_at=AT),
             Approval(approver="bob", role=Role.BUSINESS_OWNER, approved=True, comment="",
                      recorded_at=AT))
COMPLETE = Evidence(developers=frozenset({"dana"}), signoffs=(SIGNOFF,), approvals=APPROVALS)
FINDING = Finding(finding_id=7, model="pd", version=1, severity=Severity.MEDIUM, title="drift",
                  owner="dana", due_date="2026-04-01", status=FindingStatus.OPEN,
                  raised_by="vera", raised_at=AT)


def failing(evidence: Evidence, step: StepRequirements = STRICT) -> list[str]:
    return [gate.rule for gate in evaluate(step, evidence) if not gate.passed]


def test_complete_evidence_passes_every_gate() -> None:
    """With validation, both approvals, fairness and nothing open, all gates hold."""
    assert failing(COMPLETE) == []


def test_missing_validation_fails_its_gates() -> None:
    """No validation fails both the validation and the independence gate."""
    assert failing(replace(COMPLETE, signoffs=())) == [
        "gate.validation_passed", "gate.validator_independent", "gate.fairness"]


def test_failed_latest_validation_fails() -> None:
    """The latest validation counts: a later failure undoes an earlier pass."""
    failed = replace(SIGNOFF, passed=False)

    assert "gate.validation_passed" in failing(replace(COMPLETE, signoffs=(SIGNOFF, failed)))


def test_developer_validating_own_model_fails() -> None:
    """A validation by the developer does not satisfy independence."""
    own = replace(SIGNOFF, validator="dana")

    assert failing(replace(COMPLETE, signoffs=(own,))) == ["gate.validator_independent"]


def test_each_missing_approval_is_named() -> None:
    """A missing business-owner approval fails that gate alone."""
    assert failing(replace(COMPLETE, approvals=APPROVALS[:1])) == [
        "gate.approval.business_owner"]


def test_rejection_is_not_an_approval() -> None:
    """A recorded rejection does not count for its role."""
    rejected = (replace(APPROVALS[0], approved=False), APPROVALS[1])

    assert failing(replace(COMPLETE, approvals=rejected)) == ["gate.approval.model_risk"]


def test_failed_fairness_needs_an_exception() -> None:
    """Failed fairness blocks, unless an exception is granted where the policy allows one."""
    unfair = replace(COMPLETE, signoffs=(replace(SIGNOFF, fairness_passed=False),))
    exception = PolicyException(model="pd", version=1, gate="gate.fairness",
                                justification="proxy removed next release", granted_by="mira",
                                expires_at="2026-06-30T00:00:00.000000Z")

    assert failing(unfair) == ["gate.fairness"]
    assert failing(replace(unfair, exceptions=(exception,))) == []
    strict_fairness = replace(STRICT, fairness=FairnessRule.PASSED)
    assert failing(replace(unfair, exceptions=(exception,)), strict_fairness) == [
        "gate.fairness"]


def test_blocking_findings_block_by_severity() -> None:
    """An open medium finding blocks where medium is blocking, and not elsewhere."""
    with_finding = replace(COMPLETE, open_findings=(FINDING,))

    assert failing(with_finding) == ["gate.findings_closed"]
    assert failing(with_finding, replace(STRICT, blocking_findings=frozenset({Severity.HIGH}))) \
        == []


def test_red_alerts_block() -> None:
    """An open red monitoring alert blocks where the policy says so."""
    assert failing(replace(COMPLETE, open_red_alerts=1)) == ["gate.no_red_alerts"]


def test_empty_step_needs_nothing() -> None:
    """A step without requirements has no gates."""
    assert evaluate(StepRequirements(), Evidence(developers=frozenset({"dana"}))) == []


def test_a_signoff_without_a_run_holds_no_gate() -> None:
    """A sign-off recorded before they had to rest on a run passes neither the validation
    nor the fairness gate."""
    unfounded = replace(SIGNOFF, run_id=None)

    gates = {g.rule: g for g in evaluate(STRICT, replace(COMPLETE, signoffs=(unfounded,)))}

    assert not gates["gate.validation_passed"].passed
    assert gates["gate.validation_passed"].detail.endswith("rests on no validation run")
    assert not gates["gate.fairness"].passed
