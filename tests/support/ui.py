"""A platform with something on every page of the web UI, for its HTTP and browser tests.

The world is built once per test run (`shared_world`: once per xdist worker group, under
a lock on the run's shared temporary folder) and each module works on a copy of its home:
the home names no path of its own, so a copy is the same platform.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bankml import Platform
from bankml.core.decisions import DecisionRecord
from bankml.core.identity import Role
from bankml.core.oversight import RequestStatus
from bankml.core.registry import Stage
from bankml.core.rollouts import Plan
from bankml.datasets import load_german_credit
from bankml.monitoring.policy import DEFAULT, MonitoringPolicy, parse_policy
from support.evidence import signed_off
from support.lifecycle import move_to
from support.models import register_tiny
from support.once import built_once, copy_of
from support.people import person, staff
from support.served import SPEC, applications, credit_endpoint, credit_in_prod

# data scientists, model risk, auditor, owner, ML engineer
CAST = ("dana", "dev", "mira", "aude", "bob", "ops")
# a canary that holds its step: the controller of the served process neither advances it
# (too few decisions) nor rolls it back (no statistical guardrail has its sample)
CANARY = {"steps": [{"kind": "canary", "share": 50, "min_decisions": 1_000_000,
                     "min_duration_s": 86_400}],
          "guardrails": {"error_rate": 0.5, "p99_latency_ms": 60_000, "score_psi": 0.25,
                         "decision_rate_change": 0.2},
          "min_sample": 1_000_000}
BEFORE, DURING = 120, 40  # decisions before the canary and while it runs
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
    endpoint: str  # the credit model's, with a canary of @2 running
    customer: str  # the customer id (in clear) of decision_id
    alert: int  # an open alert on the credit model


def shared_world(factory: pytest.TempPathFactory, name: str) -> World:
    """A copy of the run's one world, in a folder of its own for the module `name`."""
    folder, found = built_once(factory, "ui-world", _described_world)
    template = World(**{**found, "home": folder / "home"})
    return replace(template, home=copy_of(template.home, factory, name))


def _described_world(folder: Path) -> dict[str, Any]:
    return {**asdict(build_world(folder / "home")), "home": "home"}


def build_world(home: Path) -> World:
    """German credit in prod behind its endpoint with 120 decisions and a validation run,
    then @2 in a canary that answered 40 more; every decision's outcome known; two
    monitoring windows and an open alert; three tier 2 models asked for prod; the cast and
    DUAL with tokens."""
    with Platform.open(home) as platform:
        version = credit_in_prod(platform)
        endpoint = credit_endpoint(platform)
        ops = staff(platform, "ops")
        asked = applications(version, BEFORE + DURING)
        records = platform.decisions.decide(ops, endpoint.name, asked[:BEFORE])
        declined = next(i for i, r in enumerate(records)
                        if str(r.outcome) == "decline" and '"codes"' in r.reasons_json)
        run = platform.validation.run(staff(platform, "vera"), version.ref)
        records += canary_on(platform, endpoint.name, asked[BEFORE:])
        outcomes_known(platform, endpoint.name, records, asked)
        alert = monitored(platform, endpoint.name, version.name)
        for name in CAST:
            staff(platform, name)
        person(platform, DUAL, Role.DATA_SCIENTIST, Role.MODEL_RISK)
        requests = [request_prod(platform, name, requester) for name, requester in
                    (("tiny-approve", "dev"), ("tiny-forged", "dev"), ("tiny-own", DUAL))]
        first = platform.identity.user("ada")
        tokens = {name: platform.identity.create_token(first, name, days=1).plaintext
                  for name in (*CAST, DUAL)}
    return World(home, tokens, version.name, records[declined].decision_id, run.run_id,
                 *requests, endpoint=endpoint.name, customer=asked[declined]["customer_id"],
                 alert=alert)


def canary_on(platform: Platform, endpoint: str, asked: list[dict[str, object]]
              ) -> list[DecisionRecord]:
    """The credit spec trained again, validated, staged and rolled out as a canary that
    answers half the customers of `asked`; the decisions."""
    challenger = platform.training.train(staff(platform, "dana"), SPEC)
    vera = staff(platform, "vera")
    # a run of the battery, not a stored stand-in: monitoring reads its validated AUC
    run = platform.validation.run(vera, challenger.ref)
    platform.oversight.record_validation(vera, challenger.ref, passed=True, summary="sound",
                                         run_id=run.run_id)
    move_to(platform, challenger.ref, Stage.STAGING)
    ops = staff(platform, "ops")
    platform.rollouts.deploy(ops, endpoint, challenger.ref, plan=Plan.from_data(CANARY))
    records = platform.decisions.decide(ops, endpoint, asked)
    platform.decisions.shadow.drain()
    platform.decision_log.write([])  # the writer has committed everything before it
    return records


def outcomes_known(platform: Platform, endpoint: str, records: list[DecisionRecord],
                   asked: list[dict[str, object]]) -> None:
    """Each decision's outcome, the German credit file's `default` of its applicant,
    observed now."""
    defaults = load_german_credit(None).frame.set_index("row_id")["default"]
    now = datetime.now(UTC).isoformat()
    platform.labels.ingest(staff(platform, "ops"), [
        {"decision_id": record.decision_id, "observed_at": now,
         "outcome": int(defaults[int(str(request["customer_id"]).removeprefix("id-"))])}
        for record, request in zip(records, asked, strict=True)], endpoint=endpoint)


def matured_now(endpoint: str) -> MonitoringPolicy:
    """The shipped policy with no label maturity on `endpoint` (its own version, by its
    digest): a credit outcome is final after a year, and the world cannot wait one."""
    shipped = DEFAULT.read_text(encoding="utf-8")
    changed = shipped.replace("maturity_days: {}", f"maturity_days: {{{endpoint}: 0}}")
    assert changed != shipped, "the shipped policy no longer reads `maturity_days: {}`"
    return parse_policy(changed, source=f"{DEFAULT.name}, {endpoint} matured at once")


def monitored(platform: Platform, endpoint: str, model: str) -> int:
    """Two monitoring windows over the decisions (a week to tomorrow, the last day to a
    minute from now), their labels matured, and an alert opened by hand; its id."""
    ops = staff(platform, "ops")
    now = datetime.now(UTC)
    tomorrow = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    policy = matured_now(endpoint)
    platform.monitor.run(ops, endpoint=endpoint, window_days=7, as_of=tomorrow,
                         policy=policy)
    platform.monitor.run(ops, endpoint=endpoint, window_days=1,
                         as_of=now + timedelta(minutes=1), policy=policy)
    return platform.oversight.open_alert(ops, model, severity="amber",
                                         title="approval rate below plan, look into it")


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
