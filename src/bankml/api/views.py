"""JSON views of what the management API returns: one plain dict per record.

Records of core that `bankml.presenters` has a view of (a model, a version, its lineage,
a stage change, a validation run, a request, an audit event) are shown through it, so
the CLI and the API print one shape; this module adds the rest. It imports no
framework, so the CLI can print these too. Where the CLI prints JSON (`inventory
--format json`, `endpoints show`) the keys are the CLI's. Numbers that are not finite
become null (`to_plain`): strict JSON has no NaN.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict

from bankml.core.audit import ChainReport
from bankml.core.canonical import JsonObject, to_plain
from bankml.core.endpoints import EndpointVersion
from bankml.core.identity import ApiToken, NewToken, Principal, PrincipalKind, RoleGrant
from bankml.core.monitoring import (
    Alert,
    Delivery,
    IngestReport,
    MetricPoint,
    MetricTrend,
    MonitoringRun,
)
from bankml.core.oversight import Finding, PolicyException, TransitionRequest, ValidationSignoff
from bankml.core.policy import Gate
from bankml.core.registry import ModelVersion
from bankml.core.serialisation import result_to_plain
from bankml.core.validation import ValidationResult, ValidationRun
from bankml.governance.inventory import InventoryRow
from bankml.presenters import transition_request_view, validation_run_view
from bankml.serving import Applied
from bankml.training.pipeline import Reproduction

# -- registry ------------------------------------------------------------------------------


def aliases_of(version: ModelVersion, aliases: Mapping[str, int]) -> list[str]:
    """The aliases, of a model's `aliases`, that point at `version`."""
    return sorted(alias for alias, number in aliases.items() if number == version.number)


def version_summary_view(version: ModelVersion, aliases: Mapping[str, int]) -> JsonObject:
    """A version in a list: what `bankml models list` shows."""
    return {"ref": version.ref, "number": version.number, "stage": str(version.stage),
            "aliases": to_plain(aliases_of(version, aliases)), "created_at": version.created_at,
            "created_by": version.created_by, "artifact_sha256": version.artifact_sha256,
            "metrics": to_plain(version.metrics)}


def reproduction_view(result: Reproduction) -> JsonObject:
    return {"ref": result.version.ref, "identical": result.is_identical,
            "verdict": result.verdict, "artifact_sha256": result.version.artifact_sha256,
            "rebuilt_sha256": result.rebuilt_sha256,
            "predictions_equal": result.predictions_equal,
            "differences": [to_plain({"input": d.input, "recorded": d.recorded, "now": d.now})
                            for d in result.differences]}


# -- governance ----------------------------------------------------------------------------


def gate_view(gate: Gate) -> JsonObject:
    return {"rule": gate.rule, "passed": gate.passed, "detail": gate.detail}


def gates_view(ref: str, target: str, gates: Sequence[Gate]) -> JsonObject:
    return {"ref": ref, "target": target, "passed": all(gate.passed for gate in gates),
            "gates": [gate_view(gate) for gate in gates]}


def request_view(request: TransitionRequest,
                 gates: Iterable[Gate] | None = None) -> JsonObject:
    """A transition request and its approvals; with `gates`, what it still waits for."""
    view = transition_request_view(request)
    if gates is not None:
        view["gates"] = [gate_view(gate) for gate in gates]
    return view


def signoff_view(signoff: ValidationSignoff) -> JsonObject:
    return {"ref": f"{signoff.model}@{signoff.version}", "validator": signoff.validator,
            "passed": signoff.passed, "fairness_passed": signoff.fairness_passed,
            "summary": signoff.summary, "recorded_at": signoff.recorded_at,
            "run_id": signoff.run_id}


def finding_view(finding: Finding) -> JsonObject:
    return {"finding_id": finding.finding_id,
            "ref": finding.model if finding.version is None
            else f"{finding.model}@{finding.version}",
            "severity": str(finding.severity), "title": finding.title, "owner": finding.owner,
            "due_date": finding.due_date, "status": str(finding.status),
            "raised_by": finding.raised_by, "raised_at": finding.raised_at,
            "closed_by": finding.closed_by, "closed_at": finding.closed_at}


def exception_view(exception: PolicyException) -> JsonObject:
    return {"ref": f"{exception.model}@{exception.version}", "gate": exception.gate,
            "justification": exception.justification, "granted_by": exception.granted_by,
            "expires_at": exception.expires_at}


def inventory_view(row: InventoryRow) -> JsonObject:
    """One inventory row, as `bankml inventory --format json` prints it."""
    fields: dict[str, object] = asdict(row)
    record = to_plain(fields)
    record["review_overdue"], record["overdue"] = row.review_overdue, row.is_overdue
    return record


# -- validation ----------------------------------------------------------------------------


def run_view(run: ValidationRun, result: ValidationResult | None = None) -> JsonObject:
    """A validation run as recorded; with its stored `result`, the summary a reader looks
    at first (as the CLI shows it) and the whole stored result."""
    view = validation_run_view(run, result)
    if result is not None:
        view["stored_result"] = result_to_plain(result)
    return view


# -- people and tokens ---------------------------------------------------------------------


def user_view(user: Principal) -> JsonObject:
    return {"username": user.name, "display_name": user.display_name,
            "kind": str(user.kind), "roles": to_plain(sorted(user.roles)),
            "scopes": to_plain(sorted(user.scopes) if user.kind == PrincipalKind.SERVICE
                               else []),
            "active": user.active}


def grant_view(grant: RoleGrant) -> JsonObject:
    return {"grant_id": grant.grant_id, "username": grant.username, "role": str(grant.role),
            "status": str(grant.status), "granted_by": grant.granted_by,
            "granted_at": grant.granted_at, "confirmed_by": grant.confirmed_by,
            "confirmed_at": grant.confirmed_at}


def token_view(token: ApiToken) -> JsonObject:
    """A token's record; never its secret."""
    return {"token_id": token.token_id, "username": token.username,
            "created_at": token.created_at, "expires_at": token.expires_at,
            "revoked_at": token.revoked_at, "description": token.description}


def new_token_view(new: NewToken) -> JsonObject:
    """A token as created: the only response that ever holds its plaintext."""
    return {**token_view(new.token), "token": new.plaintext}


# -- audit ---------------------------------------------------------------------------------


def chain_report_view(report: ChainReport) -> JsonObject:
    return {"intact": report.is_intact, "events_checked": report.events_checked,
            "head": {"sequence": report.head.sequence, "hash": report.head.hash},
            "breaks": [{"sequence": b.sequence, "kind": str(b.kind), "detail": b.detail}
                       for b in report.breaks]}


# -- endpoints -----------------------------------------------------------------------------


def endpoint_version_view(version: EndpointVersion) -> JsonObject:
    """A stored endpoint definition, as `bankml endpoints show` prints it: the reason
    catalogue by its digest, not its text."""
    spec = dict(version.spec)
    reasons = version.endpoint.reasons
    if reasons is not None:
        spec["reasons"] = {"top": reasons.top, "catalogue_sha256": reasons.sha256}
    return {"ref": version.ref, "name": version.name, "version": version.number,
            "digest": version.digest, "created_at": version.created_at,
            "created_by": version.created_by, "description": version.description,
            "owner": version.owner, "definition": to_plain(spec)}


def applied_view(applied: Applied) -> JsonObject:
    return {**endpoint_version_view(applied.version), "created": applied.created}


# -- monitoring ----------------------------------------------------------------------------


def _fields(record: object) -> dict[str, object]:
    found: dict[str, object] = asdict(record)  # type: ignore[call-overload]  # a record
    return found


def alert_view(alert: Alert, deliveries: Sequence[Delivery] | None = None) -> JsonObject:
    view = to_plain(_fields(alert))
    if deliveries is not None:
        view["deliveries"] = [to_plain(asdict(d)) for d in deliveries]
    return view


def monitoring_run_view(run: MonitoringRun,
                        points: Sequence[MetricPoint] | None = None) -> JsonObject:
    view = to_plain(_fields(run))
    if points is not None:
        view["points"] = [to_plain(asdict(p)) for p in points]
    return view


def trend_view(trend: MetricTrend) -> JsonObject:
    """A status row: the latest point, and each window's value and status for a sparkline."""
    return {**to_plain(asdict(trend.latest)), "window_end": trend.window_end,
            "history": [to_plain(asdict(w)) for w in trend.history]}


def ingest_view(report: IngestReport) -> JsonObject:
    return to_plain(_fields(report))
