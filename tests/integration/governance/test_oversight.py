"""Promotions under policy, on the real registry, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from bankml import Platform
from bankml.core.errors import IllegalTransitionError, InvalidInputError, PermissionDeniedError
from bankml.core.identity import Principal, Role
from bankml.core.monitoring import AlertStatus
from bankml.core.oversight import RequestStatus, Severity
from bankml.core.registry import Domain, Model, ModelVersion, Stage
from bankml.governance.oversight import ApprovalError, FourEyesError
from support.evidence import signed_off, stored_run
from support.people import admins, person
from support.trail import audit_events

CAST = {  # username: roles
    "dana": {Role.DATA_SCIENTIST},
    "vera": {Role.VALIDATOR},
    "mira": {Role.MODEL_RISK},
    "bob": {Role.BUSINESS_OWNER},
    "sam": {Role.ML_ENGINEER, Role.BUSINESS_OWNER},
    "max": {Role.MODEL_RISK, Role.BUSINESS_OWNER},
    "val": {Role.VALIDATOR, Role.MODEL_RISK},
}
TIER_ONE_GATES = ["gate.validation_passed", "gate.validator_independent",
                  "gate.approval.model_risk", "gate.approval.business_owner", "gate.fairness",
                  "gate.findings_closed", "gate.no_red_alerts"]

People = dict[str, Principal]


def READER(platform: Platform) -> Principal:  # noqa: N802 - reads like a constant
    return platform.identity.user("vera")


@pytest.fixture
def people(platform: Platform) -> People:
    cast = {name: person(platform, name, *roles) for name, roles in CAST.items()}
    return {"ada": admins(platform)[0], **cast}


def register(platform: Platform, tier: int, *, name: str = "pd",
             developer: str = "dana") -> ModelVersion:
    """A version of a model `developer` develops, registered by dana."""
    dana = platform.identity.user("dana")
    platform.registry.define_model(dana, Model(name=name, domain=Domain.CREDIT, risk_tier=tier,
                                               owner="retail", developer=developer))
    rows = np.random.default_rng(0).normal(size=(40, 1))
    fitted = LogisticRegression().fit(rows, (rows[:, 0] > 0).astype(int))
    return platform.registry.register_sklearn(dana, name, fitted, inputs=["x0"], metrics={})


def staged(platform: Platform, people: People, tier: int) -> ModelVersion:
    """A version of a tier-`tier` model, independently validated and in staging."""
    version = register(platform, tier)
    signed_off(platform, people["vera"], version.ref)
    request = platform.oversight.request_transition(people["dana"], version.ref,
                                                    Stage.STAGING, reason="validated")
    assert request.status == RequestStatus.EXECUTED
    return platform.registry.get(version.ref)


def approve_both(platform: Platform, people: People, request_id: int) -> None:
    platform.oversight.approve(people["mira"], request_id, role=Role.MODEL_RISK)
    platform.oversight.approve(people["bob"], request_id, role=Role.BUSINESS_OWNER)


def failing(platform: Platform, ref: str, request_id: int) -> list[str]:
    request = platform.oversight.request(READER(platform), request_id)
    gates = platform.oversight.gates(READER(platform), ref, Stage.PROD, request)
    return [g.rule for g in gates if not g.passed]


def test_tier_one_policy_lists_every_gate(platform: Platform, people: People) -> None:
    """Before any evidence, every tier-1 gate to prod is shown failing."""
    version = register(platform, 1)

    gates = platform.oversight.gates(READER(platform), version.ref, Stage.PROD)

    assert [g.rule for g in gates] == TIER_ONE_GATES
    assert all(g.passed for g in gates if g.rule in ("gate.findings_closed",
                                                     "gate.no_red_alerts"))


def test_tier_one_reaches_prod_when_every_gate_holds(platform: Platform,
                                                     people: People) -> None:
    """Validation, both approvals from distinct people, fairness, nothing open: prod."""
    version = staged(platform, people, 1)
    request = platform.oversight.request_transition(people["dana"], version.ref, Stage.PROD,
                                                    reason="go")

    approve_both(platform, people, request.request_id)

    assert platform.registry.get(version.ref).stage == Stage.PROD
    executed = platform.oversight.request(READER(platform), request.request_id)
    assert executed.status == RequestStatus.EXECUTED
    assert [e.action for e in audit_events(platform, subject=f"request:{request.request_id}")
            ][-1] == "transition.executed"


Breach = Callable[[Platform, People, ModelVersion], None]


def _failed_fairness(platform: Platform, people: People, version: ModelVersion) -> None:
    signed_off(platform, people["val"], version.ref, fairness_passed=False,
               summary="impact ratio 0.7")


def _failed_validation(platform: Platform, people: People, version: ModelVersion) -> None:
    signed_off(platform, people["val"], version.ref, passed=False, summary="calibration red")


def _open_finding(platform: Platform, people: People, version: ModelVersion) -> None:
    platform.oversight.raise_finding(people["vera"], version.ref, severity=Severity.MEDIUM,
                                     title="segment drift", owner="dana",
                                     due=date(2030, 1, 1))


def _red_alert(platform: Platform, people: People, version: ModelVersion) -> None:
    platform.oversight.open_alert(people["mira"], version.name, severity="red",
                                  title="PSI 0.31 on score")


@pytest.mark.parametrize(("breach", "gate"), [
    (_failed_validation, "gate.validation_passed"),
    (_failed_fairness, "gate.fairness"),
    (_open_finding, "gate.findings_closed"),
    (_red_alert, "gate.no_red_alerts"),
], ids=["validation", "fairness", "finding", "red-alert"])
def test_tier_one_stops_at_each_failing_gate(platform: Platform, people: People,
                                             breach: Breach, gate: str) -> None:
    """With both approvals given, one failing gate keeps the version out of prod."""
    version = staged(platform, people, 1)
    breach(platform, people, version)
    request = platform.oversight.request_transition(people["dana"], version.ref, Stage.PROD,
                                                    reason="go")

    approve_both(platform, people, request.request_id)

    assert platform.registry.get(version.ref).stage == Stage.STAGING
    assert failing(platform, version.ref, request.request_id) == [gate]


def test_resolving_the_red_alert_lets_the_waiting_request_through(platform: Platform,
                                                                  people: People) -> None:
    """Resolved through the one alerts door, the red alert is resolved (not merely
    closed), nothing counts as open, and the request it held executes at once."""
    version = staged(platform, people, 1)
    _red_alert(platform, people, version)
    request = platform.oversight.request_transition(people["dana"], version.ref, Stage.PROD,
                                                    reason="go")
    approve_both(platform, people, request.request_id)
    [alert] = platform.alerts.alerts(people["mira"], unresolved=True)

    platform.alerts.resolve(people["mira"], alert.alert_id, comment="false alarm: feed fixed")

    resolved, _ = platform.alerts.alert(people["mira"], alert.alert_id)
    assert (resolved.status, resolved.closed_by) == (AlertStatus.RESOLVED, "mira")
    assert platform.alerts.alerts(people["mira"], unresolved=True) == []
    assert platform.registry.get(version.ref).stage == Stage.PROD
    assert platform.oversight.request(READER(platform), request.request_id).status == \
        RequestStatus.EXECUTED


@pytest.mark.parametrize("missing", [Role.MODEL_RISK, Role.BUSINESS_OWNER])
def test_tier_one_needs_each_approval(platform: Platform, people: People,
                                      missing: Role) -> None:
    """One approval of the two is not enough."""
    version = staged(platform, people, 1)
    request = platform.oversight.request_transition(people["dana"], version.ref, Stage.PROD,
                                                    reason="go")
    approver = {Role.MODEL_RISK: "bob", Role.BUSINESS_OWNER: "mira"}[missing]
    given = Role.BUSINESS_OWNER if missing == Role.MODEL_RISK else Role.MODEL_RISK

    platform.oversight.approve(people[approver], request.request_id, role=given)

    assert platform.registry.get(version.ref).stage == Stage.STAGING
    assert failing(platform, version.ref, request.request_id) == [f"gate.approval.{missing}"]


def test_staging_needs_a_validation(platform: Platform, people: People) -> None:
    """A tier-1 request for staging waits until a validator signs off, then executes."""
    version = register(platform, 1)
    request = platform.oversight.request_transition(people["dana"], version.ref,
                                                    Stage.STAGING, reason="ready")
    assert request.status == RequestStatus.OPEN

    signed_off(platform, people["vera"], version.ref)

    assert platform.registry.get(version.ref).stage == Stage.STAGING


def test_closing_the_blocking_finding_completes_the_request(platform: Platform,
                                                            people: People) -> None:
    """Evidence that arrives later (a closed finding) lets an approved request through."""
    version = staged(platform, people, 1)
    finding = platform.oversight.raise_finding(people["vera"], version.ref,
                                               severity=Severity.HIGH, title="leak",
                                               owner="dana", due=date(2030, 1, 1))
    request = platform.oversight.request_transition(people["dana"], version.ref, Stage.PROD,
                                                    reason="go")
    approve_both(platform, people, request.request_id)
    assert platform.registry.get(version.ref).stage == Stage.STAGING

    platform.oversight.close_finding(people["mira"], finding.finding_id, note="fixed")

    assert platform.registry.get(version.ref).stage == Stage.PROD


def test_fairness_exception_lets_it_through_until_it_expires(platform: Platform,
                                                             people: People) -> None:
    """A granted, unexpired exception satisfies the fairness gate; an expired one does not."""
    version = staged(platform, people, 1)
    _failed_fairness(platform, people, version)
    platform.oversight.grant_exception(people["mira"], version.ref, gate="gate.fairness",
                                       justification="proxy removed in the next release",
                                       expires=date.today() + timedelta(days=30))
    assert "gate.fairness" not in [g.rule for g in platform.oversight.gates(
        READER(platform), version.ref, Stage.PROD) if not g.passed]

    later = type(platform.oversight)(platform.metadata, platform.oversight.policies,
                                     clock=lambda: datetime.now(UTC) + timedelta(days=31))

    assert "gate.fairness" in [g.rule for g in later.gates(READER(platform), version.ref,
                                                           Stage.PROD) if not g.passed]


@pytest.mark.parametrize(("expires", "message"), [
    (date.today() - timedelta(days=1), "must lie after today"),
    (date.today() + timedelta(days=400), "within 366 days"),
])
def test_exceptions_are_time_boxed(platform: Platform, people: People, expires: date,
                                   message: str) -> None:
    """An exception must expire, and within a year."""
    version = register(platform, 1)

    with pytest.raises(InvalidInputError, match=message):
        platform.oversight.grant_exception(people["mira"], version.ref, gate="gate.fairness",
                                           justification="x", expires=expires)


def test_tier_three_is_lighter(platform: Platform, people: People) -> None:
    """Tier 3: staging on request, prod on one business-owner approval."""
    version = register(platform, 3)
    to_staging = platform.oversight.request_transition(people["dana"], version.ref,
                                                       Stage.STAGING, reason="try")
    to_prod = platform.oversight.request_transition(people["dana"], version.ref, Stage.PROD,
                                                    reason="go")
    assert to_staging.status == RequestStatus.EXECUTED
    assert to_prod.status == RequestStatus.OPEN

    platform.oversight.approve(people["bob"], to_prod.request_id, role=Role.BUSINESS_OWNER)

    assert platform.registry.get(version.ref).stage == Stage.PROD


def four_eyes_case(platform: Platform, people: People, case: str) -> tuple[int, Principal, Role]:
    """A tier-1 prod request and who tries to approve it, in which role."""
    developer = "bob" if case == "developer" else "dana"
    version = register(platform, 1, developer=developer)
    signed_off(platform, people["val" if case == "validator" else "vera"], version.ref)
    platform.oversight.request_transition(people["dana"], version.ref, Stage.STAGING,
                                          reason="ok")
    requester = "sam" if case == "requester" else "dana"
    request = platform.oversight.request_transition(people[requester], version.ref,
                                                    Stage.PROD, reason="go")
    if case == "two-roles":
        platform.oversight.approve(people["max"], request.request_id, role=Role.MODEL_RISK)
        return request.request_id, people["max"], Role.BUSINESS_OWNER
    approver = {"developer": ("bob", Role.BUSINESS_OWNER), "requester": ("sam",
                Role.BUSINESS_OWNER), "validator": ("val", Role.MODEL_RISK)}[case]
    return request.request_id, people[approver[0]], approver[1]


@pytest.mark.parametrize(("case", "rule"), [
    ("developer", "four_eyes.not_developer"),
    ("requester", "four_eyes.not_requester"),
    ("validator", "four_eyes.not_validator"),
    ("two-roles", "four_eyes.one_role_per_person"),
])
def test_four_eyes_refusals_change_nothing(platform: Platform, people: People, case: str,
                                           rule: str) -> None:
    """Developer, requester, validator or a second role of one person: refused and audited."""
    request_id, approver, role = four_eyes_case(platform, people, case)
    before = platform.oversight.request(READER(platform), request_id)

    with pytest.raises(FourEyesError) as refused:
        platform.oversight.approve(approver, request_id, role=role)

    assert refused.value.rule == rule
    assert platform.oversight.request(READER(platform), request_id) == before
    assert audit_events(platform, newest_first=True, limit=1)[0].action == "governance.refused"


def test_approving_in_a_role_not_held_is_refused(platform: Platform, people: People) -> None:
    """Approvers speak only in roles they hold."""
    version = staged(platform, people, 1)
    request = platform.oversight.request_transition(people["dana"], version.ref, Stage.PROD,
                                                    reason="go")

    with pytest.raises(PermissionDeniedError, match="does not hold the role business_owner"):
        platform.oversight.approve(people["mira"], request.request_id,
                                   role=Role.BUSINESS_OWNER)


def test_a_rejection_without_a_reason_is_refused_and_changes_nothing(
        platform: Platform, people: People) -> None:
    """A rejection must say why; a blank one leaves the request open, as it was."""
    version = staged(platform, people, 1)
    request = platform.oversight.request_transition(people["dana"], version.ref, Stage.PROD,
                                                    reason="go")

    with pytest.raises(InvalidInputError, match="comment: must say why") as refused:
        platform.oversight.reject(people["mira"], request.request_id, role=Role.MODEL_RISK,
                                  comment="  ")

    assert refused.value.rule == "governance.rejection_reason"
    assert platform.oversight.request(READER(platform), request.request_id) == request


def test_rejection_closes_the_request(platform: Platform, people: People) -> None:
    """After a rejection no approval is taken; a new request starts over."""
    version = staged(platform, people, 1)
    request = platform.oversight.request_transition(people["dana"], version.ref, Stage.PROD,
                                                    reason="go")
    platform.oversight.reject(people["mira"], request.request_id, role=Role.MODEL_RISK,
                              comment="challenger better")

    with pytest.raises(ApprovalError, match="is rejected"):
        platform.oversight.approve(people["bob"], request.request_id,
                                   role=Role.BUSINESS_OWNER)
    again = platform.oversight.request_transition(people["dana"], version.ref, Stage.PROD,
                                                  reason="retry")
    assert again.approvals == ()


def test_new_version_supersedes_an_open_request(platform: Platform, people: People) -> None:
    """Approvals do not carry over: a request for an older version is superseded."""
    version = staged(platform, people, 1)
    request = platform.oversight.request_transition(people["dana"], version.ref, Stage.PROD,
                                                    reason="go")
    register(platform, 1)

    with pytest.raises(ApprovalError, match="request again") as refused:
        platform.oversight.approve(people["mira"], request.request_id, role=Role.MODEL_RISK)

    assert refused.value.rule == "approval.superseded"
    superseded = platform.oversight.request(READER(platform), request.request_id)
    assert superseded.status == RequestStatus.SUPERSEDED


def test_developer_cannot_validate(platform: Platform, people: People) -> None:
    """A validation by the model's developer is refused outright."""
    version = register(platform, 1, developer="vera")

    with pytest.raises(FourEyesError, match="vera developed pd@1 and cannot validate it"):
        platform.oversight.record_validation(people["vera"], version.ref, passed=True,
                                             summary="mine")


class _CrashOnExecuted:
    """A transaction that fails as a crash would, just as the request is marked executed."""

    def __init__(self, tx: Any) -> None:
        self._tx = tx

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)

    @property
    def oversight(self) -> Any:
        inner = self._tx.oversight

        class Crashing:
            def __getattr__(self, name: str) -> Any:
                return getattr(inner, name)

            def set_request_status(self, request_id: int, status: RequestStatus) -> None:
                inner.set_request_status(request_id, status)
                if status == RequestStatus.EXECUTED:
                    raise RuntimeError("power cut")
        return Crashing()


class _CrashingStore:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self._inner.transaction() as tx:
            yield _CrashOnExecuted(tx)


def test_a_crash_while_executing_leaves_nothing_half_done(platform: Platform,
                                                          people: People) -> None:
    """The approval, the move to prod and the request marked executed are one transaction:
    a crash at the last step leaves the version in staging, the request open and no
    approval recorded; the same approval then goes through."""
    version = staged(platform, people, 1)
    request = platform.oversight.request_transition(people["dana"], version.ref, Stage.PROD,
                                                    reason="go")
    platform.oversight.approve(people["mira"], request.request_id, role=Role.MODEL_RISK)
    crashing = type(platform.oversight)(_CrashingStore(platform.metadata),  # type: ignore[arg-type]
                                        platform.oversight.policies)

    with pytest.raises(RuntimeError, match="power cut"):
        crashing.approve(people["bob"], request.request_id, role=Role.BUSINESS_OWNER)

    assert platform.registry.get(version.ref).stage == Stage.STAGING
    after = platform.oversight.request(READER(platform), request.request_id)
    assert (after.status, [a.approver for a in after.approvals]) == (RequestStatus.OPEN,
                                                                      ["mira"])
    assert [e.action for e in audit_events(platform, subject=f"request:{request.request_id}")
            ] == ["transition.requested", "transition.approved"]
    platform.oversight.approve(people["bob"], request.request_id, role=Role.BUSINESS_OWNER)
    assert platform.registry.get(version.ref).stage == Stage.PROD


def test_a_lifecycle_refusal_is_audited(platform: Platform, people: People) -> None:
    """Asking for a move the lifecycle forbids is refused with its rule, on the record."""
    version = register(platform, 1)

    with pytest.raises(IllegalTransitionError, match="cannot move from dev to prod"):
        platform.oversight.request_transition(people["dana"], version.ref, Stage.PROD,
                                              reason="skip staging")

    last = audit_events(platform)[-1]
    assert (last.action, last.payload["rule"]) == ("governance.refused", "lifecycle.transition")


def test_an_unknown_stage_is_refused_on_the_record(platform: Platform, people: People) -> None:
    """A request for a stage that does not exist names the rule and is audited."""
    version = register(platform, 1)

    with pytest.raises(InvalidInputError, match="'nowhere' is not a stage"):
        platform.oversight.request_transition(people["dana"], version.ref, "nowhere",
                                              reason="x")

    last = audit_events(platform)[-1]
    assert (last.action, last.payload["rule"]) == ("input.refused", "lifecycle.stage")



def test_a_passing_signoff_needs_a_run(platform: Platform, people: People) -> None:
    """Passed with no validation run is refused with the field and the rule; nothing is
    recorded and the gates still fail."""
    version = register(platform, 1)

    with pytest.raises(InvalidInputError, match="rests on a validation run") as caught:
        platform.oversight.record_validation(people["vera"], version.ref, passed=True,
                                             summary="fine")

    assert (caught.value.field, caught.value.rule) == ("run_id", "validation.run_required")
    assert platform.oversight.signoffs(READER(platform), "pd") == []
    assert audit_events(platform)[-1].payload["rule"] == "validation.run_required"
    assert "gate.validation_passed" in [g.rule for g in platform.oversight.gates(
        READER(platform), version.ref, Stage.STAGING) if not g.passed]


def test_a_signoff_rests_on_the_validators_own_run(platform: Platform,
                                                   people: People) -> None:
    """A run by another validator is no ground for this validator's sign-off."""
    version = register(platform, 1)
    theirs = stored_run(platform, people["val"], version.ref)

    with pytest.raises(InvalidInputError, match="was run by val") as caught:
        platform.oversight.record_validation(people["vera"], version.ref, passed=True,
                                             summary="fine", run_id=theirs.run_id)

    assert caught.value.rule == "validation.run_by_validator"


def test_a_signoff_carries_the_runs_fairness_verdict(platform: Platform,
                                                     people: People) -> None:
    """A run whose fairness failed makes the sign-off's fairness fail: the gate reads the
    run, and only an exception lets the version past it."""
    version = staged(platform, people, 1)
    run = stored_run(platform, people["vera"], version.ref, fairness_passed=False)

    signoff = platform.oversight.record_validation(people["vera"], version.ref, passed=True,
                                                   summary="fair enough", run_id=run.run_id)

    assert signoff.fairness_passed is False
    [fairness] = [g for g in platform.oversight.gates(READER(platform), version.ref,
                                                      Stage.PROD) if g.rule == "gate.fairness"]
    assert (fairness.passed, fairness.detail) == (False, "needs passed fairness tests or a "
                                                  "granted exception")
