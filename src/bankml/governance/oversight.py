"""Approvals with four eyes, findings, exceptions and the gates that guard every promotion.

A transition is requested, not made: it happens when every gate of the model's tier
policy holds, at the request or at the approval that completes it. Refusals name their
rule, change nothing and are audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import NoReturn

from bankml.core.canonical import utc_timestamp
from bankml.core.errors import BankmlError, InvalidInputError
from bankml.core.identity import Permission, Role, User
from bankml.core.oversight import (
    Approval,
    Finding,
    FindingStatus,
    PolicyException,
    RequestStatus,
    Severity,
    TransitionRequest,
    ValidationSignoff,
)
from bankml.core.policy import Evidence, Gate, TierPolicy, evaluate
from bankml.core.ports import MetadataStore
from bankml.core.registry import ModelVersion, Stage
from bankml.governance.identity import Identity
from bankml.registry import Registry

MAX_EXCEPTION_DAYS = 366


class FourEyesError(BankmlError):
    """The same person would hold two parts of one decision."""

    rule = "four_eyes"

    def __init__(self, message: str, rule: str) -> None:
        self.rule = rule
        super().__init__(message)


class ApprovalError(BankmlError):
    """An approval that does not fit the request."""

    rule = "approval"

    def __init__(self, message: str, rule: str) -> None:
        self.rule = rule
        super().__init__(message)


class Oversight:
    def __init__(self, metadata: MetadataStore, identity: Identity, models: Registry,
                 policies: dict[int, TierPolicy],
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._metadata, self._identity, self._models = metadata, identity, models
        self._policies, self._clock = policies, clock

    @property
    def policies(self) -> dict[int, TierPolicy]:
        """The tier policies in force, by tier."""
        return dict(self._policies)

    # -- evidence ------------------------------------------------------------------------

    def record_validation(self, by: User, ref: str, *, passed: bool,
                          fairness_passed: bool | None = None, summary: str,
                          run_id: str | None = None) -> ValidationSignoff:
        """A validator's conclusion on a version; the developer cannot validate their own.

        With `run_id` the sign-off rests on that validation run of the same version, and
        `fairness_passed`, when not given, is the run's fairness verdict.
        """
        version = self._models.get(ref)
        self._identity.guard(by, Permission.VALIDATION_RECORD, f"model:{version.ref}")
        if by.username in self._developers(version):
            self._refuse(by, version.ref, FourEyesError(
                f"{by.username} developed {version.ref} and cannot validate it.",
                "four_eyes.validator_not_developer"))
        if run_id is not None:
            with self._metadata.reading() as tx:
                run = tx.validation_runs.get(run_id)
            if run.ref != version.ref:
                raise InvalidInputError("run_id", f"{run_id} validated {run.ref}, not "
                                        f"{version.ref}", rule="validation.run_matches")
            fairness_passed = run.fairness_passed if fairness_passed is None \
                else fairness_passed
        if fairness_passed is None:
            raise InvalidInputError("fairness_passed", "give the fairness conclusion, or a "
                                    "validation run it is read from",
                                    rule="validation.fairness_stated")
        signoff = ValidationSignoff(
            model=version.name, version=version.number, validator=by.username, passed=passed,
            fairness_passed=fairness_passed, summary=summary, recorded_at=self._now(),
            run_id=run_id)
        with self._metadata.transaction() as tx:
            tx.oversight.add_signoff(signoff)
            tx.audit.record(by.username, "validation.recorded", f"model:{version.ref}", {
                "passed": passed, "fairness_passed": fairness_passed, "summary": summary,
                **({"run_id": run_id} if run_id is not None else {})})
        self._advance(version.name)
        return signoff

    def raise_finding(self, by: User, model_ref: str, *, severity: Severity, title: str,
                      owner: str, due: date) -> Finding:
        if "@" in model_ref:  # about one version (a number or an alias)
            version = self._models.get(model_ref)
            name, number = version.name, version.number
        else:  # about the model as a whole
            name, number = self._models.model(model_ref).name, None
        self._identity.guard(by, Permission.FINDING_RECORD, f"model:{model_ref}")
        self._identity.user(owner)
        finding = Finding(finding_id=0, model=name, version=number, severity=severity,
                          title=title, owner=owner, due_date=due.isoformat(),
                          status=FindingStatus.OPEN, raised_by=by.username,
                          raised_at=self._now())
        with self._metadata.transaction() as tx:
            finding = replace(finding, finding_id=tx.oversight.add_finding(finding))
            tx.audit.record(by.username, "finding.raised", f"finding:{finding.finding_id}", {
                "model": model_ref, "severity": str(severity), "title": title,
                "owner": owner, "due_date": finding.due_date})
        return finding

    def close_finding(self, by: User, finding_id: int, *, note: str) -> Finding:
        self._identity.guard(by, Permission.FINDING_CLOSE, f"finding:{finding_id}")
        with self._metadata.transaction() as tx:
            finding = tx.oversight.get_finding(finding_id)
            if finding.status == FindingStatus.CLOSED:
                raise InvalidInputError("finding", f"#{finding_id} is closed already",
                                        rule="finding.open")
            now = self._now()
            tx.oversight.close_finding(finding_id, by.username, now)
            tx.audit.record(by.username, "finding.closed", f"finding:{finding_id}",
                            {"note": note})
        self._advance(finding.model)
        return replace(finding, status=FindingStatus.CLOSED, closed_by=by.username,
                       closed_at=now)

    def signoffs(self, model: str) -> list[ValidationSignoff]:
        """Every validation sign-off of the model's versions, oldest first."""
        with self._metadata.reading() as tx:
            return tx.oversight.signoffs(model)

    def findings(self, *, model: str | None = None, open_only: bool = False) -> list[Finding]:
        with self._metadata.reading() as tx:
            return tx.oversight.findings(model=model, open_only=open_only)

    def grant_exception(self, by: User, ref: str, *, gate: str, justification: str,
                        expires: date) -> PolicyException:
        """Let a version pass one gate until a date, for a stated reason."""
        version = self._models.get(ref)
        self._identity.guard(by, Permission.EXCEPTION_GRANT, f"model:{version.ref}")
        if not justification.strip():
            raise InvalidInputError("justification", "an exception needs a reason",
                                    rule="exception.justified")
        today = self._clock().date()
        if not today < expires <= today + timedelta(days=MAX_EXCEPTION_DAYS):
            raise InvalidInputError("expires", f"{expires} must lie after today and within "
                                    f"{MAX_EXCEPTION_DAYS} days", rule="exception.time_boxed")
        exception = PolicyException(
            model=version.name, version=version.number, gate=gate, justification=justification,
            granted_by=by.username, expires_at=f"{expires.isoformat()}T00:00:00.000000Z")
        with self._metadata.transaction() as tx:
            tx.oversight.add_exception(exception)
            tx.audit.record(by.username, "exception.granted", f"model:{version.ref}", {
                "gate": gate, "justification": justification,
                "expires_at": exception.expires_at})
        self._advance(version.name)
        return exception

    def open_alert(self, by: User, model: str, *, severity: str, title: str) -> int:
        """Record a monitoring alert (monitoring raises these; people may too)."""
        self._identity.guard(by, Permission.ALERT_MANAGE, f"model:{model}")
        if severity not in ("red", "amber"):
            raise InvalidInputError("severity", f"{severity!r} is not red or amber",
                                    rule="alert.severity")
        with self._metadata.transaction() as tx:
            alert_id = tx.oversight.open_alert(model, severity, title, by.username, self._now())
            tx.audit.record(by.username, "alert.opened", f"alert:{alert_id}",
                            {"model": model, "severity": severity, "title": title})
        return alert_id

    def close_alert(self, by: User, alert_id: int) -> None:
        self._identity.guard(by, Permission.ALERT_MANAGE, f"alert:{alert_id}")
        with self._metadata.transaction() as tx:
            model = tx.oversight.close_alert(alert_id, by.username, self._now())
            tx.audit.record(by.username, "alert.closed", f"alert:{alert_id}", {"model": model})
        self._advance(model)

    # -- transitions ---------------------------------------------------------------------

    def gates(self, ref: str, target: Stage,
              request: TransitionRequest | None = None) -> list[Gate]:
        """Every gate the tier policy sets for moving `ref` to `target`, and whether it holds."""
        version = self._models.get(ref)
        step = self._policy(version.name).requirements(target)
        with self._metadata.reading() as tx:
            evidence = Evidence(
                developers=self._developers(version),
                signoffs=tuple(tx.oversight.signoffs(version.name, version.number)),
                approvals=request.approvals if request else (),
                open_findings=tuple(tx.oversight.findings(
                    model=version.name, version=version.number, open_only=True)),
                exceptions=tuple(tx.oversight.exceptions(version.name, version.number,
                                                         now=self._now())),
                open_red_alerts=tx.oversight.open_red_alerts(version.name))
        return evaluate(step, evidence)

    def request_transition(self, by: User, ref: str, target: Stage, *,
                           reason: str) -> TransitionRequest:
        """Ask to move a version; it moves at once if every gate already holds."""
        version = self._models.get(ref)
        self._identity.guard(by, Permission.TRANSITION_REQUEST, f"model:{version.ref}")
        version.moved_to(target)  # the lifecycle must allow the step at all
        request = TransitionRequest(
            request_id=0, model=version.name, version=version.number, target=target,
            requested_by=by.username, reason=reason, status=RequestStatus.OPEN,
            created_at=self._now())
        with self._metadata.transaction() as tx:
            for open_request in tx.oversight.requests(model=version.name,
                                                      status=RequestStatus.OPEN):
                if (open_request.version, open_request.target) == (version.number, target):
                    raise ApprovalError(f"Request #{open_request.request_id} already asks to "
                                        f"move {version.ref} to {target}.",
                                        "approval.one_open_request")
            request = replace(request, request_id=tx.oversight.add_request(request))
            tx.audit.record(by.username, "transition.requested",
                            f"request:{request.request_id}",
                            {"model": version.ref, "target": str(target), "reason": reason,
                             "policy": self._policy(version.name).version})
        return self._execute_if_ready(request)

    def approve(self, by: User, request_id: int, *, role: Role,
                comment: str = "") -> TransitionRequest:
        return self._decide(by, request_id, role=role, approved=True, comment=comment)

    def reject(self, by: User, request_id: int, *, role: Role,
               comment: str) -> TransitionRequest:
        """A rejection closes the request; a new request starts over."""
        return self._decide(by, request_id, role=role, approved=False, comment=comment)

    def request(self, request_id: int) -> TransitionRequest:
        with self._metadata.reading() as tx:
            return tx.oversight.get_request(request_id)

    def requests(self, *, model: str | None = None,
                 status: RequestStatus | None = None) -> list[TransitionRequest]:
        with self._metadata.reading() as tx:
            return tx.oversight.requests(model=model, status=status)

    # -- internals -----------------------------------------------------------------------

    def _decide(self, by: User, request_id: int, *, role: Role, approved: bool,
                comment: str) -> TransitionRequest:
        subject = f"request:{request_id}"
        self._identity.guard(by, Permission.TRANSITION_APPROVE, subject)
        request = self.request(request_id)
        self._check_voice(by, request, role)
        approval = Approval(approver=by.username, role=role, approved=approved,
                            comment=comment, recorded_at=self._now())
        with self._metadata.transaction() as tx:
            tx.oversight.add_approval(request_id, approval)
            if not approved:
                tx.oversight.set_request_status(request_id, RequestStatus.REJECTED)
            tx.audit.record(by.username, "transition.approved" if approved
                            else "transition.rejected", subject,
                            {"model": request.ref, "target": str(request.target),
                             "role": str(role), "comment": comment})
        if not approved:
            return replace(request, status=RequestStatus.REJECTED,
                           approvals=(*request.approvals, approval))
        return self._execute_if_ready(self.request(request_id))

    def _check_voice(self, by: User, request: TransitionRequest, role: Role) -> None:
        """The four-eyes rules for one approver on one request; each refusal is audited."""
        ref = request.ref
        if request.status != RequestStatus.OPEN:
            self._refuse(by, ref, ApprovalError(
                f"Request #{request.request_id} is {request.status}; only open requests take "
                "approvals.", "approval.request_open"))
        latest = self._models.get(request.model)
        if latest.number > request.version:
            with self._metadata.transaction() as tx:
                tx.oversight.set_request_status(request.request_id, RequestStatus.SUPERSEDED)
                tx.audit.record(by.username, "transition.superseded",
                                f"request:{request.request_id}", {"newer": latest.ref})
            raise ApprovalError(f"{latest.ref} was registered after request "
                                f"#{request.request_id}; request again for the version you "
                                "mean.", "approval.superseded")
        if role not in by.roles:
            self._refuse(by, ref, ApprovalError(f"{by.username} does not hold the role {role}.",
                                                "approval.role_held"))
        needed = self._policy(request.model).requirements(request.target).approvals
        if role not in needed:
            wanted = ", ".join(needed) or "no approval"
            self._refuse(by, ref, ApprovalError(
                f"Moving {ref} to {request.target} needs {wanted}, not {role}.",
                "approval.role_required"))
        if by.username in self._developers(self._models.get(ref)):
            self._refuse(by, ref, FourEyesError(
                f"{by.username} developed {ref} and cannot approve it.",
                "four_eyes.not_developer"))
        if by.username == request.requested_by:
            self._refuse(by, ref, FourEyesError(
                f"{by.username} requested this transition and cannot approve it.",
                "four_eyes.not_requester"))
        with self._metadata.reading() as tx:
            validators = {s.validator for s in tx.oversight.signoffs(request.model,
                                                                     request.version)}
        if by.username in validators:
            self._refuse(by, ref, FourEyesError(
                f"{by.username} validated {ref} and cannot also approve it.",
                "four_eyes.not_validator"))
        if any(a.approver == by.username for a in request.approvals):
            self._refuse(by, ref, FourEyesError(
                f"{by.username} has already approved request #{request.request_id}; one "
                "person holds one role in an approval.", "four_eyes.one_role_per_person"))
        if any(a.role == role and a.approved for a in request.approvals):
            self._refuse(by, ref, ApprovalError(
                f"Request #{request.request_id} already has its {role} approval.",
                "approval.role_filled"))

    def _advance(self, model: str) -> None:
        """New evidence may complete open requests: execute those whose gates now hold."""
        for request in self.requests(model=model, status=RequestStatus.OPEN):
            if self._models.get(request.model).number > request.version:
                continue  # superseded; settled when someone next acts on it
            self._execute_if_ready(request)

    def _execute_if_ready(self, request: TransitionRequest) -> TransitionRequest:
        if request.status != RequestStatus.OPEN:
            return request
        if not all(gate.passed for gate in self.gates(request.ref, request.target, request)):
            return request
        self._models.transition(request.ref, request.target, actor=request.requested_by,
                                reason=f"request #{request.request_id}: {request.reason}")
        with self._metadata.transaction() as tx:
            tx.oversight.set_request_status(request.request_id, RequestStatus.EXECUTED)
            tx.audit.record("bankml", "transition.executed", f"request:{request.request_id}",
                            {"model": request.ref, "target": str(request.target)})
        return replace(request, status=RequestStatus.EXECUTED)

    def _refuse(self, by: User, ref: str, error: BankmlError) -> NoReturn:
        with self._metadata.transaction() as tx:
            tx.audit.record(by.username, "governance.refused", f"model:{ref}",
                            {"rule": error.rule, "reason": str(error)})
        raise error

    def _policy(self, model: str) -> TierPolicy:
        return self._policies[self._models.model(model).risk_tier]

    def _developers(self, version: ModelVersion) -> frozenset[str]:
        """Who built it: the model's declared developer and whoever registered the version."""
        return frozenset({self._models.model(version.name).developer, version.created_by})

    def _now(self) -> str:
        return utc_timestamp(self._clock())
