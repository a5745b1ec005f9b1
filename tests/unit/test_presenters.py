"""JSON views of core records: the shapes the CLI prints and the HTTP API will serve."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bankml.core.audit import EMPTY_HEAD, next_event
from bankml.core.decisions import DecisionRecord, Outcome
from bankml.core.identity import Role
from bankml.core.oversight import Approval, RequestStatus, TransitionRequest
from bankml.core.registry import Domain, Model, ModelVersion, Signature, Stage, StageChange
from bankml.core.serialisation import manifest_from_plain, result_from_plain
from bankml.core.validation import Opinion, ValidationRun
from bankml.presenters import (
    audit_event_view,
    decision_view,
    lineage_view,
    model_view,
    stage_change_view,
    transition_request_view,
    validation_run_view,
    version_view,
)
from support.evidence_v1 import MANIFEST_V1, RESULT_V1

MODEL = Model(name="credit-pd", domain=Domain.CREDIT, risk_tier=2, owner="risk",
              developer="modelling", protected_attributes=("sex",))
BY_HAND = ModelVersion(name="credit-pd", number=1, artifact_sha256="a" * 64,
                       flavour="sklearn-skops", created_at="2026-03-03T09:00:00.000000Z",
                       created_by="alice", signature=Signature.of_names(["income"]),
                       metrics={"test.auc": 0.7}, feature_views=("bureau@3",))


def strict_json(view: object) -> Any:
    """The view through JSON text that refuses NaN: what an HTTP response carries."""
    return json.loads(json.dumps(view, allow_nan=False))


def test_model_view_names_the_model_and_who_answers_for_it() -> None:
    """A model's view is its name and its definition."""
    assert model_view(MODEL) == {
        "name": "credit-pd", "domain": "credit", "risk_tier": 2, "owner": "risk",
        "developer": "modelling", "intended_use": "", "limitations": "",
        "protected_attributes": ["sex"]}


def test_version_view_carries_the_stored_manifest() -> None:
    """A trained version's view holds its manifest as stored, schema version included."""
    manifest = manifest_from_plain(MANIFEST_V1)
    version = replace(BY_HAND, manifest=manifest)

    view = version_view(version, model=MODEL, aliases=["challenger", "champion"])

    assert strict_json(view) == view
    assert view["manifest"] == {**MANIFEST_V1, "schema_version": 1}
    assert (view["ref"], view["aliases"], view["model"]) == (
        "credit-pd@1", ["challenger", "champion"], model_view(MODEL))


def test_version_registered_by_hand_has_a_null_manifest() -> None:
    """Without a manifest the view says so with null; the model part is optional."""
    view = version_view(BY_HAND)

    assert view["manifest"] is None
    assert "model" not in view
    assert view["feature_views"] == ["bureau@3"]


def test_lineage_view_reads_the_manifest() -> None:
    """Lineage names the data source, snapshot and spec from the manifest."""
    version = replace(BY_HAND, manifest=manifest_from_plain(MANIFEST_V1),
                      dataset_sha256=MANIFEST_V1["dataset_sha256"])

    view = lineage_view(version, siblings=["credit-pd@2"])

    assert view["data_source"] == MANIFEST_V1["data_source"]
    assert view["dataset_snapshot_sha256"] == MANIFEST_V1["dataset_snapshot_sha256"]
    assert view["other_versions_on_this_dataset"] == ["credit-pd@2"]
    assert lineage_view(BY_HAND)["data_source"] is None


def test_stage_change_view_says_from_and_to() -> None:
    """A registration has no `from`; every move names who made it and why."""
    change = StageChange(name="credit-pd", number=1, source=None, target=Stage.DEV,
                         changed_at="2026-03-03T09:00:00.000000Z", actor="alice",
                         reason="registered")

    assert stage_change_view(change) == {
        "ref": "credit-pd@1", "from": None, "to": "dev",
        "changed_at": "2026-03-03T09:00:00.000000Z", "actor": "alice", "reason": "registered"}


def test_validation_run_view_summarises_its_result() -> None:
    """A run's view holds its row and, given the stored result, the result's summary."""
    result = result_from_plain(RESULT_V1)
    run = ValidationRun(run_id=result.run_id, model="german-credit-pd", version=1,
                        created_at=result.created_at, created_by="vera",
                        policy_id=result.policy.policy_id, policy_version=result.policy.version,
                        opinion=Opinion.MINOR_DEFICIENCIES, fairness_passed=True, greens=4,
                        ambers=0, reds=0, result_sha256="r" * 64)

    view = validation_run_view(run, result)

    assert strict_json(view) == view
    assert view["opinion"] == {"level": 2, "label": "adequate, minor deficiencies"}
    summary = strict_json(view["result"])
    assert summary["scope"]["populations"]["out_of_time"]["rows"] == 238
    assert summary["tests"][0]["test"] == "discrimination.auc"
    assert summary["previous"]["run_id"] == "a4ed1e541d13159f"
    assert "result" not in validation_run_view(run)


def test_decision_view_holds_the_logged_inputs_and_digests() -> None:
    """A decision's view parses its recorded inputs and policy and names its digests."""
    record = DecisionRecord(
        decision_id="d-1", decided_at="2026-03-03T09:00:00.000000Z",
        customer_pseudo_id="p" * 64, model_name="credit-pd", model_version=1,
        artifact_sha256="a" * 64, inputs_json='{"income":null,"purpose":"car"}', score=0.25,
        outcome=Outcome.REFER, policy_json='{"approve_below":0.15,"decline_from":0.45}')

    view = decision_view(record)

    assert (view["model_version"], view["decision"], view["inputs"]) == (
        "credit-pd@1", "refer", {"income": None, "purpose": "car"})
    assert view["record_sha256"] == record.record_sha256


def test_transition_request_view_lists_its_approvals() -> None:
    """A request's view names its target, status and each approval with the role."""
    request = TransitionRequest(
        request_id=7, model="credit-pd", version=1, target=Stage.STAGING,
        requested_by="dana", reason="ready", status=RequestStatus.OPEN,
        created_at="2026-03-03T09:00:00.000000Z", approvals=(Approval(
            approver="vera", role=Role.VALIDATOR, approved=True, comment="ok",
            recorded_at="2026-03-03T10:00:00.000000Z"),))

    view = transition_request_view(request)

    assert (view["ref"], view["target"], view["status"]) == ("credit-pd@1", "staging", "open")
    assert view["approvals"] == [{"approver": "vera", "role": "validator", "approved": True,
                                  "comment": "ok",
                                  "recorded_at": "2026-03-03T10:00:00.000000Z"}]


def test_audit_event_view_carries_payload_and_chain_hashes() -> None:
    """An event's view parses its payload and names the hashes that chain it."""
    event = next_event(EMPTY_HEAD, moment=datetime(2026, 3, 3, 9, tzinfo=UTC), actor="alice",
                       action="model.registered", subject="model:credit-pd@1",
                       payload={"stage": Stage.DEV})

    view = audit_event_view(event)

    assert (view["sequence"], view["payload"], view["hash"]) == (1, {"stage": "dev"},
                                                                 event.hash)
    assert view["prev_hash"] == EMPTY_HEAD.hash
