"""Digests and stored texts that records depend on stay what they were.

Each expected value was computed before the JSON rules moved into `core.canonical`
(`to_plain`); a change here means every stored record of that kind changes its identity.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from bankml import (
    Aggregation,
    AggregationFunction,
    Entity,
    FeatureView,
    Field,
    FileSource,
    Float64,
    String,
)
from bankml.core.audit import EMPTY_HEAD, next_event
from bankml.core.canonical import canonical_json
from bankml.core.decisions import DecisionRecord, Outcome
from bankml.core.features import definition_digest
from bankml.core.registry import Stage
from bankml.core.windows import Event
from bankml.explain.background import frame_sha256
from bankml.features.payloads import events_payload, latest_payload
from bankml.serving.decisions import inputs_json
from bankml.training.spec import PipelineSpec

SPEC = {
    "model": {"name": "credit-pd", "domain": "credit", "risk_tier": 2,
              "owner": "retail-credit-risk", "developer": "credit-modelling-team",
              "intended_use": "Default probability of instalment loan applicants.",
              "protected_attributes": ["age_years", "sex"]},
    "source": {"dataset": "german_credit", "entity": ["row_id"],
               "event_timestamp": "application_date", "label": "default"},
    "inputs": ["duration_months", {"name": "credit_amount", "as_of": "application_date"},
               "purpose"],
    "split": {"out_of_time": {"test_from": "2024-07-01"}, "holdout": {"share": 0.2}},
    "estimator": {"kind": "logistic_regression", "params": {"C": 0.5, "max_iter": 1000}},
    "decision_policy": {"kind": "approve_refer_decline", "approve_below": 0.15,
                        "decline_from": 0.45},
    "seed": 7, "tags": {"portfolio": "consumer-loans"},
}
ROW = {"age": np.int64(41), "income": np.float64("nan"), "purpose": "car",
       "owner": np.bool_(True), "rate": 0.125, "Müller": np.float32(1.5)}


def test_feature_view_digest_is_unchanged() -> None:
    """A windowed view's version digest is the one computed before."""
    card = Entity(name="card", join_keys=("card_id",))
    view = FeatureView(
        name="card_activity", entities=(card,), source=FileSource(path="transactions.parquet"),
        schema=(Field(name="amount", dtype=Float64), Field(name="merchant_id", dtype=String)),
        aggregations=tuple(
            Aggregation(function=function, window=window, column={
                "count": None, "distinct_count": "merchant_id"}.get(function, "amount"))
            for window in (timedelta(hours=1), timedelta(days=7))
            for function in AggregationFunction),
        ttl=timedelta(hours=12), owner="fraud-team")

    assert definition_digest(view.spec()) == (
        "56609a0b43fa065a01aeef1453852cb93187018f2f7826fd5e8fd5e4fa89569b")


def test_pipeline_spec_digest_is_unchanged() -> None:
    """A spec's sha256 (recorded in every manifest) is the one computed before."""
    assert PipelineSpec.model_validate(SPEC).digest() == (
        "e8f0f0e5bcef2bde86e6759fbac8e404a91450998f93ce809ca940189ec6dbfd")


def test_decision_inputs_and_record_digest_are_unchanged() -> None:
    """numpy inputs with a missing number give the same text and record digest as before."""
    text = inputs_json(ROW)
    record = DecisionRecord(
        decision_id="d-1", decided_at="2026-03-03T09:00:00.000000Z",
        customer_pseudo_id="p" * 64, model_name="credit-pd", model_version=3,
        artifact_sha256="a" * 64, inputs_json=text, score=0.25, outcome=Outcome.REFER,
        policy_json=canonical_json({"version": "v1", "approve_below": 0.15,
                                    "decline_from": 0.45}))

    assert text == ('{"Müller":1.5,"age":41,"income":null,"owner":true,"purpose":"car",'
                    '"rate":0.125}')
    assert record.record_sha256 == (
        "5daa4c371a2be94225d212749f0eca46bc9ed5f1bc89ab21f4291e2a8505448c")


def test_audit_payload_and_hash_are_unchanged() -> None:
    """An event with enums, a tuple, None and non-ASCII text hashes as before."""
    event = next_event(EMPTY_HEAD, moment=datetime(2026, 3, 3, 9, tzinfo=UTC), actor="alice",
                       action="model.transitioned", subject="model:credit-pd@3", payload={
                           "from": Stage.DEV, "to": Stage.STAGING, "reason": "ready ✓",
                           "aliases_removed": (), "verdicts": {"green": 3}, "n": None,
                           "ok": True, "x": 1.5})

    assert event.payload_json == ('{"aliases_removed":[],"from":"dev","n":null,"ok":true,'
                                  '"reason":"ready ✓","to":"staging","verdicts":{"green":3},'
                                  '"x":1.5}')
    assert event.hash == "7a54fb0e6f866dbe9618cbc59bd406baa83a53f5747d3fd358b81e9a69cb54b8"


def test_online_payloads_are_unchanged() -> None:
    """The online codec still writes numpy values plainly and keeps NaN."""
    assert events_payload([Event(10, 11, (np.int64(3), float("nan"), "x", np.bool_(False),
                                          None))]) == '[[10,11,3,NaN,"x",false,null]]'
    assert latest_payload(10, [np.int64(3), float("nan"), 1.5, np.float64(2.5)]) == (
        "[10,3,NaN,1.5,2.5]")


def test_background_digest_is_unchanged() -> None:
    """An explanation background's fingerprint is the one computed before."""
    frame = pd.DataFrame({"a": [1.5, float("nan")], "b": ["x", None], "c": [1, 2]})

    assert frame_sha256(frame) == (
        "cdbeec45500523ecdf3ee0695089cc6e1ea6f48710e017a6d292ac6f9907b103")
