"""The decision path on SQLite and PostgreSQL: an endpoint decides, logs, explains, replays."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bankml import Platform
from bankml.core.decisions import CutoffPolicy, Outcome, pseudonymise
from bankml.core.endpoints import Mode
from bankml.core.errors import (
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
    UnavailableError,
)
from bankml.core.merkle import merkle_root
from bankml.core.registry import ModelVersion
from bankml.explain import adverse_reasons, explainer_for, load_catalogue, sample_background
from support.people import service, staff
from support.served import SPEC, applications, credit_endpoint, credit_in_prod
from support.trail import audit_events


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, ModelVersion]]:
    """One trained champion behind the example endpoint per backend, shared by the module."""
    home = tmp_path_factory.mktemp("served")
    url = (f"sqlite:///{home / 'metadata.db'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_module_url"))
    with Platform.open(home / "home", metadata_url=url) as platform:
        version = credit_in_prod(platform)
        credit_endpoint(platform)
        yield platform, version


def decide(platform: Platform, requests: list[dict[str, Any]], **options: Any) -> list[Any]:
    return platform.decisions.decide(staff(platform, "ops"), "credit-pd", requests, **options)


def test_a_decision_holds_what_replay_and_monitoring_need(
        served: tuple[Platform, ModelVersion]) -> None:
    """Endpoint and model versions, artifact, exact inputs, request fields, policy, a
    pseudonym for the customer, timestamps and latency are on the record."""
    platform, version = served
    [request] = applications(version, 1)

    [record] = decide(platform, [request])

    stored = platform.decisions.get(staff(platform, "aude"), record.decision_id)
    assert stored == record
    assert (stored.endpoint, stored.endpoint_version, stored.model_ref, stored.route) == (
        "credit-pd", 1, version.ref, "champion")
    assert stored.artifact_sha256 == version.artifact_sha256
    assert json.loads(stored.inputs_json) == {k: request[k] for k in version.inputs}
    assert "customer_id" not in stored.request_json
    key = platform.settings.pseudonym_key_path.read_bytes()
    assert stored.customer_pseudo_id == pseudonymise(request["customer_id"], key)
    assert stored.received_at <= stored.decided_at
    assert stored.latency_us > 0
    assert stored.requested_by == "ops"


def test_a_customers_decisions_are_found_by_the_id_in_clear(
        served: tuple[Platform, ModelVersion]) -> None:
    """The id given is pseudonymised with the installation's key: the customer's decisions
    come back newest first, nobody else's; an empty id is refused by field, and a data
    scientist may not look."""
    platform, version = served
    one, other = applications(version, 2, start=900)
    first, _ = decide(platform, [one, other])
    [again] = decide(platform, [one])  # later: one batch may share a moment
    auditor = staff(platform, "aude")

    found = platform.decisions.of_customer(auditor, f" {one['customer_id']} ")

    assert [r.decision_id for r in found][:2] == [again.decision_id, first.decision_id]
    assert {r.customer_pseudo_id for r in found} == {first.customer_pseudo_id}
    with pytest.raises(InvalidInputError, match="give the customer's id"):
        platform.decisions.of_customer(auditor, "  ")
    with pytest.raises(PermissionDeniedError):
        platform.decisions.of_customer(staff(platform, "dana"), one["customer_id"])


def test_scores_and_outcomes_are_the_models_and_the_policys(
        served: tuple[Platform, ModelVersion]) -> None:
    """Each score is the champion's own probability, bit for bit; each outcome the cut-offs'."""
    platform, version = served
    requests = applications(version, 40)

    records = decide(platform, requests)

    frame = pd.DataFrame(requests)[version.inputs]
    expected = platform.registry.load(version).predict_proba(frame)[:, 1]
    assert [r.score for r in records] == list(expected)
    policy = CutoffPolicy(version="x", approve_below=0.15, decline_from=0.45)
    assert [r.outcome for r in records] == [policy.decide(s) for s in expected]


def test_declines_carry_the_catalogues_top_reasons(
        served: tuple[Platform, ModelVersion]) -> None:
    """A decline's reasons are the top four of the catalogue, as an explainer built by hand
    on the same background gives them; approvals and referrals carry none."""
    platform, version = served
    records = decide(platform, applications(version, 60, start=100))
    declined = [r for r in records if r.outcome == Outcome.DECLINE]
    assert declined, "the sample should hold a decline"

    given = json.loads(declined[0].reasons_json)
    assert version.manifest is not None
    assert version.manifest.dataset_snapshot_sha256
    snapshot = pd.read_parquet(platform.artifacts.location(
        version.manifest.dataset_snapshot_sha256))
    background = sample_background(snapshot[version.inputs], rows=200, seed=0)
    explainer = explainer_for(platform.registry.load(version), background,
                              features=version.inputs)
    row = pd.DataFrame([json.loads(declined[0].inputs_json)], columns=version.inputs)
    explanation = explainer.explain(row)
    catalogue = load_catalogue(credit_endpoint_catalogue(platform), inputs=version.inputs)
    expected = adverse_reasons(explanation.contributions(0), catalogue,
                               directions=explanation.directions(0))
    assert [c["code"] for c in given["codes"]] == [r.code for r in expected]
    assert given["background_sha256"] == background.sha256
    assert all(json.loads(r.reasons_json)["codes"] == [] for r in records
               if r.outcome != Outcome.DECLINE)


def credit_endpoint_catalogue(platform: Platform) -> str:
    reasons = platform.endpoints.version("credit-pd").endpoint.reasons
    assert reasons is not None
    return reasons.catalogue


def test_a_replay_is_the_same_decision_with_the_same_reasons(
        served: tuple[Platform, ModelVersion]) -> None:
    """The decision and reason codes again, the score within 1e-9 (it was scored in a batch,
    BLAS may sum in another order alone), and the replay is audited."""
    platform, version = served
    records = decide(platform, applications(version, 30, start=200))
    declined = next(r for r in records if r.outcome == Outcome.DECLINE)

    replay = platform.decisions.replay(staff(platform, "aude"), declined.decision_id)

    assert replay.is_identical
    assert replay.reasons is not None
    assert replay.reasons == tuple(c["code"] for c in json.loads(declined.reasons_json)["codes"])
    last = audit_events(platform, subject=f"decision:{declined.decision_id}")[-1]
    assert (last.action, last.payload["identical"]) == ("decision.replayed", True)


def test_a_decision_made_alone_replays_bit_for_bit(
        served: tuple[Platform, ModelVersion]) -> None:
    """One application decided alone (as over HTTP) is scored again to the last bit."""
    platform, version = served
    [record] = decide(platform, applications(version, 1, start=250))

    assert platform.decisions.replay(staff(platform, "aude"),
                                     record.decision_id).is_bitwise_identical


def test_decisions_are_durable_and_their_batch_is_on_the_chain(
        served: tuple[Platform, ModelVersion]) -> None:
    """Once answered, the records are stored, and one audit event holds their batch's
    Merkle root (no event per decision)."""
    platform, version = served
    before = len(audit_events(platform))

    records = decide(platform, applications(version, 25, start=300))

    events = audit_events(platform)[before:]
    assert [e.action for e in events] == ["decisions.logged"]
    assert events[0].payload["records"] == 25
    assert events[0].payload["merkle_root"] == merkle_root([r.record_sha256 for r in records])


def test_an_idempotency_key_returns_the_first_decision(
        served: tuple[Platform, ModelVersion]) -> None:
    """A retry with the same key gets the very decision made the first time."""
    platform, version = served
    [request] = applications(version, 1, start=400)

    first = decide(platform, [request], idempotency_key="retry-me")
    again = decide(platform, [request], idempotency_key="retry-me")

    assert again == first


def test_a_key_is_the_callers_own_and_holds_one_request(
        served: tuple[Platform, ModelVersion]) -> None:
    """Another caller's same key makes its own decision; the same caller sending another
    request under a used key is refused (409), never given the first decision."""
    platform, version = served
    first_request, other_request = applications(version, 2, start=420)
    first = decide(platform, [first_request], idempotency_key="shared-key")
    other_caller = service(platform, f"other-app-{version.number}", "credit-pd")

    theirs = platform.decisions.decide(other_caller, "credit-pd", [first_request],
                                       idempotency_key="shared-key")
    with pytest.raises(ConflictError, match="used for another request") as refused:
        decide(platform, [other_request], idempotency_key="shared-key")

    assert theirs[0].decision_id != first[0].decision_id
    assert refused.value.rule == "decision.idempotency_reused"
    assert refused.value.field == "Idempotency-Key"


@pytest.mark.parametrize(("change", "rule", "field"), [
    ({"duration_months": None}, None, None),
    ({"duration_months": "long"}, "decision.field_type", "duration_months"),
    ({"duration_months": 1_000}, "decision.value_in_range", "duration_months"),
    ({"purpose": "yacht"}, "decision.category_known", "purpose"),
    ({"surname": "Doe"}, "decision.field_known", "surname"),
    ({"customer_id": None}, "decision.entity_key", "customer_id"),
])
def test_bad_requests_are_refused_by_field_and_nothing_is_logged(
        served: tuple[Platform, ModelVersion], change: dict[str, Any], rule: str | None,
        field: str | None) -> None:
    """A wrong type, an unseen value, an unknown field or a bad key: refused by name, and no
    record or event is written; a missing number (null) is a gap the model was trained for."""
    platform, version = served
    [request] = applications(version, 1, start=500)
    before = len(audit_events(platform))

    if rule is None:
        [record] = decide(platform, [{**request, **change}])
        assert json.loads(record.inputs_json)["duration_months"] is None
        return
    with pytest.raises(InvalidInputError) as refused:
        decide(platform, [{**request, **change}])

    assert (refused.value.rule, refused.value.field) == (rule, field)
    assert len(audit_events(platform)) == before


def test_a_missing_field_is_named(served: tuple[Platform, ModelVersion]) -> None:
    platform, version = served
    [request] = applications(version, 1, start=500)
    del request["purpose"]

    with pytest.raises(InvalidInputError, match="purpose: is required") as refused:
        decide(platform, [request])
    assert refused.value.rule == "decision.field_required"


def test_a_service_account_decides_only_on_its_endpoints(
        served: tuple[Platform, ModelVersion]) -> None:
    """An application's account may call its scopes, and is refused (audited) elsewhere."""
    platform, version = served
    name = f"app-{len(audit_events(platform))}"
    scoped = service(platform, name, "fraud")
    [request] = applications(version, 1)

    with pytest.raises(PermissionDeniedError, match="only the endpoints fraud"):
        platform.decisions.decide(scoped, "credit-pd", [request])

    assert audit_events(platform)[-1].action == "auth.forbidden"


def test_human_review_sends_every_case_to_a_person(
        served: tuple[Platform, ModelVersion], tmp_path: Path) -> None:
    """In human_review mode every decision is the policy's review outcome (refer), and
    stopped answers that the endpoint is stopped."""
    platform, version = served
    requests = applications(version, 20, start=600)
    try:
        credit_endpoint(platform, mode=Mode.HUMAN_REVIEW)
        platform.decisions.runtime.forget("credit-pd")
        reviewed = decide(platform, requests)
        credit_endpoint(platform, mode=Mode.STOPPED)
        platform.decisions.runtime.forget("credit-pd")
        with pytest.raises(UnavailableError, match="stopped") as stopped:
            decide(platform, requests[:1])
    finally:
        credit_endpoint(platform)
        platform.decisions.runtime.forget("credit-pd")

    assert {r.outcome for r in reviewed} == {Outcome.REFER}
    assert stopped.value.rule == "endpoint.stopped"
    assert json.loads(reviewed[0].policy_json)["review"] is True
    replay = platform.decisions.replay(staff(platform, "aude"), reviewed[0].decision_id)
    assert replay.is_identical
    del tmp_path


def test_an_override_is_kept_beside_the_decision(
        served: tuple[Platform, ModelVersion]) -> None:
    """A business owner's different outcome is recorded and audited; the decision stays."""
    platform, version = served
    [record] = decide(platform, applications(version, 1, start=700))
    other = next(o for o in CutoffPolicy.outcomes if o != record.outcome)

    override = platform.decisions.override(staff(platform, "bob"), record.decision_id,
                                           outcome=other, reason_code="O1",
                                           comment="collateral offered")

    assert platform.decisions.get(staff(platform, "aude"), record.decision_id) == record
    assert platform.decisions.overrides(staff(platform, "aude"), record.decision_id) == [
        override]
    assert audit_events(platform)[-1].action == "decision.overridden"


def test_a_woe_scorecard_declines_with_reasons_checked_by_hand(tmp_path: Path) -> None:
    """A WoE scorecard in prod explains its declines: each input's log-odds contribution is
    coef_j (woe_j(x) - background mean of woe_j), and the reasons are the catalogue's top
    ones by those contributions."""
    spec = tmp_path / "woe.yaml"
    text = SPEC.read_text()
    spec.write_text(text.replace("preprocessing:\n", "preprocessing:\n  woe_binning: {bins: 4}\n"))
    with Platform.open(tmp_path / "home") as platform:
        version = credit_in_prod(platform, spec)
        credit_endpoint(platform)

        records = decide(platform, applications(version, 80, start=100))

        declined = [r for r in records if r.outcome == Outcome.DECLINE]
        assert declined, "the sample should hold a decline"
        assert version.manifest is not None
        snapshot = pd.read_parquet(platform.artifacts.location(
            str(version.manifest.dataset_snapshot_sha256)))
        background = sample_background(snapshot[version.inputs], rows=200, seed=0).frame
        model = platform.registry.load(version)
        coef = model.estimator.coef_[0]
        mean = model.preprocess.transform(background).mean(axis=0)
        catalogue = load_catalogue(credit_endpoint_catalogue(platform), inputs=version.inputs)
        for record in declined:
            row = pd.DataFrame([json.loads(record.inputs_json)], columns=version.inputs)
            by_hand = dict(zip(version.inputs,
                               (coef * (model.preprocess.transform(row)[0] - mean)).tolist(),
                               strict=True))
            directions = {n: "high" if float(row[n].iloc[0]) > float(background[n].mean())
                          else "low" for n in version.inputs
                          if pd.api.types.is_numeric_dtype(snapshot[n])}
            expected = adverse_reasons(by_hand, catalogue, directions=directions)
            assert [c["code"] for c in json.loads(record.reasons_json)["codes"]] == \
                [r.code for r in expected]
