"""Cut-off policies, decision records and pseudonyms."""

from __future__ import annotations

from dataclasses import replace
from operator import attrgetter

import pytest

from bankml.core.canonical import canonical_json, sha256_hex
from bankml.core.decisions import (
    DIGEST_FIELDS,
    AlertPolicy,
    BlockPolicy,
    ChallengePolicy,
    CutoffPolicy,
    DecisionPolicy,
    DecisionRecord,
    OfferPolicy,
    Outcome,
    _canonical_text,
    digest_of_fields,
    make_policy,
    policy_from_description,
    pseudonymise,
    record_of_fields,
)
from bankml.core.errors import InvalidInputError

POLICY = CutoffPolicy(version="p1", approve_below=0.1, decline_from=0.4)


@pytest.mark.parametrize(("score", "outcome"), [
    (0.0, Outcome.APPROVE), (0.0999, Outcome.APPROVE), (0.1, Outcome.REFER),
    (0.3999, Outcome.REFER), (0.4, Outcome.DECLINE), (1.0, Outcome.DECLINE),
])
def test_cutoffs_decide(score: float, outcome: Outcome) -> None:
    """Approve below the lower cut-off, decline from the upper, refer between."""
    assert POLICY.decide(score) == outcome


def test_crossed_cutoffs_are_refused() -> None:
    """A policy whose approve cut-off lies above its decline cut-off is an error."""
    with pytest.raises(InvalidInputError, match=r"approve_below \(0.5\) <= decline_from \(0.2\)"):
        CutoffPolicy(version="bad", approve_below=0.5, decline_from=0.2)


def test_pseudonym_is_rfc4231_hmac_sha256() -> None:
    """The pseudonym is HMAC-SHA256, checked against RFC 4231 test case 1."""
    digest = pseudonymise("Hi There", b"\x0b" * 20)

    assert digest == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"


def test_record_digest_covers_every_field() -> None:
    """Changing any field of a decision record changes its digest."""
    record = DecisionRecord(
        decision_id="d1", decided_at="2026-03-03T09:00:00.000000Z", customer_pseudo_id="c",
        model_name="pd", model_version=1, artifact_sha256="a" * 64, inputs_json='{"x":1}',
        score=0.2, outcome=Outcome.REFER, policy_json="{}",
    )
    changed = [
        DecisionRecord(**{**{f: getattr(record, f) for f in record.__slots__},  # type: ignore[attr-defined]
                          field: value})
        for field, value in [("score", 0.2000001), ("inputs_json", '{"x":2}'),
                             ("outcome", Outcome.DECLINE), ("model_version", 2)]
    ]

    assert len({record.record_sha256, *(c.record_sha256 for c in changed)}) == 5


@pytest.mark.parametrize(("policy", "score", "outcome"), [
    (BlockPolicy(version="f", block_from=0.7), 0.69, Outcome.ALLOW),
    (BlockPolicy(version="f", block_from=0.7), 0.7, Outcome.BLOCK),
    (ChallengePolicy(version="f", challenge_from=0.3, block_from=0.8), 0.3, Outcome.CHALLENGE),
    (ChallengePolicy(version="f", challenge_from=0.3, block_from=0.8), 0.8, Outcome.BLOCK),
    (ChallengePolicy(version="f", challenge_from=0.3, block_from=0.8), 0.29, Outcome.ALLOW),
    (AlertPolicy(version="a", alert_from=0.5), 0.5, Outcome.ALERT),
    (AlertPolicy(version="a", alert_from=0.5), 0.49, Outcome.NO_ALERT),
    (OfferPolicy(version="p", offer_from=0.2), 0.2, Outcome.OFFER),
    (OfferPolicy(version="p", offer_from=0.2), 0.19, Outcome.NO_OFFER),
])
def test_each_kind_decides_at_or_above_its_cutoffs(policy: DecisionPolicy, score: float,
                                                   outcome: Outcome) -> None:
    """A score equal to a cut-off falls in the band above it, for every kind."""
    assert policy.decide(score) == outcome


@pytest.mark.parametrize("policy", [
    POLICY, BlockPolicy(version="f", block_from=0.7),
    ChallengePolicy(version="f", challenge_from=0.3, block_from=0.8),
    AlertPolicy(version="a", alert_from=0.5), OfferPolicy(version="p", offer_from=0.2)])
def test_a_described_policy_decides_the_same_again(policy: DecisionPolicy) -> None:
    """A logged policy description rebuilds the very policy (what replay relies on)."""
    again = policy_from_description(policy.describe())

    assert again == policy


def test_a_policy_takes_exactly_its_cutoffs() -> None:
    """A cut-off of another kind is named, with those the kind takes."""
    with pytest.raises(InvalidInputError, match="takes exactly alert_from, not block_from"):
        make_policy("alert", version="a", cutoffs={"block_from": 0.5})


def test_a_schema_two_digest_covers_the_new_fields() -> None:
    """Endpoint, route, request, features, reasons and latency are all under the digest."""
    record = DecisionRecord(
        decision_id="d1", decided_at="2026-03-03T09:00:00.000000Z", customer_pseudo_id="c",
        model_name="pd", model_version=1, artifact_sha256="a" * 64, inputs_json='{"x":1}',
        score=0.2, outcome=Outcome.REFER, policy_json="{}", endpoint="credit",
        endpoint_version=1, schema_version=2)
    changed = [replace(record, **{name: value}) for name, value in [
        ("endpoint", "other"), ("route", "canary"), ("request_json", '{"a":1}'),
        ("features_json", '{"v":1}'), ("reasons_json", '{"codes":[]}'), ("latency_us", 7),
        ("requested_by", "app"), ("code_version", "2")]]

    assert len({record.record_sha256, *(c.record_sha256 for c in changed)}) == 9


SCHEMA_TWO = DecisionRecord(
    decision_id="d1", decided_at="2026-03-03T09:00:00.000000Z", customer_pseudo_id="c",
    model_name="pd", model_version=1, artifact_sha256="a" * 64, inputs_json='{"x":1.5}',
    score=0.2, outcome=Outcome.REFER, policy_json='{"kind":"x"}', endpoint="credit",
    endpoint_version=3, received_at="2026-03-03T09:00:00.000000Z", schema_version=2)


@pytest.mark.parametrize("changes", [
    {}, {"inputs_json": 'a "quote", a \\ backslash, \x00\x1f\n\t controls'},
    {"request_json": "é ü \u2028 \U0001f600 non-ASCII"}, {"outcome": "refer"},
    {"endpoint": None, "endpoint_version": None, "received_at": None},
    {"score": 0}, {"latency_us": True}, {"score": 1e-300}, {"schema_version": 3},
    {"schema_version": 1}])
def test_a_digest_is_the_sha256_of_the_records_canonical_json(
        changes: dict[str, object]) -> None:
    """Whichever way the text is written, a record's digest is its canonical JSON's, and
    so is the digest taken from its fields as the log's rows hold them (outcome as text),
    without the record."""
    record = replace(SCHEMA_TWO, **changes)
    fields = [str(value) if name == "outcome" else value
              for name, value in zip(DIGEST_FIELDS, attrgetter(*DIGEST_FIELDS)(record),
                                     strict=True)]

    assert record.record_sha256 == sha256_hex(canonical_json(record.digested()))
    assert digest_of_fields(fields) == record.record_sha256
    assert record_of_fields(fields) == record


def test_a_usual_record_is_written_without_the_general_encoder() -> None:
    """The direct text (what verification hashes by the thousand) is canonical_json's."""
    assert _canonical_text(SCHEMA_TWO) == canonical_json(SCHEMA_TWO.digested())


def test_a_non_finite_score_has_no_digest() -> None:
    """As canonical JSON refuses it: a digest over NaN would mean nothing."""
    with pytest.raises(ValueError, match="nan has no JSON form"):
        _ = replace(SCHEMA_TWO, score=float("nan")).record_sha256
