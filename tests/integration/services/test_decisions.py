"""The first slice: train, register, decide, log, replay."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from bankml import Platform
from bankml.core.decisions import CutoffPolicy, pseudonymise
from bankml.core.errors import (
    ArtifactIntegrityError,
    InvalidInputError,
    NotFoundError,
    UntrustedArtifactError,
)
from bankml.datasets import german_credit, synthesize_german_credit
from bankml.training import TrainedModel, train_pd_model
from support.people import staff
from support.trail import audit_events
from support.trail import verify as verify_trail

POLICY = CutoffPolicy(version="test-1", approve_below=0.15, decline_from=0.45)


def shout(values: object) -> object:
    """A function of our own: skops cannot vouch for it, so an artifact holding it is refused."""
    return values


@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    return train_pd_model(synthesize_german_credit(), target=german_credit.TARGET,
                          exclude=("row_id", *german_credit.PROTECTED))


@pytest.fixture
def applicants(trained: TrainedModel) -> pd.DataFrame:
    return trained.holdout.head(25).rename(columns={"row_id": "customer_id"})


def register(platform: Platform, trained: TrainedModel) -> str:
    version = platform.registry.register_sklearn(
        staff(platform, "dev"), "pd", trained.pipeline, inputs=trained.inputs,
        metrics=trained.metrics)
    return version.ref


def test_protected_attributes_are_not_inputs(trained: TrainedModel) -> None:
    """Age, sex and nationality never reach the model."""
    assert not set(german_credit.PROTECTED) & set(trained.inputs)


def test_registration_stores_the_artifact_and_an_event(platform: Platform,
                                                       trained: TrainedModel) -> None:
    """A registered version's artifact is stored and the registration is audited."""
    ref = register(platform, trained)
    version = platform.registry.get(ref)

    assert platform.artifacts.exists(version.artifact_sha256)
    [event] = audit_events(platform, subject=f"model:{ref}")
    assert event.action == "model.registered"
    assert event.payload["artifact_sha256"] == version.artifact_sha256


def test_versions_count_up(platform: Platform, trained: TrainedModel) -> None:
    """Registering again makes version 2; the bare name means the latest."""
    register(platform, trained)
    register(platform, trained)

    assert platform.registry.get("pd").number == 2
    assert platform.registry.get("pd@1").number == 1


def test_unknown_version_is_not_found(platform: Platform) -> None:
    """Asking for a version that does not exist names it."""
    with pytest.raises(NotFoundError, match="'pd@9'"):
        platform.registry.get("pd@9")


def test_decisions_are_logged_with_digest_and_inputs(platform: Platform, trained: TrainedModel,
                                                     applicants: pd.DataFrame) -> None:
    """Each decision records the artifact digest, the exact inputs and its audit event."""
    ref = register(platform, trained)
    records = platform.decisions.decide(staff(platform, "ops"), ref, applicants, POLICY)
    stored = platform.decisions.get(staff(platform, "aude"), records[0].decision_id)

    assert len(records) == 25
    assert stored == records[0]
    assert stored.artifact_sha256 == platform.registry.get(ref).artifact_sha256
    expected_inputs = applicants.iloc[0][trained.inputs].to_dict()
    assert json.loads(stored.inputs_json) == expected_inputs
    [event] = audit_events(platform, subject=f"decision:{stored.decision_id}")
    assert event.payload["record_sha256"] == stored.record_sha256


def test_outcomes_follow_the_policy(platform: Platform, trained: TrainedModel,
                                    applicants: pd.DataFrame) -> None:
    """Every logged outcome is what the cut-offs say for the logged score."""
    records = platform.decisions.decide(staff(platform, "ops"), register(platform, trained),
                                        applicants, POLICY)

    assert all(r.outcome == POLICY.decide(r.score) for r in records)
    assert {r.outcome for r in records} == set(POLICY.outcomes)


def test_scores_match_the_model(platform: Platform, trained: TrainedModel,
                                applicants: pd.DataFrame) -> None:
    """Logged scores are the fitted model's probabilities of default."""
    records = platform.decisions.decide(staff(platform, "ops"), register(platform, trained),
                                        applicants, POLICY)
    expected = trained.pipeline.predict_proba(applicants[trained.inputs])[:, 1]

    assert [r.score for r in records] == pytest.approx(list(expected), abs=0)


def test_customer_ids_are_pseudonymised(platform: Platform, trained: TrainedModel,
                                        applicants: pd.DataFrame) -> None:
    """The log holds a keyed HMAC of the customer id, never the id itself."""
    records = platform.decisions.decide(staff(platform, "ops"), register(platform, trained),
                                        applicants, POLICY)
    key = platform.settings.pseudonym_key_path.read_bytes()

    assert records[0].customer_pseudo_id == pseudonymise(str(applicants.iloc[0]["customer_id"]),
                                                         key)
    assert str(applicants.iloc[0]["customer_id"]) not in records[0].inputs_json


def test_replay_gives_the_same_decision(platform: Platform, trained: TrainedModel,
                                        applicants: pd.DataFrame) -> None:
    """A logged decision re-scored from the registry is the same decision."""
    records = platform.decisions.decide(staff(platform, "ops"), register(platform, trained),
                                        applicants, POLICY)

    for record in records[:5]:
        replay = platform.decisions.replay(staff(platform, "aude"), record.decision_id)
        assert replay.is_identical, (replay.score, record.score)


def test_missing_inputs_change_nothing(platform: Platform, trained: TrainedModel,
                                       applicants: pd.DataFrame) -> None:
    """Applicants without a model input are refused by name and nothing is logged."""
    ref = register(platform, trained)
    ops = staff(platform, "ops")
    before = verify_trail(platform).events_checked

    with pytest.raises(InvalidInputError, match="missing column\\(s\\) purpose"):
        platform.decisions.decide(ops, ref, applicants.drop(columns=["purpose"]), POLICY)

    assert verify_trail(platform).events_checked == before
    with platform.metadata.reading() as tx:
        assert tx.decisions.count() == 0


def test_tampered_model_is_not_loaded(platform: Platform, trained: TrainedModel,
                                      applicants: pd.DataFrame) -> None:
    """A model artifact changed on disk is refused before it can score anyone."""
    version = platform.registry.get(register(platform, trained))
    path = Path(platform.artifacts.location(version.artifact_sha256))
    path.write_bytes(path.read_bytes()[:-10])

    with pytest.raises(ArtifactIntegrityError):
        platform.decisions.decide(staff(platform, "ops"), version.ref, applicants, POLICY)


def test_untrusted_types_are_refused(platform: Platform) -> None:
    """An artifact that would rebuild a function outside the allowlist is never loaded."""
    model = Pipeline([("step", FunctionTransformer(shout))])
    version = platform.registry.register_sklearn(staff(platform, "dev"), "odd", model,
                                                 inputs=["x"], metrics={})

    with pytest.raises(UntrustedArtifactError, match="shout"):
        platform.registry.load(version)
