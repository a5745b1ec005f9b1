"""Governance policy as data: what each lifecycle step needs, per risk tier, and the check.

A bank edits the policy files; the code only evaluates them. Each gate has a stable name
(its rule), which refusals and reports quote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from bankml.core.identity import CONTROL_ROLES, Role
from bankml.core.oversight import Approval, Finding, PolicyException, Severity, ValidationSignoff
from bankml.core.registry import Stage

APPROVAL_GATE = "gate.approval."  # and the role: one gate per approval a step names


class FairnessRule(StrEnum):
    NOT_REQUIRED = "not_required"
    PASSED = "passed"
    PASSED_OR_EXCEPTION = "passed_or_exception"


@dataclass(frozen=True, slots=True, kw_only=True)
class StepRequirements:
    """What must hold before a version may enter one stage."""

    validation: bool = False  # a passed validation of this very version
    independent_validator: bool = True  # ... by someone who is not the developer
    approvals: tuple[Role, ...] = ()  # one approval per role, each from a different person
    fairness: FairnessRule = FairnessRule.NOT_REQUIRED
    blocking_findings: frozenset[Severity] = frozenset()
    no_open_red_alerts: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TierPolicy:
    tier: int
    version: str  # the file's declared version plus the sha256 of its text
    review_months: int  # periodic review frequency, for the inventory
    steps: Mapping[Stage, StepRequirements] = field(default_factory=dict)

    def requirements(self, target: Stage) -> StepRequirements:
        return self.steps.get(target, StepRequirements())


DEFAULT_GRANTOR_COOLDOWN_DAYS = 7


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessPolicy:
    """Four eyes on access: which grants wait for a second admin, and how long a grantor
    stays out of their grantee's approvals."""

    version: str = "default"
    second_admin_for: frozenset[Role] = CONTROL_ROLES
    grantor_cooldown_days: int = DEFAULT_GRANTOR_COOLDOWN_DAYS


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """Everything the gates look at for one version and one request."""

    developers: frozenset[str]  # the model's developer and the version's registrant
    signoffs: tuple[ValidationSignoff, ...] = ()  # of this version, oldest first
    approvals: tuple[Approval, ...] = ()
    open_findings: tuple[Finding, ...] = ()
    exceptions: tuple[PolicyException, ...] = ()  # unexpired
    open_red_alerts: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Gate:
    rule: str
    passed: bool
    detail: str

    @property
    def approval_role(self) -> Role | None:
        """The role whose approval this gate asks for; None when it is no approval gate."""
        if not self.rule.startswith(APPROVAL_GATE):
            return None
        return Role(self.rule.removeprefix(APPROVAL_GATE))


def evaluate(step: StepRequirements, evidence: Evidence) -> list[Gate]:
    """Every gate the step requires, each passed or not, with why."""
    gates: list[Gate] = []
    latest = evidence.signoffs[-1] if evidence.signoffs else None
    if step.validation:
        gates.append(_validation_gate(latest))
        if step.independent_validator:
            independent = latest is not None and latest.validator not in evidence.developers
            developers = ", ".join(sorted(evidence.developers))
            gates.append(Gate(rule="gate.validator_independent", passed=independent,
                              detail=f"validated by someone other than the developers "
                                     f"({developers})" if independent else
                                     f"the validator must not be a developer ({developers})"))
    for role in step.approvals:
        approval = next((a for a in evidence.approvals if a.role == role and a.approved), None)
        gates.append(Gate(rule=f"{APPROVAL_GATE}{role}", passed=approval is not None,
                          detail=f"approved by {approval.approver} as {role}" if approval
                          else f"needs an approval by a {role}"))
    if step.fairness != FairnessRule.NOT_REQUIRED:
        gates.append(_fairness_gate(step.fairness, latest, evidence.exceptions))
    if step.blocking_findings:
        blocking = [f for f in evidence.open_findings if f.severity in step.blocking_findings]
        gates.append(Gate(rule="gate.findings_closed", passed=not blocking,
                          detail="no blocking finding open" if not blocking else
                          "open: " + "; ".join(f"#{f.finding_id} {f.severity} {f.title}"
                                               for f in blocking)))
    if step.no_open_red_alerts:
        gates.append(Gate(rule="gate.no_red_alerts", passed=evidence.open_red_alerts == 0,
                          detail=f"{evidence.open_red_alerts} red monitoring alert(s) open"))
    return gates


def _validation_gate(latest: ValidationSignoff | None) -> Gate:
    if latest is None:
        return Gate(rule="gate.validation_passed", passed=False,
                    detail="no validation of this version is recorded")
    on = f"validation by {latest.validator} on {latest.recorded_at[:10]}"
    if latest.run_id is None:  # recorded before sign-offs had to rest on a run
        return Gate(rule="gate.validation_passed", passed=False,
                    detail=f"{on} rests on no validation run")
    return Gate(rule="gate.validation_passed", passed=latest.passed,
                detail=f"{on}, run {latest.run_id}: "
                       f"{'passed' if latest.passed else 'failed'}")


def _fairness_gate(rule: FairnessRule, latest: ValidationSignoff | None,
                   exceptions: tuple[PolicyException, ...]) -> Gate:
    if latest is not None and latest.run_id is not None and latest.fairness_passed:
        return Gate(rule="gate.fairness", passed=True,
                    detail=f"fairness tests passed in run {latest.run_id}")
    exception = next((e for e in exceptions if e.gate == "gate.fairness"), None)
    if rule == FairnessRule.PASSED_OR_EXCEPTION and exception is not None:
        return Gate(rule="gate.fairness", passed=True,
                    detail=f"exception by {exception.granted_by} until "
                           f"{exception.expires_at[:10]}: {exception.justification}")
    needed = "passed fairness tests" + (" or a granted exception"
                                        if rule == FairnessRule.PASSED_OR_EXCEPTION else "")
    return Gate(rule="gate.fairness", passed=False, detail=f"needs {needed}")
