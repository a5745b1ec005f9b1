"""Governance evidence in SQL: sign-offs, findings, exceptions, requests, approvals, alerts."""

from __future__ import annotations

from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bankml.core.errors import DuplicateError, NotFoundError
from bankml.core.identity import Role
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
from bankml.core.registry import Stage
from bankml.stores.sql.tables import (
    alerts,
    approvals,
    findings,
    policy_exceptions,
    transition_requests,
    validation_signoffs,
)


class SqlOversight:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    # validation sign-offs
    def add_signoff(self, signoff: ValidationSignoff) -> None:
        self._connection.execute(insert(validation_signoffs).values(
            model=signoff.model, version=signoff.version, validator=signoff.validator,
            passed=int(signoff.passed), fairness_passed=int(signoff.fairness_passed),
            summary=signoff.summary, recorded_at=signoff.recorded_at, run_id=signoff.run_id))

    def signoffs(self, model: str, version: int | None = None) -> list[ValidationSignoff]:
        query = select(validation_signoffs).where(validation_signoffs.c.model == model)
        if version is not None:
            query = query.where(validation_signoffs.c.version == version)
        rows = self._connection.execute(query.order_by(validation_signoffs.c.signoff_id))
        return [ValidationSignoff(
            model=r.model, version=r.version, validator=r.validator, passed=bool(r.passed),
            fairness_passed=bool(r.fairness_passed), summary=r.summary,
            recorded_at=r.recorded_at, run_id=r.run_id) for r in rows]

    # findings
    def add_finding(self, finding: Finding) -> int:
        values = {k: getattr(finding, k) for k in (
            "model", "version", "title", "owner", "due_date", "raised_by", "raised_at")}
        result = self._connection.execute(insert(findings).values(
            **values, severity=str(finding.severity), status=str(finding.status)))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def get_finding(self, finding_id: int) -> Finding:
        row = self._connection.execute(
            select(findings).where(findings.c.finding_id == finding_id)).one_or_none()
        if row is None:
            raise NotFoundError("finding", f"#{finding_id}")
        return _finding(row._asdict())

    def close_finding(self, finding_id: int, closed_by: str, closed_at: str) -> None:
        self._connection.execute(update(findings).where(findings.c.finding_id == finding_id)
                                 .values(status=str(FindingStatus.CLOSED), closed_by=closed_by,
                                         closed_at=closed_at))

    def findings(self, *, model: str | None = None, version: int | None = None,
                 open_only: bool = False) -> list[Finding]:
        query = select(findings)
        if model is not None:
            query = query.where(findings.c.model == model)
        if version is not None:  # a version's findings include those about the whole model
            query = query.where(or_(findings.c.version == version, findings.c.version.is_(None)))
        if open_only:
            query = query.where(findings.c.status == str(FindingStatus.OPEN))
        rows = self._connection.execute(query.order_by(findings.c.finding_id))
        return [_finding(r._asdict()) for r in rows]

    # exceptions
    def add_exception(self, exception: PolicyException) -> None:
        self._connection.execute(insert(policy_exceptions).values(
            model=exception.model, version=exception.version, gate=exception.gate,
            justification=exception.justification, granted_by=exception.granted_by,
            expires_at=exception.expires_at))

    def exceptions(self, model: str, version: int, *, now: str) -> list[PolicyException]:
        rows = self._connection.execute(select(policy_exceptions).where(and_(
            policy_exceptions.c.model == model, policy_exceptions.c.version == version,
            policy_exceptions.c.expires_at > now)).order_by(policy_exceptions.c.exception_id))
        return [PolicyException(
            model=r.model, version=r.version, gate=r.gate, justification=r.justification,
            granted_by=r.granted_by, expires_at=r.expires_at) for r in rows]

    # transition requests and approvals
    def add_request(self, request: TransitionRequest) -> int:
        result = self._connection.execute(insert(transition_requests).values(
            model=request.model, version=request.version, target=str(request.target),
            requested_by=request.requested_by, reason=request.reason,
            status=str(request.status), created_at=request.created_at))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def get_request(self, request_id: int) -> TransitionRequest:
        row = self._connection.execute(select(transition_requests).where(
            transition_requests.c.request_id == request_id)).one_or_none()
        if row is None:
            raise NotFoundError("transition request", f"#{request_id}",
                                "List them with `bankml governance requests`.")
        given = self._connection.execute(select(approvals).where(
            approvals.c.request_id == request_id).order_by(approvals.c.recorded_at))
        return TransitionRequest(
            request_id=row.request_id, model=row.model, version=row.version,
            target=Stage(row.target), requested_by=row.requested_by, reason=row.reason,
            status=RequestStatus(row.status), created_at=row.created_at,
            approvals=tuple(Approval(approver=a.approver, role=Role(a.role),
                                     approved=bool(a.approved), comment=a.comment,
                                     recorded_at=a.recorded_at) for a in given))

    def requests(self, *, model: str | None = None,
                 status: RequestStatus | None = None) -> list[TransitionRequest]:
        query = select(transition_requests.c.request_id)
        if model is not None:
            query = query.where(transition_requests.c.model == model)
        if status is not None:
            query = query.where(transition_requests.c.status == str(status))
        ids = self._connection.execute(query.order_by(transition_requests.c.request_id))
        return [self.get_request(request_id) for (request_id,) in ids]

    def set_request_status(self, request_id: int, status: RequestStatus) -> None:
        self._connection.execute(update(transition_requests).where(
            transition_requests.c.request_id == request_id).values(status=str(status)))

    def add_approval(self, request_id: int, approval: Approval) -> None:
        try:
            self._connection.execute(insert(approvals).values(
                request_id=request_id, approver=approval.approver, role=str(approval.role),
                approved=int(approval.approved), comment=approval.comment,
                recorded_at=approval.recorded_at))
        except IntegrityError as exc:
            raise DuplicateError(f"{approval.approver} has already given their voice on "
                                 f"request #{request_id}.") from exc

    # monitoring alerts
    def open_alert(self, model: str, severity: str, title: str, opened_by: str,
                   opened_at: str) -> int:
        result = self._connection.execute(insert(alerts).values(
            model=model, severity=severity, title=title, opened_by=opened_by,
            opened_at=opened_at))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def open_red_alerts(self, model: str) -> int:
        return int(self._connection.execute(select(func.count()).select_from(alerts).where(
            alerts.c.model == model, alerts.c.severity == "red",
            alerts.c.closed_at.is_(None))).scalar_one())


def _finding(row: dict[str, object]) -> Finding:
    return Finding(
        finding_id=int(str(row["finding_id"])), model=str(row["model"]),
        version=None if row["version"] is None else int(str(row["version"])),
        severity=Severity(str(row["severity"])), title=str(row["title"]),
        owner=str(row["owner"]), due_date=str(row["due_date"]),
        status=FindingStatus(str(row["status"])), raised_by=str(row["raised_by"]),
        raised_at=str(row["raised_at"]),
        closed_by=None if row["closed_by"] is None else str(row["closed_by"]),
        closed_at=None if row["closed_at"] is None else str(row["closed_at"]))
