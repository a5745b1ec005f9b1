"""Approvals with four eyes, findings, exceptions and the gates that guard every promotion.

A transition is requested, not made: it happens when every gate of the model's tier
policy holds, at the request, at the approval that completes it, or when later evidence
arrives. Each use case is one transaction: the evidence, the gates read from it, the move
(through the lifecycle's one door), the request marked executed and every audit event
commit together or not at all. Refusals name their rule, change nothing and are audited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from bankml.access import acting, current, refuse, viewing
from bankml.core.canonical import utc_timestamp
from bankml.core.errors import BankmlError, ConflictError, InvalidInputError, NotFoundError
from bankml.core.errors import PermissionDeniedError as _Forbidden
from bankml.core.identity import SYSTEM, Permission, Principal, Role
from bankml.core.limits import (
    ALERT_TITLE_CHARS,
    FINDING_TITLE_CHARS,
    GATE_CHARS,
    check_integer,
    check_text,
)
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
from bankml.core.policy import AccessPolicy, Evidence, Gate, TierPolicy, evaluate
from bankml.core.ports import MetadataStore, Transaction
from bankml.core.registry import Model, ModelVersion, Stage, parse_model_ref
from bankml.core.validation import ValidationBaseline, ValidationRun
from bankml.registry.lifecycle import move, parse_stage, resolve

MAX_EXCEPTION_DAYS = 366


class FourEyesError(_Forbidden):
    """The same person would hold two parts of one decision."""

    rule = "four_eyes"

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message, rule=rule)


class ApprovalError(ConflictError):
    """An approval or request that does not fit the request's state."""

    rule = "approval"

    def __init__(self, message: str, rule: str, *, field: str | None = None) -> None:
        super().__init__(message, rule=rule, field=field)


class Oversight:
    def __init__(self, metadata: MetadataStore, policies: dict[int, TierPolicy],
                 access: AccessPolicy | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._metadata, self._policies, self._clock = metadata, policies, clock
        self._access = access or AccessPolicy()

    @property
    def policies(self) -> dict[int, TierPolicy]:
        """The tier policies in force, by tier."""
        return dict(self._policies)

    # -- evidence ------------------------------------------------------------------------

    def record_validation(self, by: Principal, ref: str, *, passed: bool, summary: str,
                          run_id: str | None = None) -> ValidationSignoff:
        """A validator's conclusion on a version; the developer cannot validate their own.

        A passing sign-off rests on a stored validation run of this version by this
        validator (`run_id`) and carries that run's fairness verdict: a failed fairness
        verdict is overridden only by a time-boxed exception (`grant_exception`), never by
        the sign-off. A failing sign-off may rest on a run or on none.
        """
        subject = f"model:{ref}"
        with self._metadata.reading() as tx:
            version = resolve(tx, ref)
            developers = _developers(tx, version)
        if by.name in developers:
            refuse(self._metadata, by, FourEyesError(
                f"{by.name} developed {version.ref} and cannot validate it.",
                "four_eyes.validator_not_developer"), subject)
        with acting(self._metadata, by, Permission.VALIDATION_RECORD, subject) as tx:
            run = None if run_id is None else _run_of(tx, run_id, version, by)
            if passed and run is None:
                raise InvalidInputError(
                    "run_id", f"a passing sign-off of {version.ref} rests on a validation "
                    f"run of it by {by.name}; run `bankml validate {version.ref} --sign-off "
                    "--passed`, or name the run", rule="validation.run_required")
            fairness_passed = run is not None and run.fairness_passed
            signoff = ValidationSignoff(
                model=version.name, version=version.number, validator=by.name, passed=passed,
                fairness_passed=fairness_passed, summary=summary, recorded_at=self._now(),
                run_id=run_id)
            tx.oversight.add_signoff(signoff)
            tx.audit.record(by.name, "validation.recorded", f"model:{version.ref}", {
                "passed": passed, "fairness_passed": fairness_passed, "summary": summary,
                **({"run_id": run_id} if run_id is not None else {})})
            self._advance(tx, version.name)
        return signoff

    def raise_finding(self, by: Principal, model_ref: str, *, severity: Severity, title: str,
                      owner: str, due: date) -> Finding:
        with acting(self._metadata, by, Permission.FINDING_RECORD, f"model:{model_ref}") as tx:
            if "@" in model_ref:  # about one version (a number or an alias)
                version = resolve(tx, model_ref)
                name, number = version.name, version.number
            else:  # about the model as a whole
                name, number = _model(tx, model_ref).name, None
            check_text("title", title, FINDING_TITLE_CHARS)
            tx.users.get(owner)
            finding = Finding(finding_id=0, model=name, version=number, severity=severity,
                              title=title, owner=owner, due_date=due.isoformat(),
                              status=FindingStatus.OPEN, raised_by=by.name,
                              raised_at=self._now())
            finding = replace(finding, finding_id=tx.oversight.add_finding(finding))
            tx.audit.record(by.name, "finding.raised", f"finding:{finding.finding_id}", {
                "model": model_ref, "severity": str(severity), "title": title,
                "owner": owner, "due_date": finding.due_date})
        return finding

    def close_finding(self, by: Principal, finding_id: int, *, note: str) -> Finding:
        with acting(self._metadata, by, Permission.FINDING_CLOSE,
                    f"finding:{finding_id}") as tx:
            check_integer("finding_id", finding_id)
            finding = tx.oversight.get_finding(finding_id)
            if finding.status == FindingStatus.CLOSED:
                raise ConflictError(f"Finding #{finding_id} is closed already.",
                                    rule="finding.open", field="finding")
            now = self._now()
            tx.oversight.close_finding(finding_id, by.name, now)
            tx.audit.record(by.name, "finding.closed", f"finding:{finding_id}",
                            {"note": note})
            self._advance(tx, finding.model)
        return replace(finding, status=FindingStatus.CLOSED, closed_by=by.name,
                       closed_at=now)

    def signoffs(self, by: Principal, model: str) -> list[ValidationSignoff]:
        """Every validation sign-off of the model's versions, oldest first."""
        with viewing(self._metadata, by, Permission.EVIDENCE_READ, f"model:{model}") as tx:
            return tx.oversight.signoffs(model)

    def findings(self, by: Principal, *, model: str | None = None,
                 open_only: bool = False) -> list[Finding]:
        with viewing(self._metadata, by, Permission.EVIDENCE_READ,
                     f"model:{model or '*'}") as tx:
            return tx.oversight.findings(model=model, open_only=open_only)

    def grant_exception(self, by: Principal, ref: str, *, gate: str, justification: str,
                        expires: date) -> PolicyException:
        """Let a version pass one gate until a date, for a stated reason."""
        if not justification.strip():
            raise InvalidInputError("justification", "an exception needs a reason",
                                    rule="exception.justified")
        today = self._clock().date()
        if not today < expires <= today + timedelta(days=MAX_EXCEPTION_DAYS):
            raise InvalidInputError("expires", f"{expires} must lie after today and within "
                                    f"{MAX_EXCEPTION_DAYS} days", rule="exception.time_boxed")
        with acting(self._metadata, by, Permission.EXCEPTION_GRANT, f"model:{ref}") as tx:
            check_text("gate", gate, GATE_CHARS)
            version = resolve(tx, ref)
            exception = PolicyException(
                model=version.name, version=version.number, gate=gate,
                justification=justification, granted_by=by.name,
                expires_at=f"{expires.isoformat()}T00:00:00.000000Z")
            tx.oversight.add_exception(exception)
            tx.audit.record(by.name, "exception.granted", f"model:{version.ref}", {
                "gate": gate, "justification": justification,
                "expires_at": exception.expires_at})
            self._advance(tx, version.name)
        return exception

    def open_alert(self, by: Principal, model: str, *, severity: str, title: str) -> int:
        """Record a monitoring alert (monitoring raises these; people may too)."""
        if severity not in ("red", "amber"):
            raise InvalidInputError("severity", f"{severity!r} is not red or amber",
                                    rule="alert.severity")
        with acting(self._metadata, by, Permission.ALERT_MANAGE, f"model:{model}") as tx:
            check_text("title", title, ALERT_TITLE_CHARS)
            _model(tx, model)
            alert_id = tx.oversight.open_alert(model, severity, title, by.name, self._now())
            tx.audit.record(by.name, "alert.opened", f"alert:{alert_id}",
                            {"model": model, "severity": severity, "title": title})
        return alert_id

    def reconsider(self, tx: Transaction, model: str) -> None:
        """Execute the model's open requests whose gates hold now, in the transaction of a
        sibling service that changed their evidence (monitoring resolving an alert: alerts
        move through `monitoring.alerts.AlertDesk` alone, and governance only re-reads)."""
        self._advance(tx, model)

    # -- transitions ---------------------------------------------------------------------

    def gates(self, by: Principal, ref: str, target: Stage,
              request: TransitionRequest | None = None) -> list[Gate]:
        """Every gate the tier policy sets for moving `ref` to `target`, and whether it holds."""
        with viewing(self._metadata, by, Permission.EVIDENCE_READ, f"model:{ref}") as tx:
            return self._gates(tx, resolve(tx, ref), parse_stage(target), request)

    def gates_in(self, tx: Transaction, version: ModelVersion, target: Stage) -> list[Gate]:
        """The gates of moving `version` to `target`, read in the caller's transaction, with
        the approvals of its open request to `target` if it has one (rollouts use this)."""
        return self._gates(tx, version, target, _open_request_to(tx, version, target))

    def request_transition(self, by: Principal, ref: str, target: Stage, *,
                           reason: str) -> TransitionRequest:
        """Ask to move a version; it moves at once if every gate already holds."""
        subject = f"model:{ref}"
        with acting(self._metadata, by, Permission.TRANSITION_REQUEST, subject) as tx:
            stage = parse_stage(target)  # inside: an unknown stage is a refusal on record
            version = resolve(tx, ref)
            refusal = _lifecycle_refusal(version, stage)
            if refusal is None:
                request = self._open_request(tx, by, version, stage, reason)
                return self._execute_if_ready(tx, request)
        refuse(self._metadata, by, refusal, subject)

    def approve(self, by: Principal, request_id: int, *, role: Role,
                comment: str = "") -> TransitionRequest:
        return self._decide(by, request_id, role=role, approved=True, comment=comment)

    def reject(self, by: Principal, request_id: int, *, role: Role,
               comment: str) -> TransitionRequest:
        """A rejection closes the request; a new request starts over. It says why: the
        developer acts on it and the model's history keeps it."""
        if not comment.strip():
            raise InvalidInputError("comment", "must say why the request is rejected",
                                    rule="governance.rejection_reason")
        return self._decide(by, request_id, role=role, approved=False, comment=comment)

    def request(self, by: Principal, request_id: int) -> TransitionRequest:
        with viewing(self._metadata, by, Permission.EVIDENCE_READ,
                     f"request:{request_id}") as tx:
            check_integer("request_id", request_id)
            return tx.oversight.get_request(request_id)

    def requests(self, by: Principal, *, model: str | None = None,
                 status: RequestStatus | None = None) -> list[TransitionRequest]:
        with viewing(self._metadata, by, Permission.EVIDENCE_READ,
                     f"model:{model or '*'}") as tx:
            return tx.oversight.requests(model=model, status=status)

    # -- internals -----------------------------------------------------------------------

    def _open_request(self, tx: Transaction, by: Principal, version: ModelVersion,
                      target: Stage, reason: str) -> TransitionRequest:
        for open_request in tx.oversight.requests(model=version.name,
                                                  status=RequestStatus.OPEN):
            if (open_request.version, open_request.target) == (version.number, target):
                raise ApprovalError(f"Request #{open_request.request_id} already asks to "
                                    f"move {version.ref} to {target}.",
                                    "approval.one_open_request")
        request = TransitionRequest(
            request_id=0, model=version.name, version=version.number, target=target,
            requested_by=by.name, reason=reason, status=RequestStatus.OPEN,
            created_at=self._now())
        request = replace(request, request_id=tx.oversight.add_request(request))
        tx.audit.record(by.name, "transition.requested", f"request:{request.request_id}",
                        {"model": version.ref, "target": str(target), "reason": reason,
                         "policy": self._policy(tx, version.name).version})
        return request

    def _decide(self, by: Principal, request_id: int, *, role: Role, approved: bool,
                comment: str) -> TransitionRequest:
        subject = f"request:{request_id}"
        with acting(self._metadata, by, Permission.TRANSITION_APPROVE, subject) as tx:
            check_integer("request_id", request_id)
            request = tx.oversight.get_request(request_id)
            refusal = self._voice_refusal(tx, by, request, role)
            if refusal is None:
                approval = Approval(approver=by.name, role=role, approved=approved,
                                    comment=comment, recorded_at=self._now())
                tx.oversight.add_approval(request_id, approval)
                if not approved:
                    tx.oversight.set_request_status(request_id, RequestStatus.REJECTED)
                tx.audit.record(by.name, "transition.approved" if approved
                                else "transition.rejected", subject,
                                {"model": request.ref, "target": str(request.target),
                                 "role": str(role), "comment": comment})
                decided = tx.oversight.get_request(request_id)
                return self._execute_if_ready(tx, decided) if approved else decided
        if refusal.rule == "approval.superseded":
            with self._metadata.transaction() as tx:  # settled, even though refused
                tx.oversight.set_request_status(request_id, RequestStatus.SUPERSEDED)
                tx.audit.record(by.name, "transition.superseded", subject,
                                {"model": request.ref})
        refuse(self._metadata, by, refusal, f"model:{request.ref}")

    def _voice_refusal(self, tx: Transaction, by: Principal, request: TransitionRequest,
                       role: Role) -> BankmlError | None:
        """The first four-eyes rule one approver breaks on one request, if any."""
        return next(self._voice_refusals(tx, by, request, role), None)

    def _voice_refusals(self, tx: Transaction, by: Principal, request: TransitionRequest,
                        role: Role) -> Iterator[BankmlError]:
        """The four-eyes rules in order; each broken one, lazily (the caller takes the
        first)."""
        ref = request.ref
        if request.status != RequestStatus.OPEN:
            yield ApprovalError(f"Request #{request.request_id} is {request.status}; only "
                                "open requests take approvals.", "approval.request_open")
        latest = tx.models.latest(request.model)
        if latest.number > request.version:
            yield ApprovalError(f"{latest.ref} was registered after request "
                                f"#{request.request_id}; request again for the version you "
                                "mean.", "approval.superseded")
        if role not in current(tx, by).roles:
            yield _Forbidden(f"{by.name} does not hold the role {role}.",
                             rule="approval.role_held", field="role")
        needed = self._policy(tx, request.model).requirements(request.target).approvals
        if role not in needed:
            wanted = ", ".join(needed) or "no approval"
            yield ApprovalError(f"Moving {ref} to {request.target} needs {wanted}, not "
                                f"{role}.", "approval.role_required", field="role")
        version = tx.models.get(request.model, request.version)
        if by.name in _developers(tx, version):
            yield FourEyesError(f"{by.name} developed {ref} and cannot approve it.",
                                "four_eyes.not_developer")
        if by.name == request.requested_by:
            yield FourEyesError(f"{by.name} requested this transition and cannot approve it.",
                                "four_eyes.not_requester")
        validators = {s.validator for s in tx.oversight.signoffs(request.model,
                                                                 request.version)}
        if by.name in validators:
            yield FourEyesError(f"{by.name} validated {ref} and cannot also approve it.",
                                "four_eyes.not_validator")
        if any(a.approver == by.name for a in request.approvals):
            yield FourEyesError(f"{by.name} has already approved request "
                                f"#{request.request_id}; one person holds one role in an "
                                "approval.", "four_eyes.one_role_per_person")
        if any(a.role == role and a.approved for a in request.approvals):
            yield ApprovalError(f"Request #{request.request_id} already has its {role} "
                                "approval.", "approval.role_filled")
        related = self._recent_grants_between(tx, by.name, request)
        if related:
            days = self._access.grantor_cooldown_days
            yield FourEyesError(
                f"{by.name} and {', '.join(related)} gave one another a role within the last "
                f"{days} days ({self._access.version}); {by.name} cannot approve a request "
                f"{'' if request.requested_by in related else 'also approved '}by them.",
                "four_eyes.not_grantor")

    def _recent_grants_between(self, tx: Transaction, approver: str,
                               request: TransitionRequest) -> list[str]:
        """Parties of the request who gave the approver a role, or were given one by them,
        within the access policy's cooldown."""
        parties = {request.requested_by} | {a.approver for a in request.approvals}
        since = utc_timestamp(self._clock() - timedelta(
            days=self._access.grantor_cooldown_days))
        related: set[str] = set()
        for grant in tx.users.grants(granted_by=approver):
            if grant.username in parties and (grant.effective_at or "") >= since:
                related.add(grant.username)
        for grant in tx.users.grants(username=approver):
            if (grant.effective_at or "") >= since:
                related |= grant.grantors() & parties
        return sorted(related)

    def _advance(self, tx: Transaction, model: str) -> None:
        """New evidence may complete open requests: execute those whose gates now hold."""
        latest = tx.models.latest(model).number
        for request in tx.oversight.requests(model=model, status=RequestStatus.OPEN):
            if latest > request.version:
                continue  # superseded; settled when someone next acts on it
            self._execute_if_ready(tx, request)

    def _execute_if_ready(self, tx: Transaction, request: TransitionRequest
                          ) -> TransitionRequest:
        """Execute an open request whose gates all hold, in the caller's transaction; a
        prod request of a challenger being rolled out waits for its rollout to promote it."""
        if request.status != RequestStatus.OPEN or _rolling_out(tx, request):
            return request
        version = tx.models.get(request.model, request.version)
        if not all(gate.passed for gate in self._gates(tx, version, request.target, request)):
            return request
        return self._execute(tx, request, reason=request.reason)

    def promote_challenger(self, tx: Transaction, version: ModelVersion, *, actor: str,
                           reason: str) -> None:
        """A rollout's promotion by `actor`: move `version` to prod when every gate of the
        prod step holds, its approvals (four eyes on the prod request) included, in the
        rollout's transaction; refused naming the first gate that does not hold."""
        request = _open_request_to(tx, version, Stage.PROD)
        for gate in self._gates(tx, version, Stage.PROD, request):
            if not gate.passed:
                raise ConflictError(f"{version.ref} may not become champion: the prod gate "
                                    f"{gate.rule} does not hold ({gate.detail}).",
                                    rule=gate.rule, field="version")
        if request is None:  # a policy whose prod step asks for no approval
            move(tx, version.ref, Stage.PROD, actor=actor, moment=self._now(), reason=reason)
        else:
            self._execute(tx, request, reason=reason)

    def withdraw_challenger(self, tx: Transaction, version: ModelVersion, *, by: str,
                            reason: str) -> None:
        """A rolled-back challenger's open prod request is withdrawn, approvals and all:
        a later change of evidence must not move it to prod."""
        request = _open_request_to(tx, version, Stage.PROD)
        if request is None:
            return
        tx.oversight.set_request_status(request.request_id, RequestStatus.WITHDRAWN)
        tx.audit.record(by, "transition.withdrawn", f"request:{request.request_id}",
                        {"model": request.ref, "target": str(request.target),
                         "reason": reason})

    def _execute(self, tx: Transaction, request: TransitionRequest, *, reason: str
                 ) -> TransitionRequest:
        move(tx, request.ref, request.target, actor=request.requested_by,
             moment=self._now(), reason=f"request #{request.request_id}: {reason}")
        tx.oversight.set_request_status(request.request_id, RequestStatus.EXECUTED)
        tx.audit.record(SYSTEM.name, "transition.executed", f"request:{request.request_id}",
                        {"model": request.ref, "target": str(request.target)})
        if request.target == Stage.PROD:
            self._record_initial_validation(tx, request)
        return replace(request, status=RequestStatus.EXECUTED)

    def _record_initial_validation(self, tx: Transaction, request: TransitionRequest) -> None:
        """At the model's first approval for production, the run the version's sign-off in
        force rests on becomes its initial validation (ECB PD-07's baseline), once."""
        if tx.validation_runs.baseline(request.model) is not None:
            return
        signoffs = tx.oversight.signoffs(request.model, request.version)
        latest = signoffs[-1] if signoffs else None
        if latest is None or not latest.passed or latest.run_id is None:
            return  # a policy that needs no validation for prod: no initial validation yet
        baseline = ValidationBaseline(
            model=request.model, version=request.version, run_id=latest.run_id,
            validator=latest.validator, request_id=request.request_id,
            recorded_at=self._now())
        tx.validation_runs.set_baseline(baseline)
        tx.audit.record(SYSTEM.name, "validation.baseline_set", f"model:{request.ref}", {
            "run_id": baseline.run_id, "validator": baseline.validator,
            "request_id": baseline.request_id})

    def _gates(self, tx: Transaction, version: ModelVersion, target: Stage,
               request: TransitionRequest | None) -> list[Gate]:
        step = self._policy(tx, version.name).requirements(target)
        evidence = Evidence(
            developers=_developers(tx, version),
            signoffs=tuple(tx.oversight.signoffs(version.name, version.number)),
            approvals=request.approvals if request else (),
            open_findings=tuple(tx.oversight.findings(
                model=version.name, version=version.number, open_only=True)),
            exceptions=tuple(tx.oversight.exceptions(version.name, version.number,
                                                     now=self._now())),
            open_red_alerts=tx.oversight.open_red_alerts(version.name))
        return evaluate(step, evidence)

    def _policy(self, tx: Transaction, model: str) -> TierPolicy:
        return self._policies[_model(tx, model).risk_tier]

    def _now(self) -> str:
        return utc_timestamp(self._clock())


def _model(tx: Transaction, name: str) -> Model:
    found = tx.models.find_model(parse_model_ref(name)[0])
    if found is None:
        raise NotFoundError("model", name, field="model")
    return found


def _run_of(tx: Transaction, run_id: str, version: ModelVersion,
            by: Principal) -> ValidationRun:
    """The run a sign-off rests on: of this version, and the validator's own."""
    run = tx.validation_runs.get(run_id)
    if run.ref != version.ref:
        raise InvalidInputError("run_id", f"{run_id} validated {run.ref}, not {version.ref}",
                                rule="validation.run_matches")
    if run.created_by != by.name:
        raise InvalidInputError("run_id", f"{run_id} was run by {run.created_by}; "
                                f"{by.name} signs off on a run of their own",
                                rule="validation.run_by_validator")
    return run


def _open_request_to(tx: Transaction, version: ModelVersion, target: Stage
                     ) -> TransitionRequest | None:
    return next((r for r in tx.oversight.requests(model=version.name,
                                                  status=RequestStatus.OPEN)
                 if r.version == version.number and r.target == target), None)


def _rolling_out(tx: Transaction, request: TransitionRequest) -> bool:
    """The request moves a challenger of a running or paused rollout to prod: the
    rollout's promotion executes it, so the version becomes champion as it reaches prod."""
    return request.target == Stage.PROD and any(
        (r.model, r.challenger) == (request.model, request.version)
        for r in tx.rollouts.all_active())


def _developers(tx: Transaction, version: ModelVersion) -> frozenset[str]:
    """Who built it: the model's declared developer and whoever registered the version."""
    return frozenset({_model(tx, version.name).developer, version.created_by})


def _lifecycle_refusal(version: ModelVersion, target: Stage) -> BankmlError | None:
    """The lifecycle must allow the step at all; a refusal is audited like any other."""
    try:
        version.moved_to(target)
    except BankmlError as error:
        return error
    return None
