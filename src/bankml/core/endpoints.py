"""Endpoints: a served model bound to its inputs, decision policy, reasons and mode.

An endpoint is data. Its version is the sha256 of its definition (model, entity keys,
policy, reason catalogue text, mode, defaults), so applying an unchanged file makes no
new version, and every decision records the exact endpoint version it was made under.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bankml.core.canonical import canonical_json, sha256_hex
from bankml.core.decisions import DecisionPolicy, PolicyKind, make_policy
from bankml.core.errors import InvalidInputError

ENDPOINT_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,99}")
MAX_REASONS = 4  # Regulation B: four reasons are the useful maximum on a notice


class Mode(StrEnum):
    """Human oversight (EU AI Act Art. 14): decide, route every case to a person, or stop."""

    AUTOMATIC = "automatic"
    HUMAN_REVIEW = "human_review"  # every decision goes to the policy's review outcome
    STOPPED = "stopped"  # no decision is made; callers are told so


class MissingEntity(StrEnum):
    """What to do when the online store does not know the entity."""

    REFUSE = "refuse"
    DEFAULTS = "defaults"  # decide on the endpoint's declared defaults, and record it


def check_endpoint_name(name: str) -> str:
    if not ENDPOINT_NAME.fullmatch(name):
        raise InvalidInputError("name", f"{name!r} is not an endpoint name: lowercase "
                                "letters, digits, '.', '_' and '-' (at most 100)",
                                rule="endpoint.name")
    return name


@dataclass(frozen=True, slots=True, kw_only=True)
class Reasons:
    """The reason-code catalogue adverse decisions draw on, as its governed text."""

    catalogue: str  # the catalogue's YAML text; its sha256 is part of the endpoint version
    top: int = MAX_REASONS

    def __post_init__(self) -> None:
        if not 1 <= self.top <= MAX_REASONS:
            raise InvalidInputError("reasons.top", f"{self.top} is outside 1..{MAX_REASONS}",
                                    rule="endpoint.reason_count")

    @property
    def sha256(self) -> str:
        return sha256_hex(self.catalogue)


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """What an endpoint decides with; see `EndpointVersion` for an applied one."""

    name: str
    model: str  # decisions use this model's `champion`, a version in prod
    entity: tuple[str, ...]  # request fields that identify the customer (pseudonymised)
    policy_kind: PolicyKind
    cutoffs: dict[str, float]
    mode: Mode = Mode.AUTOMATIC
    reasons: Reasons | None = None
    missing_entity: MissingEntity = MissingEntity.REFUSE
    defaults: dict[str, Any] = field(default_factory=dict)  # feature -> value
    # Request fields recorded with each decision for monitoring (e.g. a protected group
    # for fairness in production), never given to the model.
    monitoring_attributes: tuple[str, ...] = ()
    description: str = ""
    owner: str = ""

    def __post_init__(self) -> None:
        check_endpoint_name(self.name)
        if not self.entity:
            raise InvalidInputError("entity", "name the request field(s) that identify the "
                                    "customer", rule="endpoint.entity")
        if self.missing_entity == MissingEntity.DEFAULTS and not self.defaults:
            raise InvalidInputError("defaults", "missing_entity: defaults needs the default "
                                    "value of each feature", rule="endpoint.defaults")
        self.policy("check")  # the cut-offs fit the kind, in order
        keys = sorted(set(self.monitoring_attributes) & set(self.entity))
        if keys or len(set(self.monitoring_attributes)) != len(self.monitoring_attributes):
            raise InvalidInputError("monitoring.attributes", "name each attribute once, and "
                                    "no entity key", rule="endpoint.attributes")

    def policy(self, version: str) -> DecisionPolicy:
        return make_policy(self.policy_kind, version=version, cutoffs=self.cutoffs)

    def spec(self) -> dict[str, Any]:
        """Everything that decides: the digest covers exactly this."""
        return {"name": self.name, "model": self.model, "entity": list(self.entity),
                "policy": {"kind": str(self.policy_kind), **self.cutoffs},
                "mode": str(self.mode), "missing_entity": str(self.missing_entity),
                "defaults": self.defaults,
                "reasons": None if self.reasons is None else {
                    "catalogue": self.reasons.catalogue, "top": self.reasons.top},
                # only when declared, so that endpoints without keep their digest
                **({"monitoring": {"attributes": list(self.monitoring_attributes)}}
                   if self.monitoring_attributes else {})}

    def digest(self) -> str:
        return sha256_hex(canonical_json(self.spec()))

    @classmethod
    def from_spec(cls, spec: dict[str, Any], *, description: str = "",
                  owner: str = "") -> Endpoint:
        policy = dict(spec["policy"])
        kind = PolicyKind(policy.pop("kind"))
        reasons = spec.get("reasons")
        attributes = tuple(spec.get("monitoring", {}).get("attributes", ()))
        return cls(name=spec["name"], model=spec["model"], entity=tuple(spec["entity"]),
                   monitoring_attributes=attributes,
                   policy_kind=kind, cutoffs={k: float(v) for k, v in policy.items()},
                   mode=Mode(spec["mode"]), missing_entity=MissingEntity(spec["missing_entity"]),
                   defaults=dict(spec["defaults"]), description=description, owner=owner,
                   reasons=None if reasons is None else Reasons(catalogue=reasons["catalogue"],
                                                                top=int(reasons["top"])))


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointVersion:
    """One applied endpoint definition, known by name and number and by its digest."""

    name: str
    number: int
    digest: str
    spec: dict[str, Any]
    description: str
    owner: str
    created_at: str
    created_by: str

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.number}"

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint.from_spec(self.spec, description=self.description, owner=self.owner)

    @property
    def policy_version(self) -> str:
        """Decisions name the policy by the endpoint version that holds it."""
        return f"{self.ref}:{self.digest[:12]}"
