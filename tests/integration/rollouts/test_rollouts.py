"""Rollouts as a service on both databases: deploy behind the gates, routing in the decision
path (canary recorded in each decision, shadow logged and never returned), the controller
advancing, promoting and rolling back, and the operations' roles."""

from __future__ import annotations

import multiprocessing
import os
import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bankml import Platform
from bankml.core.canonical import utc_timestamp
from bankml.core.decisions import DecisionRecord
from bankml.core.errors import ConflictError, InvalidInputError, NotFoundError
from bankml.core.identity import SYSTEM, RoleDeniedError
from bankml.core.oversight import RequestStatus
from bankml.core.registry import Stage
from bankml.core.rollouts import Plan, RolloutStatus, Route, plan_for
from bankml.governance.policy_files import DEFAULTS
from bankml.rollouts import Controller
from bankml.serving.shadow_process import ShadowProcess
from support.evidence import signed_off
from support.lifecycle import approved_for_prod, move_to
from support.models import register_tiny
from support.people import staff
from support.served import tiny_endpoint
from support.trail import audit_events

ENDPOINT = "pd-decisions"


def plan(*steps: dict[str, Any], **guardrails: float) -> Plan:
    return Plan.from_data({"steps": list(steps), "min_sample": 5,
                           "guardrails": guardrails or {"error_rate": 0.5}})


def canary(share: float, decisions: int = 5) -> dict[str, Any]:
    return {"kind": "canary", "share": share, "min_decisions": decisions, "min_duration_s": 0}


SHADOW = {"kind": "shadow", "min_decisions": 5, "min_duration_s": 0}


@pytest.fixture
def served(platform: Platform) -> Platform:
    return with_challenger(platform)


def with_challenger(platform: Platform) -> Platform:
    """pd@1 champion behind the endpoint; pd@2 in staging, validated independently."""
    tiny_endpoint(platform)
    challenger = register_tiny(platform, staff(platform, "dev"))
    signed_off(platform, staff(platform, "vera"), challenger.ref, summary="sound")
    move_to(platform, challenger.ref, Stage.STAGING)
    return platform


def decide(platform: Platform, count: int, start: int = 0) -> list[DecisionRecord]:
    app = staff(platform, "ops")
    return platform.decisions.decide(app, ENDPOINT, [
        {"customer_id": f"c{i}", "x0": (i % 7) / 7 - 0.5} for i in range(start, start + count)])


def logged(platform: Platform) -> list[DecisionRecord]:
    platform.decisions.shadow.drain()
    platform.decision_log.write([])  # the writer has committed everything before it
    with platform.metadata.reading() as tx:
        return list(tx.decisions.records(endpoint=ENDPOINT))


def test_shadow_scores_every_request_and_answers_none(served: Platform) -> None:
    """In shadow the champion answers; the challenger's scores are logged as route shadow."""
    served.rollouts.deploy(staff(served, "ops"), ENDPOINT, "pd@2", plan=plan(SHADOW))

    answered = decide(served, 20)

    assert {(r.route, r.model_ref) for r in answered} == {("champion", "pd@1")}
    records = logged(served)
    assert Counter((r.route, r.model_ref) for r in records) == {
        ("champion", "pd@1"): 20, ("shadow", "pd@2"): 20}
    shadows = {r.customer_pseudo_id for r in records if r.route == "shadow"}
    assert shadows == {r.customer_pseudo_id for r in answered}


def test_shadow_runs_in_a_process_of_its_own_started_again_if_it_died(
        served: Platform) -> None:
    """The challenger scores in a child process, not on a thread of the serving one; a
    child that died is replaced on the next offer, and only its work in flight is lost."""
    served.rollouts.deploy(staff(served, "ops"), ENDPOINT, "pd@2", plan=plan(SHADOW))
    shadow = served.decisions.shadow
    assert isinstance(shadow, ShadowProcess)
    decide(served, 5)
    logged(served)
    child = next(p for p in multiprocessing.active_children() if p.name == "bankml-shadow")
    # best effort: when the cores are busy the champion's process goes first
    assert os.getpriority(os.PRIO_PROCESS, child.pid) > os.getpriority(os.PRIO_PROCESS, 0)
    child.kill()
    child.join()

    decide(served, 5, start=5)
    records = logged(served)

    assert Counter(r.route for r in records) == {"champion": 10, "shadow": 10}
    assert shadow.restarts == 1
    assert (shadow.counts.offered, shadow.counts.done, shadow.counts.dropped) == (2, 1, 0)


def test_canary_sends_its_share_and_records_the_route(served: Platform) -> None:
    """The challenger answers its customers with route canary, the same ones every time."""
    served.rollouts.deploy(staff(served, "ops"), ENDPOINT, "pd@2", plan=plan(canary(50)))

    first, again = decide(served, 200), decide(served, 200)

    routes = [(r.route, r.model_ref) for r in first]
    assert set(routes) == {("champion", "pd@1"), ("canary", "pd@2")}
    assert 60 < routes.count(("canary", "pd@2")) < 140
    assert [r.route for r in again] == [r.route for r in first]


@pytest.mark.parametrize(("ref", "field", "rule"), [
    ("fraud@1", "version", "rollout.same_model"),
    ("pd@1", "version", "rollout.not_champion"),
])
def test_a_version_that_cannot_challenge_is_refused(served: Platform, ref: str, field: str,
                                                    rule: str) -> None:
    register_tiny(served, staff(served, "dev"), "fraud")
    before = audit_events(served)

    with pytest.raises(InvalidInputError) as refused:
        served.rollouts.deploy(staff(served, "ops"), ENDPOINT, ref, plan=plan_for("shadow"))

    assert (refused.value.field, refused.value.rule) == (field, rule)
    with served.metadata.reading() as tx:
        assert tx.rollouts.of(ENDPOINT) == []
    assert [e.action for e in audit_events(served)[len(before):]] == ["input.refused"]


def test_a_second_rollout_on_the_endpoint_is_refused(served: Platform) -> None:
    ops = staff(served, "ops")
    served.rollouts.deploy(ops, ENDPOINT, "pd@2", plan=plan_for("shadow"))
    third = register_tiny(served, staff(served, "dev"))
    signed_off(served, staff(served, "vera"), third.ref, summary="sound")
    move_to(served, third.ref, Stage.STAGING)

    with pytest.raises(ConflictError) as refused:
        served.rollouts.deploy(ops, ENDPOINT, third.ref, plan=plan_for("canary"))

    assert (refused.value.field, refused.value.rule) == ("endpoint", "rollout.one_active")


def test_a_deploy_whose_gate_does_not_hold_names_the_gate(served: Platform) -> None:
    """A tier-1 challenger without a sign-off may not enter shadow: the gate is named."""
    bare = register_tiny(served, staff(served, "dev"))
    move_to(served, bare.ref, Stage.STAGING)

    with pytest.raises(ConflictError, match="gate.validation") as refused:
        served.rollouts.deploy(staff(served, "ops"), ENDPOINT, bare.ref, plan=plan_for("shadow"))

    assert refused.value.field == "version"
    with served.metadata.reading() as tx:
        assert tx.rollouts.of(ENDPOINT) == []


def test_a_challenger_outside_staging_is_refused(served: Platform) -> None:
    register_tiny(served, staff(served, "dev"))

    with pytest.raises(ConflictError) as refused:
        served.rollouts.deploy(staff(served, "ops"), ENDPOINT, "pd@3", plan=plan_for("shadow"))

    assert refused.value.rule == "rollout.challenger_staged"


def controller(platform: Platform, holder: str = "one", **clock: Any) -> Controller:
    return Controller(platform.metadata, platform.rollouts, interval_s=1, lease_s=30,
                      holder=holder, **clock)


def test_clean_steps_advance_and_the_last_promotes(served: Platform) -> None:
    """shadow -> canary 50 % -> full: each tick after enough decisions moves one step; the
    clean last step waits for the four eyes on the prod move, which stays open until the
    rollout executes it; at full the challenger is champion in prod and the old one
    archived, all audited."""
    served.rollouts.deploy(staff(served, "ops"), ENDPOINT, "pd@2",
                           plan=plan(SHADOW, canary(50)))
    ticking = controller(served)
    assert ticking.tick() == 0  # no decision yet: the shadow step waits

    decide(served, 10)
    logged(served)
    assert ticking.tick() == 1
    decide(served, 40)
    logged(served)
    assert ticking.tick() == 0  # clean, but nobody approved the move to prod yet
    waiting = served.rollouts.status(staff(served, "ops"), ENDPOINT)
    approved_for_prod(served, "pd@2")
    still = served.registry.get("pd@2").stage
    assert ticking.tick() == 1

    assert waiting.awaiting == ["gate.approval.model_risk", "gate.approval.business_owner"]
    assert still == Stage.STAGING  # governance left the move to the rollout
    [request] = served.oversight.requests(staff(served, "aude"), model="pd")[-1:]
    assert (request.target, request.status) == (Stage.PROD, RequestStatus.EXECUTED)
    with served.metadata.reading() as tx:
        [done] = tx.rollouts.of(ENDPOINT)
    assert done.status == RolloutStatus.COMPLETED
    assert served.registry.get("pd@champion").number == 2
    assert served.registry.get("pd@1").stage == Stage.ARCHIVED
    assert served.registry.get("pd@2").stage == Stage.PROD
    actions = [e.action for e in audit_events(served)]
    assert actions.count("rollout.advanced") == 1
    assert {"rollout.deployed", "rollout.completed", "model.alias_set"} <= set(actions)
    assert {r.model_ref for r in decide(served, 5, start=500)} == {"pd@2"}
    report = served.audit.verify(staff(served, "aude"), deep=True)
    assert report.is_intact, report.disagreements  # stage and alias follow their events


def test_a_breach_rolls_back_records_why_and_opens_an_alert(served: Platform) -> None:
    """A p99 ceiling of 0 ms breaks on the first canary decision: traffic returns to the
    champion, the rollout keeps guardrail, value and threshold, a red alert is open."""
    served.rollouts.deploy(staff(served, "ops"), ENDPOINT, "pd@2",
                           plan=plan(canary(50, decisions=1000), p99_latency_ms=0.0))
    decide(served, 20)

    assert controller(served).tick() == 1

    with served.metadata.reading() as tx:
        [ended] = tx.rollouts.of(ENDPOINT)
        alerts = tx.alerts.all(endpoint=ENDPOINT, unresolved=True)
    assert ended.status == RolloutStatus.ROLLED_BACK
    assert ended.outcome["guardrail"] == "p99_latency_ms"
    assert ended.outcome["threshold"] == 0.0
    assert ended.outcome["value"] > 0
    assert [(a.metric, a.severity) for a in alerts] == [("rollout.p99_latency_ms", "red")]
    assert {r.route for r in decide(served, 50, start=100)} == {str(Route.CHAMPION)}
    rolled = [e for e in audit_events(served) if e.action == "rollout.rolled_back"]
    assert rolled[0].actor == SYSTEM.name
    assert rolled[0].payload["guardrail"] == "p99_latency_ms"


@pytest.mark.parametrize("platform_settings", [{"shadow_worker": "thread"}])  # to break it
def test_a_challenger_failing_in_shadow_breaks_the_error_rate_and_is_rolled_back(
        served: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    """Failed shadow work leaves no decision, but is recorded per rollout and counted by
    the error-rate guardrail: the challenger cannot hide its failures in shadow."""
    served.rollouts.deploy(staff(served, "ops"), ENDPOINT, "pd@2", plan=plan(
        {"kind": "shadow", "min_decisions": 1000, "min_duration_s": 0}, error_rate=0.5))
    decide(served, 1)  # loads the challenger
    logged(served)
    runtime = served.decisions.runtime
    routing = runtime.routing(runtime.endpoint(ENDPOINT))
    assert routing is not None

    def broken(_rows: object) -> None:
        raise RuntimeError("challenger broke")

    monkeypatch.setattr(routing.challenger.scorer, "score", broken)  # a model fault
    answered = decide(served, 12, start=1)
    records = logged(served)

    assert {r.route for r in answered} == {str(Route.CHAMPION)}  # nobody noticed
    assert Counter(r.route for r in records) == {"champion": 13, "shadow": 1}
    [failed] = [e for e in audit_events(served) if e.action == "rollout.shadow_failed"]
    assert failed.payload["requests"] == 12
    assert "challenger broke" in failed.payload["last_error"]
    assert served.decisions.shadow.counts.failed == 1  # one job: the call of 12
    assert controller(served).tick() == 1
    with served.metadata.reading() as tx:
        [ended] = tx.rollouts.of(ENDPOINT)
    assert ended.status == RolloutStatus.ROLLED_BACK
    assert ended.outcome["guardrail"] == "error_rate"
    assert ended.outcome["value"] == pytest.approx(12 / 13)
    assert ended.outcome["n"] == 13


def test_a_paused_rollout_holds_its_step(served: Platform) -> None:
    """model_risk pauses; the controller then neither advances nor rolls back; resumed, it
    acts again."""
    served.rollouts.deploy(staff(served, "ops"), ENDPOINT, "pd@2",
                           plan=plan(canary(50, decisions=1), p99_latency_ms=0.0))
    served.rollouts.pause(staff(served, "mira"), ENDPOINT, comment="looking")
    decide(served, 20)
    ticking = controller(served)

    assert ticking.tick() == 0
    served.rollouts.resume(staff(served, "ops"), ENDPOINT)
    assert ticking.tick() == 1


def test_model_risk_may_pause_but_not_roll_back(served: Platform) -> None:
    served.rollouts.deploy(staff(served, "ops"), ENDPOINT, "pd@2", plan=plan_for("shadow"))

    with pytest.raises(RoleDeniedError, match="rollout.rollback"):
        served.rollouts.rollback(staff(served, "mira"), ENDPOINT)
    rolled = served.rollouts.rollback(staff(served, "ops"), ENDPOINT, comment="not now")

    assert rolled.outcome == {"reason": "operator", "by": "ops", "comment": "not now"}
    with pytest.raises(NotFoundError):
        served.rollouts.pause(staff(served, "mira"), ENDPOINT)


def test_status_shows_steps_guardrails_and_routes(served: Platform) -> None:
    served.rollouts.deploy(staff(served, "ops"), ENDPOINT, "pd@2",
                           plan=plan(canary(50, decisions=1000)))
    decide(served, 40)

    shown = served.rollouts.status(staff(served, "aude"), ENDPOINT).describe()

    assert shown["status"] == "running"
    assert shown["current"]["share"] == 50.0
    assert set(shown["routes"]) == {"champion", "canary"}
    assert sum(shown["routes"].values()) == 40
    [error_rate] = shown["guardrails"]
    assert (error_rate["guardrail"], error_rate["value"], error_rate["threshold"]) == (
        "error_rate", 0.0, 0.5)
    assert shown["next"] == "wait"


def test_the_trajectory_judges_the_step_as_it_grew(served: Platform) -> None:
    """The guardrails over time: each moment judged on the decisions logged until then,
    samples that only grow, and the last moment as the controller judges the step now."""
    served.rollouts.deploy(staff(served, "ops"), ENDPOINT, "pd@2",
                           plan=plan(canary(50, decisions=1000)))
    decide(served, 40)
    logged(served)
    auditor = staff(served, "aude")

    moments = served.rollouts.trajectory(auditor, ENDPOINT, moments=4)
    now = served.rollouts.status(auditor, ENDPOINT)

    assert len(moments) == 4
    assert [at for at, _ in moments] == sorted(at for at, _ in moments)
    samples = [results[0].n for _, results in moments]
    assert samples == sorted(samples)
    assert moments[-1][1] == now.results
    with pytest.raises(InvalidInputError, match="outside 1..50"):
        served.rollouts.trajectory(auditor, ENDPOINT, moments=0)


def test_one_controller_leads_until_its_lease_expires(served: Platform) -> None:
    """A second controller does nothing while the first holds the lease, and takes over
    once it lapsed (the first died without releasing it)."""
    now = [datetime(2030, 1, 1, tzinfo=UTC)]
    first = controller(served, "first", clock=lambda: now[0])
    second = controller(served, "second", clock=lambda: now[0])

    assert first.lead()
    assert not second.lead()
    now[0] += timedelta(seconds=31)
    assert second.lead()
    assert not first.lead()


def _delong_variance(scores: Any, events: Any) -> float:
    """DeLong's variance from placement values, written out pair by pair."""
    positives, negatives = scores[events == 1], scores[events == 0]
    wins = (positives[:, None] > negatives[None, :]) + 0.5 * (
        positives[:, None] == negatives[None, :])
    return float(wins.mean(axis=1).var(ddof=1) / positives.size
                 + wins.mean(axis=0).var(ddof=1) / negatives.size)


def test_champion_and_challenger_are_compared_on_labels_with_a_recommendation(
        served: Platform) -> None:
    """During a 50 % canary, both routes' distributions show side by side; once labels
    matured and monitoring ran, the AUC difference is scikit-learn's, its p-value the
    two-sided z of hand-written DeLong variances, the challenger (whose customers' outcomes
    follow its scores) is recommended for promotion, and the controller records it."""
    import numpy as np  # noqa: PLC0415
    from scipy import stats  # noqa: PLC0415
    from sklearn.metrics import roc_auc_score  # noqa: PLC0415

    from bankml.monitoring.policy import DEFAULT, parse_policy  # noqa: PLC0415

    ops = staff(served, "ops")
    served.rollouts.deploy(ops, ENDPOINT, "pd@2", plan=plan(canary(50, decisions=10_000)))
    records = decide(served, 200) + decide(served, 200, start=200)
    before = served.rollouts.status(ops, ENDPOINT)
    rng = np.random.default_rng(11)
    outcome = {}
    for r in records:  # the challenger's customers default as it scores; the champion's not
        follows = r.route == "canary"
        # the challenger ranks its customers well (0.9 against 0.1 either side of 0.5),
        # whichever of them the salt sends it: the DeLong test rejects on any draw
        chance = (0.9 if r.score > 0.5 else 0.1) if follows else 0.3
        outcome[r.decision_id] = int(rng.random() < chance)
    served.labels.ingest(ops, [{"decision_id": d, "outcome": o, "observed_at": utc_timestamp(
        datetime.now(UTC) + timedelta(hours=1))} for d, o in outcome.items()], endpoint=ENDPOINT)
    policy = parse_policy(DEFAULT.read_text().replace(
        "maturity_days: {}", f"maturity_days: {{{ENDPOINT}: 0}}"), source="test policy")
    served.monitor.run(staff(served, "mira"), endpoint=ENDPOINT,
                       as_of=datetime.now(UTC) + timedelta(days=1), policy=policy)

    controller = Controller(served.metadata, served.rollouts, interval_s=1, lease_s=5)
    controller.tick()
    after = served.rollouts.status(ops, ENDPOINT)

    assert before.comparison["recommendation"] == "inconclusive"
    assert before.distributions["champion"]["n"] + before.distributions["challenger"][
        "n"] == 400
    aucs, variances = {}, {}
    for route in ("champion", "canary"):
        mine = [r for r in records if r.route == route]
        y = np.array([outcome[r.decision_id] for r in mine])
        s = np.array([r.score for r in mine])
        aucs[route], variances[route] = roc_auc_score(y, s), _delong_variance(s, y)
    difference = aucs["canary"] - aucs["champion"]
    p_value = 2 * stats.norm.sf(abs(difference) / np.sqrt(sum(variances.values())))
    found = after.comparison
    assert found["auc_difference"]["value"] == pytest.approx(difference, abs=1e-12)
    assert found["auc_difference"]["p_value"] == pytest.approx(p_value, rel=1e-9)
    assert p_value < 0.05 < difference
    assert found["recommendation"] == "promote"
    assert found["kpi_differences"]["kpi.override_rate"]["difference"] == 0.0
    assert after.rollout.comparison == found
    assert [e.payload["recommendation"] for e in audit_events(served)
            if e.action == "rollout.compared"] == ["promote"]


def test_promotion_needs_the_prod_approvals_and_a_rollback_withdraws_them(
        served: Platform) -> None:
    """Becoming champion early needs the four eyes the tier policy asks for, held plan or
    not: refused on the first missing approval, nothing changed. Approved, the request
    waits for the rollout; rolled back, it is withdrawn and no later evidence moves the
    challenger to prod."""
    ops = staff(served, "ops")
    held = Plan.from_data({"steps": [SHADOW], "guardrails": {"error_rate": 0.5},
                           "min_sample": 5, "hold": True})
    served.rollouts.deploy(ops, ENDPOINT, "pd@2", plan=held)
    with pytest.raises(ConflictError) as refused:
        served.rollouts.promote(ops, ENDPOINT, comment="looks fine")
    stage = served.registry.get("pd@2").stage
    still = served.rollouts.status(ops, ENDPOINT).rollout.status
    approved_for_prod(served, "pd@2")
    served.rollouts.rollback(ops, ENDPOINT, comment="deploy it again, not held")
    [withdrawn] = served.oversight.requests(ops, model="pd")[-1:]
    with served.metadata.transaction() as tx:
        served.oversight.reconsider(tx, "pd")
    after_rollback = served.registry.get("pd@2").stage

    served.rollouts.deploy(ops, ENDPOINT, "pd@2", plan=plan(SHADOW))
    approved_for_prod(served, "pd@2")
    served.rollouts.promote(ops, ENDPOINT, comment="looks fine")

    assert refused.value.rule == "gate.approval.model_risk"
    assert (stage, still) == (Stage.STAGING, RolloutStatus.RUNNING)
    assert withdrawn.status == RequestStatus.WITHDRAWN
    assert after_rollback == Stage.STAGING
    assert "transition.withdrawn" in [e.action for e in audit_events(served)]
    assert served.registry.get("pd@2").stage == Stage.PROD


def test_a_policy_asking_no_prod_approval_lets_a_promotion_move_as_its_actor(
        tmp_path: Path) -> None:
    """When the bank's prod step asks for no approval, promoting needs no request, and the
    move to prod is recorded as the promoter's, not the system's."""
    folder = tmp_path / "policies"
    shutil.copytree(DEFAULTS, folder)
    for tier_file in folder.glob("tier-*.yaml"):
        policy = yaml.safe_load(tier_file.read_text())
        policy["steps"]["prod"].pop("approvals", None)
        tier_file.write_text(yaml.safe_dump(policy))
    with Platform.open(tmp_path / "home", policies=folder) as lenient:
        with_challenger(lenient)
        eli = staff(lenient, "eli")
        lenient.rollouts.deploy(eli, ENDPOINT, "pd@2", plan=plan(SHADOW))

        lenient.rollouts.promote(eli, ENDPOINT, comment="no approval asked")

        assert lenient.registry.get("pd@2").stage == Stage.PROD
        assert lenient.oversight.requests(staff(lenient, "aude"), model="pd") == []
        [moved] = [e for e in audit_events(lenient) if e.action == "model.transitioned"
                   and e.subject == "model:pd@2" and e.payload["to"] == "prod"]
        assert moved.actor == "eli"
