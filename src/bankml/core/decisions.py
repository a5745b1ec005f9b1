"""Decision policies (one kind per domain), decision records and pseudonyms.

A policy turns a score into an outcome by cut-offs. Each kind names its outcomes, which of
them are adverse (they get reason codes), and where a case goes when a person must look
(`human_review` endpoints). Policies are described as plain data, so a logged decision can
be decided again by `policy_from_description` long after the fact.
"""

from __future__ import annotations

import hmac
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum
from json.encoder import encode_basestring
from math import isfinite
from operator import attrgetter, call
from typing import Any, ClassVar, Protocol

from bankml.core.canonical import canonical_json, sha256_hex
from bankml.core.errors import InvalidInputError


class Outcome(StrEnum):
    APPROVE = "approve"
    REFER = "refer"
    DECLINE = "decline"
    ALLOW = "allow"
    CHALLENGE = "challenge"
    BLOCK = "block"
    ALERT = "alert"
    NO_ALERT = "no_alert"
    OFFER = "offer"
    NO_OFFER = "no_offer"
    REVIEW = "review"


class PolicyKind(StrEnum):
    APPROVE_REFER_DECLINE = "approve_refer_decline"  # credit: PD cut-offs
    BLOCK_ALLOW = "block_allow"  # fraud, two outcomes
    ALLOW_CHALLENGE_BLOCK = "allow_challenge_block"  # fraud, step-up in between
    ALERT = "alert"  # AML: alert or not
    OFFER = "offer"  # propensity: offer above a threshold


class DecisionPolicy(Protocol):
    """What every policy kind offers: decide, say what is adverse, describe itself."""

    kind: ClassVar[PolicyKind]
    outcomes: ClassVar[tuple[Outcome, ...]]  # from least to most adverse
    adverse: ClassVar[frozenset[Outcome]]  # outcomes that carry reason codes
    review: ClassVar[Outcome]  # where a case goes when a person decides

    @property
    def version(self) -> str: ...

    def bands(self) -> tuple[tuple[float, ...], tuple[Outcome, ...]]:
        """Cut-offs in increasing order and the outcome of each band they make: a score
        below the first cut-off gets the first outcome, one at or above the last the last."""

    def decide(self, score: float) -> Outcome: ...

    def cutoffs(self) -> dict[str, float]: ...

    def describe(self) -> dict[str, Any]: ...


def decide_in_bands(policy: DecisionPolicy, score: float) -> Outcome:
    cutoffs, outcomes = policy.bands()
    return outcomes[bisect_right(cutoffs, score)]


def _ordered(kind: PolicyKind, *pairs: tuple[str, float]) -> None:
    values = [value for _, value in pairs]
    if not all(0.0 <= value <= 1.0 for value in values) or values != sorted(values):
        shown = " <= ".join(f"{name} ({value})" for name, value in pairs)
        raise InvalidInputError("decision_policy", f"{kind} cut-offs must satisfy 0 <= {shown} "
                                "<= 1", rule="policy.cutoffs_ordered")


@dataclass(frozen=True, slots=True, kw_only=True)
class CutoffPolicy:
    """Credit: approve below one PD cut-off, decline at or above the other, refer between."""

    kind: ClassVar[PolicyKind] = PolicyKind.APPROVE_REFER_DECLINE
    outcomes: ClassVar[tuple[Outcome, ...]] = (Outcome.APPROVE, Outcome.REFER, Outcome.DECLINE)
    adverse: ClassVar[frozenset[Outcome]] = frozenset({Outcome.DECLINE})
    review: ClassVar[Outcome] = Outcome.REFER

    version: str
    approve_below: float
    decline_from: float

    def __post_init__(self) -> None:
        _ordered(self.kind, ("approve_below", self.approve_below),
                 ("decline_from", self.decline_from))

    def bands(self) -> tuple[tuple[float, ...], tuple[Outcome, ...]]:
        return (self.approve_below, self.decline_from), self.outcomes

    def decide(self, score: float) -> Outcome:
        return decide_in_bands(self, score)

    def cutoffs(self) -> dict[str, float]:
        return {"approve_below": self.approve_below, "decline_from": self.decline_from}

    def describe(self) -> dict[str, Any]:
        return {"version": self.version, **self.cutoffs()}


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockPolicy:
    """Fraud: block at or above a score, allow below."""

    kind: ClassVar[PolicyKind] = PolicyKind.BLOCK_ALLOW
    outcomes: ClassVar[tuple[Outcome, ...]] = (Outcome.ALLOW, Outcome.BLOCK)
    adverse: ClassVar[frozenset[Outcome]] = frozenset({Outcome.BLOCK})
    review: ClassVar[Outcome] = Outcome.REVIEW

    version: str
    block_from: float

    def __post_init__(self) -> None:
        _ordered(self.kind, ("block_from", self.block_from))

    def bands(self) -> tuple[tuple[float, ...], tuple[Outcome, ...]]:
        return (self.block_from,), self.outcomes

    def decide(self, score: float) -> Outcome:
        return decide_in_bands(self, score)

    def cutoffs(self) -> dict[str, float]:
        return {"block_from": self.block_from}

    def describe(self) -> dict[str, Any]:
        return {"kind": str(self.kind), "version": self.version, **self.cutoffs()}


@dataclass(frozen=True, slots=True, kw_only=True)
class ChallengePolicy:
    """Fraud with step-up: allow, challenge (e.g. a one-time code) from one score, block
    from a higher one."""

    kind: ClassVar[PolicyKind] = PolicyKind.ALLOW_CHALLENGE_BLOCK
    outcomes: ClassVar[tuple[Outcome, ...]] = (Outcome.ALLOW, Outcome.CHALLENGE, Outcome.BLOCK)
    adverse: ClassVar[frozenset[Outcome]] = frozenset({Outcome.CHALLENGE, Outcome.BLOCK})
    review: ClassVar[Outcome] = Outcome.CHALLENGE

    version: str
    challenge_from: float
    block_from: float

    def __post_init__(self) -> None:
        _ordered(self.kind, ("challenge_from", self.challenge_from),
                 ("block_from", self.block_from))

    def bands(self) -> tuple[tuple[float, ...], tuple[Outcome, ...]]:
        return (self.challenge_from, self.block_from), self.outcomes

    def decide(self, score: float) -> Outcome:
        return decide_in_bands(self, score)

    def cutoffs(self) -> dict[str, float]:
        return {"challenge_from": self.challenge_from, "block_from": self.block_from}

    def describe(self) -> dict[str, Any]:
        return {"kind": str(self.kind), "version": self.version, **self.cutoffs()}


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertPolicy:
    """AML: alert an analyst at or above a score."""

    kind: ClassVar[PolicyKind] = PolicyKind.ALERT
    outcomes: ClassVar[tuple[Outcome, ...]] = (Outcome.NO_ALERT, Outcome.ALERT)
    adverse: ClassVar[frozenset[Outcome]] = frozenset({Outcome.ALERT})
    review: ClassVar[Outcome] = Outcome.ALERT  # an analyst looks at every case

    version: str
    alert_from: float

    def __post_init__(self) -> None:
        _ordered(self.kind, ("alert_from", self.alert_from))

    def bands(self) -> tuple[tuple[float, ...], tuple[Outcome, ...]]:
        return (self.alert_from,), self.outcomes

    def decide(self, score: float) -> Outcome:
        return decide_in_bands(self, score)

    def cutoffs(self) -> dict[str, float]:
        return {"alert_from": self.alert_from}

    def describe(self) -> dict[str, Any]:
        return {"kind": str(self.kind), "version": self.version, **self.cutoffs()}


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferPolicy:
    """Propensity: make the offer at or above a score (a top share is turned into this
    score on the development sample, and recorded, when the policy is declared)."""

    kind: ClassVar[PolicyKind] = PolicyKind.OFFER
    outcomes: ClassVar[tuple[Outcome, ...]] = (Outcome.OFFER, Outcome.NO_OFFER)
    adverse: ClassVar[frozenset[Outcome]] = frozenset()
    review: ClassVar[Outcome] = Outcome.REVIEW

    version: str
    offer_from: float

    def __post_init__(self) -> None:
        _ordered(self.kind, ("offer_from", self.offer_from))

    def bands(self) -> tuple[tuple[float, ...], tuple[Outcome, ...]]:
        return (self.offer_from,), (Outcome.NO_OFFER, Outcome.OFFER)

    def decide(self, score: float) -> Outcome:
        return decide_in_bands(self, score)

    def cutoffs(self) -> dict[str, float]:
        return {"offer_from": self.offer_from}

    def describe(self) -> dict[str, Any]:
        return {"kind": str(self.kind), "version": self.version, **self.cutoffs()}


POLICY_CLASSES: dict[PolicyKind, type[Any]] = {
    PolicyKind.APPROVE_REFER_DECLINE: CutoffPolicy, PolicyKind.BLOCK_ALLOW: BlockPolicy,
    PolicyKind.ALLOW_CHALLENGE_BLOCK: ChallengePolicy, PolicyKind.ALERT: AlertPolicy,
    PolicyKind.OFFER: OfferPolicy,
}


def make_policy(kind: PolicyKind | str, *, version: str,
                cutoffs: Mapping[str, float]) -> DecisionPolicy:
    """The policy of `kind` with `cutoffs`; InvalidInputError names a missing or extra one."""
    try:
        chosen = POLICY_CLASSES[PolicyKind(kind)]
    except ValueError:
        kinds = ", ".join(kind.value for kind in PolicyKind)
        raise InvalidInputError("decision_policy.kind", f"{kind!r} is not a policy kind; use "
                                f"one of {kinds}", rule="policy.kind_known") from None
    needed = {field.name for field in fields(chosen)} - {"version"}
    if set(cutoffs) != needed:
        raise InvalidInputError("decision_policy", f"kind {kind} takes exactly "
                                f"{', '.join(sorted(needed))}, not "
                                f"{', '.join(sorted(cutoffs)) or 'nothing'}",
                                rule="policy.cutoffs_of_kind")
    policy: DecisionPolicy = chosen(version=version, **{k: float(v) for k, v in cutoffs.items()})
    return policy


def policy_from_description(described: Mapping[str, Any]) -> DecisionPolicy:
    """The policy a decision record described (records before kinds were credit cut-offs)."""
    fields = dict(described)
    kind = fields.pop("kind", PolicyKind.APPROVE_REFER_DECLINE)
    version = str(fields.pop("version"))
    fields.pop("review", None)  # the endpoint's mode, recorded beside the cut-offs
    return make_policy(kind, version=version, cutoffs=fields)


RECORD_SCHEMA = 2  # 1: decisions made from Python before endpoints existed


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionRecord:
    """Everything needed to explain and replay one decision, immutable once written.

    Answers "what did the model see, which version was it, and would it say the same
    again?": the endpoint version and policy, the model version and its artifact digest,
    the exact input vector (lossless JSON), the request fields and online feature values
    it was built from, the outcome with its reasons, and when and how fast it was made.
    """

    decision_id: str
    decided_at: str
    customer_pseudo_id: str
    model_name: str
    model_version: int
    artifact_sha256: str
    inputs_json: str  # canonical JSON of the exact inputs the model saw
    score: float
    outcome: Outcome
    policy_json: str
    endpoint: str | None = None  # None for schema 1
    endpoint_version: int | None = None
    route: str = "champion"
    received_at: str | None = None
    request_json: str = "{}"  # request-time fields as received (entity keys left out)
    features_json: str = "{}"  # online values by pinned ref, which views knew the entity
    reasons_json: str = "{}"  # adverse reasons with their explanation's provenance
    requested_by: str = ""  # the principal (often an application) that asked
    code_version: str = ""
    latency_us: int = 0
    schema_version: int = 1

    @property
    def inputs_sha256(self) -> str:
        return sha256_hex(self.inputs_json)

    @property
    def model_ref(self) -> str:
        return f"{self.model_name}@{self.model_version}"

    @property
    def record_sha256(self) -> str:
        """Digest of the whole record; its batch's Merkle root (or, for schema 1, its own
        audit event) holds it, so an edit is caught.

        The digest is the sha256 of `canonical_json(self.digested())`. Verification takes
        one per logged record, so a record of the usual types writes that text directly
        (`_canonical_text`, the same characters); any other goes through canonical_json.
        """
        text = _canonical_text(self) if self.schema_version >= RECORD_SCHEMA else None
        return sha256_hex(canonical_json(self.digested()) if text is None else text)

    def digested(self) -> dict[str, object]:
        """What the digest covers: every field (schema 1: those it had), by its name in
        the digest."""
        names = _DIGESTED if self.schema_version >= RECORD_SCHEMA else _DIGESTED_SCHEMA_ONE
        values: dict[str, object] = {key: getattr(self, name) for key, name in names}
        values["outcome"] = str(self.outcome)
        return values


# Each digested field by its key in the digest (the record's field name, but for the JSON
# texts, which the digest names without `_json`).
_DIGESTED_SCHEMA_ONE = (
    ("decision_id", "decision_id"), ("decided_at", "decided_at"),
    ("customer_pseudo_id", "customer_pseudo_id"), ("model_name", "model_name"),
    ("model_version", "model_version"), ("artifact_sha256", "artifact_sha256"),
    ("inputs", "inputs_json"), ("score", "score"), ("outcome", "outcome"),
    ("policy", "policy_json"))
_DIGESTED = (*_DIGESTED_SCHEMA_ONE,
    ("endpoint", "endpoint"), ("endpoint_version", "endpoint_version"), ("route", "route"),
    ("received_at", "received_at"), ("request", "request_json"),
    ("features", "features_json"), ("reasons", "reasons_json"),
    ("requested_by", "requested_by"), ("code_version", "code_version"),
    ("latency_us", "latency_us"), ("schema_version", "schema_version"))

# canonical_json of a flat dict is `{"key":value,...}` in sorted key order, each text
# escaped by the encoder's own function (`encode_basestring`: ensure_ascii is off) and each
# int and finite float written by its repr, as json writes them. A record whose fields
# have exactly these types (outcome an Outcome or text) takes this path; any other type (a
# None, a bool, an int subclass) and a non-finite score go through canonical_json.
_SORTED = sorted(_DIGESTED)
_FIELD_VALUES = attrgetter(*(name for _, name in _SORTED))
_TEMPLATE = "{" + ",".join(f'"{key}":%s' for key, _ in _SORTED) + "}"
_KINDS: dict[str, type] = {"model_version": int, "endpoint_version": int, "latency_us": int,
                           "schema_version": int, "score": float}
_WRITERS = tuple({int: int.__repr__, float: float.__repr__}.get(_KINDS.get(name, str),
                                                                encode_basestring)
                 for _, name in _SORTED)
_TYPES = {tuple(outcome if name == "outcome" else _KINDS.get(name, str)
                for _, name in _SORTED) for outcome in (str, Outcome)}
_SCORE = [name for _, name in _SORTED].index("score")


_SCHEMA = [name for _, name in _SORTED].index("schema_version")

# A record's fields in the order of its digest's keys: verification reads the log's rows in
# this order and takes each digest from the row itself (`digest_of_fields`), building no
# record for it.
DIGEST_FIELDS: tuple[str, ...] = tuple(name for _, name in _SORTED)
_OUTCOMES = {str(outcome): outcome for outcome in Outcome}


def _canonical_text(record: DecisionRecord) -> str | None:
    """`canonical_json(record.digested())` of a schema-2 record of the usual types, or
    None."""
    return _text_of(_FIELD_VALUES(record))


def _text_of(values: Sequence[Any]) -> str | None:
    """The canonical text of a schema-2 record's fields in `DIGEST_FIELDS` order, if they
    are of the usual types; else None."""
    if tuple(map(type, values)) not in _TYPES or not isfinite(values[_SCORE]):
        return None
    return _TEMPLATE % tuple(map(call, _WRITERS, values))


def digest_of_fields(values: Sequence[Any]) -> str:
    """`record_sha256` of the record whose fields, in `DIGEST_FIELDS` order, are `values`
    (the outcome as text or Outcome): the same digest, without the record for most rows."""
    text = _text_of(values)
    if text is None or values[_SCHEMA] < RECORD_SCHEMA:
        return record_of_fields(values).record_sha256
    return sha256_hex(text)


def record_of_fields(values: Sequence[Any]) -> DecisionRecord:
    """The record whose fields, in `DIGEST_FIELDS` order, are `values`; an outcome text
    that names no Outcome stays text (its digest and its comparison see the text)."""
    fields = dict(zip(DIGEST_FIELDS, values, strict=True))
    fields["outcome"] = _OUTCOMES.get(fields["outcome"], fields["outcome"])
    return DecisionRecord(**fields)


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionBatch:
    """Decisions committed together: one audit event records the batch's Merkle root."""

    batch_id: int
    committed_at: str
    records: int
    merkle_root: str
    first_decided_at: str
    last_decided_at: str
    leaves: tuple[str, ...] = ()  # the records' sha256 in batch order


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionOverride:
    """A person's different outcome for a logged decision, kept beside it, never over it."""

    override_id: int
    decision_id: str
    outcome: Outcome
    reason_code: str
    comment: str
    overridden_by: str
    overridden_at: str


def pseudonymise(customer_id: str, key: bytes) -> str:
    """A keyed HMAC of the customer id: stable for joins, useless without the key."""
    return hmac.new(key, customer_id.encode("utf-8"), "sha256").hexdigest()
