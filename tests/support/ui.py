"""A platform with something on every page of the web UI, for its HTTP and browser tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bankml import Platform
from bankml.core.identity import Role
from bankml.core.oversight import RequestStatus
from bankml.core.registry import Stage
from support.evidence import signed_off
from support.models import register_tiny
from support.people import person, staff
from support.served import applications, credit_endpoint, credit_in_prod

CAST = ("dana", "dev", "mira", "aude", "bob")  # data scientists, model risk, auditor, owner
DUAL = "dual"  # a data scientist who also holds model_risk: four eyes stop them


@dataclass(frozen=True)
class World:
    home: Path
    tokens: dict[str, str]  # name -> a one-day token
    credit: str  # the German credit model, in prod behind its endpoint
    decision_id: str  # a decline with reason codes
    run_id: str  # a validation run of the credit model
    to_approve: int  # requests waiting for a model_risk approval...
    to_forge: int
    own_request: int  # ...this one asked for by DUAL


def build_world(home: Path) -> World:
    """German credit in prod behind its endpoint with forty decisions and a validation run;
    three tier 2 models asked for prod; the cast and DUAL with tokens."""
    with Platform.open(home) as platform:
        version = credit_in_prod(platform)
        endpoint = credit_endpoint(platform)
        records = platform.decisions.decide(staff(platform, "ops"), endpoint.name,
                                            applications(version, 40))
        declined = next(r for r in records
                        if str(r.outcome) == "decline" and '"codes"' in r.reasons_json)
        run = platform.validation.run(staff(platform, "vera"), version.ref)
        for name in CAST:
            staff(platform, name)
        person(platform, DUAL, Role.DATA_SCIENTIST, Role.MODEL_RISK)
        requests = [request_prod(platform, name, requester) for name, requester in
                    (("tiny-approve", "dev"), ("tiny-forged", "dev"), ("tiny-own", DUAL))]
        first = platform.identity.user("ada")
        tokens = {name: platform.identity.create_token(first, name, days=1).plaintext
                  for name in (*CAST, DUAL)}
    return World(home, tokens, version.name, declined.decision_id, run.run_id, *requests)


def request_prod(platform: Platform, name: str, requester: str) -> int:
    """A tier 2 model validated independently, in staging, asked for prod: it waits for
    one model_risk approval."""
    by = platform.identity.user(requester)
    version = register_tiny(platform, by, name, tier=2)
    signed_off(platform, staff(platform, "vera"), version.ref, summary="fit for use")
    platform.oversight.request_transition(by, version.ref, Stage.STAGING, reason="test")
    made = platform.oversight.request_transition(by, version.ref, Stage.PROD,
                                                 reason="ready")
    assert made.status == RequestStatus.OPEN
    return made.request_id
