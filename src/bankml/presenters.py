"""JSON views of the records people ask about: one shape for the CLI's JSON and the HTTP API.

Each view turns one core record into plain JSON data (by the rules of
`core.canonical.to_plain`). Views import core alone, so every interface can print them
and none decides on its own what a model version or a decision looks like in JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from bankml.core.audit import AuditEvent
from bankml.core.canonical import JsonObject, JsonValue, to_plain
from bankml.core.decisions import DecisionOverride, DecisionRecord
from bankml.core.features import FeatureViewVersion
from bankml.core.oversight import TransitionRequest
from bankml.core.registry import Model, ModelVersion, StageChange
from bankml.core.replay import Replay
from bankml.core.serialisation import manifest_to_plain
from bankml.core.validation import ValidationResult, ValidationRun, ValidationTestResult


def model_view(model: Model) -> JsonObject:
    """A model: its name, domain, tier, who answers for it, use, limits, protected attributes."""
    return {"name": model.name, **to_plain(model.describe())}


def version_view(version: ModelVersion, *, model: Model | None = None,
                 aliases: Iterable[str] = ()) -> JsonObject:
    """A model version with its manifest (null when registered by hand); with `model`, the
    model it belongs to; `aliases` are the ones pointing at it."""
    view: JsonObject = {"ref": version.ref, "stage": str(version.stage),
                        "aliases": to_plain(sorted(aliases))}
    if model is not None:
        view["model"] = model_view(model)
    return view | {
        "artifact_sha256": version.artifact_sha256, "flavour": version.flavour,
        "created_at": version.created_at, "created_by": version.created_by,
        "signature": to_plain(version.signature.describe()),
        "metrics": to_plain(version.metrics), "feature_views": list(version.feature_views),
        "dataset_sha256": version.dataset_sha256, "tags": to_plain(version.tags),
        "manifest": None if version.manifest is None else manifest_to_plain(version.manifest),
    }


def version_row_view(version: ModelVersion, *, aliases: Iterable[str] = ()) -> JsonObject:
    """A version as `bankml models list --format json` lists it: the table's row, whole."""
    return {"ref": version.ref, "model": version.name, "version": version.number,
            "stage": str(version.stage), "aliases": to_plain(sorted(aliases)),
            "created_at": version.created_at, "created_by": version.created_by,
            "artifact_sha256": version.artifact_sha256, "metrics": to_plain(version.metrics)}


def lineage_view(version: ModelVersion, *, siblings: Iterable[str] = ()) -> JsonObject:
    """Where a version came from: its dataset and snapshot, feature views and spec;
    `siblings` are the other versions trained on the same dataset."""
    manifest = version.manifest
    plain = None if manifest is None else manifest_to_plain(manifest)
    return {
        "version": version.ref, "dataset_sha256": version.dataset_sha256,
        "data_source": None if plain is None else plain["data_source"],
        "feature_views": list(version.feature_views),
        "spec_sha256": None if manifest is None else manifest.spec_sha256,
        "dataset_snapshot_sha256": None if manifest is None else manifest.dataset_snapshot_sha256,
        "other_versions_on_this_dataset": list(siblings),
    }


def stage_change_view(change: StageChange) -> JsonObject:
    """One move of a version through the lifecycle (`from` is null at registration)."""
    return {"ref": f"{change.name}@{change.number}",
            "from": None if change.source is None else str(change.source),
            "to": str(change.target), "changed_at": change.changed_at, "actor": change.actor,
            "reason": change.reason}


def validation_run_view(run: ValidationRun, result: ValidationResult | None = None
                        ) -> JsonObject:
    """A validation run as recorded; with its stored `result`, the result's summary."""
    view: JsonObject = {
        "run_id": run.run_id, "model": run.ref, "created_at": run.created_at,
        "created_by": run.created_by, "self_test": run.self_test,
        "policy": {"id": run.policy_id, "version": run.policy_version},
        "opinion": {"level": int(run.opinion), "label": run.opinion.label},
        "fairness_passed": run.fairness_passed,
        "verdicts": {"green": run.greens, "amber": run.ambers, "red": run.reds},
        "against": run.against, "result_sha256": run.result_sha256,
    }
    if result is not None:
        view["result"] = validation_summary_view(result)
    return view


def validation_summary_view(result: ValidationResult) -> JsonObject:
    """What a reader looks at first in a stored result: opinion, scope, every test's
    verdict, the comparison with the champion and the change since the previous run."""
    scope, comparison = result.scope, result.out_of_time.comparison
    return {
        "schema_version": result.schema_version,
        "opinion": {"level": int(result.opinion), "label": result.opinion.label},
        "fairness_passed": result.fairness_passed,
        "policy": {"id": result.policy.policy_id, "version": result.policy.version},
        "scope": {
            "populations": {name: {"rows": part.rows, "events": part.events,
                                   "event_rate": to_plain(part.event_rate)}
                            for name, part in scope.populations()},
            "test_population": scope.test_population,
            "test_from": scope.test_from, "dataset_sha256": scope.dataset_sha256,
            "snapshot_sha256": scope.snapshot_sha256,
            "protected_attributes": list(scope.protected_attributes)},
        "tests": [_test_view(test) for test in result.tests],
        "comparison": None if comparison is None else to_plain(comparison),
        "previous": None if result.previous is None else {
            "run_id": result.previous.run_id,
            "opinion": {"level": int(result.previous.opinion),
                        "label": result.previous.opinion.label},
            "changes": [to_plain(change) for change in result.previous.deltas]},
        "reproduce": result.reproduce.command,
    }


def decision_answer_view(record: DecisionRecord) -> JsonObject:
    """What a caller is told about a decision: the outcome, score, reasons and provenance."""
    reasons = _parsed(record.reasons_json)
    codes = reasons.get("codes", []) if isinstance(reasons, dict) else []
    return {"decision_id": record.decision_id, "decision": str(record.outcome),
            "score": to_plain(record.score), "reasons": codes,
            "endpoint": record.endpoint, "endpoint_version": record.endpoint_version,
            "model_version": record.model_ref, "route": record.route,
            "decided_at": record.decided_at}


def decision_view(record: DecisionRecord) -> JsonObject:
    """A decision as logged: the answer, and the request, inputs, features, policy and
    explanation behind it, with its digests (personal data: reading it is a permission)."""
    explanation = _parsed(record.reasons_json)
    return decision_answer_view(record) | {
        "received_at": record.received_at, "customer_pseudo_id": record.customer_pseudo_id,
        "artifact_sha256": record.artifact_sha256, "request": _parsed(record.request_json),
        "inputs": _parsed(record.inputs_json), "features": _parsed(record.features_json),
        "policy": _parsed(record.policy_json),
        "explanation": ({k: v for k, v in explanation.items() if k != "codes"}
                        if isinstance(explanation, dict) else explanation),
        "requested_by": record.requested_by, "code_version": record.code_version,
        "latency_us": record.latency_us, "schema_version": record.schema_version,
        "inputs_sha256": record.inputs_sha256, "record_sha256": record.record_sha256,
    }


def replay_view(replay: Replay) -> JsonObject:
    """A decision made again: logged and replayed score and outcome, and whether they agree."""
    return {"decision_id": replay.record.decision_id, "identical": replay.is_identical,
            "bitwise": replay.is_bitwise_identical,
            "logged_score": to_plain(replay.record.score), "score": to_plain(replay.score),
            "delta": to_plain(replay.delta), "logged_decision": str(replay.record.outcome),
            "decision": str(replay.outcome), "reasons_equal": replay.reasons_equal}


def override_view(override: DecisionOverride) -> JsonObject:
    """A person's override of a decision, with the reason they gave."""
    return {"override_id": override.override_id, "decision_id": override.decision_id,
            "decision": str(override.outcome), "reason_code": override.reason_code,
            "comment": override.comment, "overridden_by": override.overridden_by,
            "overridden_at": override.overridden_at}


def transition_request_view(request: TransitionRequest) -> JsonObject:
    """A request to move a version, its status and the approvals given so far."""
    return {
        "request_id": request.request_id, "ref": request.ref, "target": str(request.target),
        "requested_by": request.requested_by, "reason": request.reason,
        "status": str(request.status), "created_at": request.created_at,
        "approvals": [{"approver": approval.approver, "role": str(approval.role),
                       "approved": approval.approved, "comment": approval.comment,
                       "recorded_at": approval.recorded_at}
                      for approval in request.approvals],
    }


def audit_event_view(event: AuditEvent) -> JsonObject:
    """One event of the audit trail with the hashes that chain it."""
    return {
        "sequence": event.sequence, "recorded_at": event.recorded_at, "actor": event.actor,
        "action": event.action, "subject": event.subject,
        "payload": _parsed(event.payload_json), "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def feature_view_version_view(version: FeatureViewVersion) -> JsonObject:
    """A stored feature view version: its digest, labels and definition."""
    return {"ref": version.ref, "digest": version.digest, "created_at": version.created_at,
            "created_by": version.created_by, "labels": to_plain(version.labels),
            "definition": to_plain(version.spec)}


def _test_view(test: ValidationTestResult) -> JsonObject:
    return {"test": test.test, "population": test.population, "value": to_plain(test.value),
            "p_value": to_plain(test.p_value), "verdict": str(test.verdict),
            "threshold": f"{test.threshold.statistic} {test.threshold.describe()}",
            "material": test.threshold.material}


def _parsed(text: str) -> JsonValue:
    """A record's stored canonical JSON text, as data."""
    parsed: JsonValue = json.loads(text)
    return parsed


__all__ = [
    "audit_event_view",
    "decision_answer_view",
    "decision_view",
    "feature_view_version_view",
    "lineage_view",
    "model_view",
    "override_view",
    "replay_view",
    "stage_change_view",
    "transition_request_view",
    "validation_run_view",
    "validation_summary_view",
    "version_view",
]
