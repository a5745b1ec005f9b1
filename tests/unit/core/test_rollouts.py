"""Rollout rules: plans and their refusals, sticky routing, guardrails and step advancement."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from fairlearn.metrics import demographic_parity_ratio
from scipy import stats

from bankml.core.errors import ConflictError, InvalidInputError
from bankml.core.rollouts import (
    DEFAULT_GUARDRAILS,
    Guardrail,
    Measurement,
    Move,
    Plan,
    Rollout,
    RolloutStatus,
    Route,
    Step,
    StepKind,
    Strategy,
    Verdict,
    arm_for,
    check_challenger,
    disparate_impact,
    judge,
    next_move,
    percentile,
    plan_for,
)

PLAN: dict[str, Any] = {
    "steps": [{"kind": "shadow", "min_decisions": 10, "min_duration_s": 0},
              {"kind": "canary", "share": 5, "min_decisions": 10, "min_duration_s": 60},
              {"kind": "canary", "share": 50, "min_decisions": 10, "min_duration_s": 0}],
    "guardrails": {"error_rate": 0.01, "score_psi": 0.2, "disparate_impact": 0.8},
    "min_sample": 100,
}


def rollout(step: int = 1, status: RolloutStatus = RolloutStatus.RUNNING) -> Rollout:
    return Rollout(rollout_id=1, endpoint="credit-pd", model="pd", champion=1, challenger=2,
                   plan=Plan.from_data(PLAN), salt="s4lt", status=status, step=step,
                   step_started_at="2026-01-01T00:00:00Z", created_at="2026-01-01T00:00:00Z",
                   created_by="ops")


def test_a_plan_reads_from_its_yaml_form_and_back() -> None:
    """Steps keep their order and minimums; a shadow step's share defaults to 100 %."""
    plan = Plan.from_data(PLAN)

    assert [(s.kind, s.share) for s in plan.steps] == [
        (StepKind.SHADOW, 100.0), (StepKind.CANARY, 5.0), (StepKind.CANARY, 50.0)]
    assert Plan.from_data(plan.describe()) == plan


@pytest.mark.parametrize(("change", "field", "rule"), [
    ({"steps": [{"kind": "canary", "share": 25}, {"kind": "canary", "share": 25}]},
     "steps[1].share", "rollout.shares_increase"),
    ({"steps": [{"kind": "canary", "share": 50}, {"kind": "canary", "share": 5}]},
     "steps[1].share", "rollout.shares_increase"),
    ({"steps": [{"kind": "canary", "share": 120}]}, "steps[0].share", "rollout.share_range"),
    ({"steps": [{"kind": "canary", "share": 0}]}, "steps[0].share", "rollout.share_range"),
    ({"steps": [{"kind": "canary", "share": -5}]}, "steps[0].share", "rollout.share_range"),
    ({"guardrails": {"accuracy": 0.9}}, "guardrails.accuracy", "rollout.guardrail_known"),
    ({"guardrails": {"score_psi": -1}}, "guardrails.score_psi", "rollout.threshold"),
    ({"steps": [{"kind": "canary", "share": 5}, {"kind": "shadow"}]}, "steps[1].kind",
     "rollout.shadow_first"),
    ({"steps": [{"kind": "blue"}]}, "steps[0].kind", "rollout.step_kind"),
    ({"steps": [{"kind": "canary", "share": "half"}]}, "steps[0].share", "rollout.number"),
    ({"steps": [{"kind": "canary", "share": 5, "weight": 1}]}, "steps[0].weight",
     "rollout.plan_field"),
    ({"rollback": True}, "plan.rollback", "rollout.plan_field"),
])
def test_a_bad_plan_is_refused_naming_field_and_rule(change: dict[str, Any], field: str,
                                                     rule: str) -> None:
    """Each broken rule is named with the field at fault."""
    with pytest.raises(InvalidInputError) as refused:
        Plan.from_data({**PLAN, **change})

    assert (refused.value.field, refused.value.rule) == (field, rule)


@pytest.mark.parametrize(("strategy", "kinds"), [
    ("shadow", ["shadow", "canary", "canary", "canary"]),
    ("canary", ["canary", "canary", "canary"]),
    ("full", []),
])
def test_each_strategy_has_its_default_plan(strategy: str, kinds: list[str]) -> None:
    """shadow then 5/25/50 % canary, canary alone, or straight to full, all guardrails on."""
    plan = plan_for(strategy)

    assert [str(s.kind) for s in plan.steps] == kinds
    assert plan.guardrails == DEFAULT_GUARDRAILS


def test_an_unknown_strategy_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="not one of") as refused:
        plan_for("big-bang")
    assert (refused.value.field, refused.value.rule) == ("strategy", "rollout.strategy")


def test_the_challenger_is_another_version_of_the_same_model() -> None:
    """A version of another model, or the champion itself, is refused."""
    with pytest.raises(InvalidInputError) as other:
        check_challenger("pd", 1, "fraud", 2)
    with pytest.raises(InvalidInputError) as same:
        check_challenger("pd", 1, "pd", 1)

    assert (other.value.field, other.value.rule) == ("version", "rollout.same_model")
    assert same.value.rule == "rollout.not_champion"


def test_routing_is_sticky_per_customer() -> None:
    """The same pseudonymised id goes to the same arm on every call during a step."""
    ids = [f"customer-{i}" for i in range(2_000)]

    first = [arm_for(i, "salt-a", 25.0) for i in ids]

    assert all([arm_for(i, "salt-a", 25.0) for i in ids] == first for _ in range(3))


def test_a_customer_in_the_canary_stays_there_as_the_share_grows() -> None:
    """Buckets are fixed, so a step with a larger share keeps every earlier canary customer."""
    ids = [f"c{i}" for i in range(5_000)]
    at5 = {i for i in ids if arm_for(i, "s", 5.0) == Route.CANARY}
    at25 = {i for i in ids if arm_for(i, "s", 25.0) == Route.CANARY}

    assert at5 <= at25


@pytest.mark.parametrize("share", [5.0, 25.0, 50.0])
def test_the_observed_share_matches_the_declared_one(share: float) -> None:
    """Over 20 000 customers the canary count lies in SciPy's 99.99 % binomial interval."""
    n = 20_000
    sent = sum(arm_for(f"id-{i}", "rollout-7", share) == Route.CANARY for i in range(n))

    low, high = stats.binom.interval(0.9999, n, share / 100)
    assert low <= sent <= high


def test_the_salt_makes_rollouts_independent() -> None:
    """Two rollouts pick different 25 % of customers (overlap near 25 % of 25 %)."""
    ids = [f"id-{i}" for i in range(20_000)]
    a = {i for i in ids if arm_for(i, "one", 25.0) == Route.CANARY}
    b = {i for i in ids if arm_for(i, "two", 25.0) == Route.CANARY}

    assert 0.04 < len(a & b) / len(ids) < 0.085


def test_only_a_canary_step_routes_and_shadow_copies() -> None:
    """Shadow: every customer is answered by the champion, 100 % copied; canary: no copy."""
    shadow, canary = rollout(step=0), rollout(step=1)
    ids = [f"c{i}" for i in range(500)]

    assert {shadow.route_for(i) for i in ids} == {Route.CHAMPION}
    assert shadow.shadows == 100.0
    assert Route.CANARY in {canary.route_for(i) for i in ids}
    assert canary.shadows == 0.0


def test_a_rolled_back_rollout_routes_everyone_to_the_champion() -> None:
    done = rollout().moved_to(RolloutStatus.ROLLED_BACK, at="2026-01-01T01:00:00Z")

    assert {done.route_for(f"c{i}") for i in range(500)} == {Route.CHAMPION}
    assert done.ended_at == "2026-01-01T01:00:00Z"


def test_an_ended_rollout_does_not_move_again() -> None:
    done = rollout().moved_to(RolloutStatus.ROLLED_BACK, at="t")

    with pytest.raises(ConflictError, match="Allowed next: none") as refused:
        done.moved_to(RolloutStatus.RUNNING, at="t")
    assert refused.value.rule == "rollout.transition"


def test_a_statistical_guardrail_waits_for_its_sample() -> None:
    """PSI over 50 decisions is not judged (min_sample 100); the error rate is."""
    plan = Plan.from_data(PLAN)
    results = judge(plan, [Measurement(guardrail=Guardrail.SCORE_PSI, value=0.9, n=50),
                           Measurement(guardrail=Guardrail.ERROR_RATE, value=0.0, n=50)])

    verdicts = {r.guardrail: r.verdict for r in results}
    assert verdicts == {Guardrail.SCORE_PSI: Verdict.WAITING, Guardrail.ERROR_RATE: Verdict.OK,
                        Guardrail.DISPARATE_IMPACT: Verdict.WAITING}


def test_ceilings_and_floors_breach_on_their_side() -> None:
    plan = Plan.from_data(PLAN)
    results = judge(plan, [Measurement(guardrail=Guardrail.SCORE_PSI, value=0.21, n=100),
                           Measurement(guardrail=Guardrail.DISPARATE_IMPACT, value=0.79, n=100),
                           Measurement(guardrail=Guardrail.ERROR_RATE, value=0.01, n=100)])

    assert {r.guardrail: r.verdict for r in results} == {
        Guardrail.SCORE_PSI: Verdict.BREACH, Guardrail.DISPARATE_IMPACT: Verdict.BREACH,
        Guardrail.ERROR_RATE: Verdict.OK}


def _judged(psi: float, n: int = 100) -> list[Any]:
    return judge(Plan.from_data(PLAN), [
        Measurement(guardrail=Guardrail.SCORE_PSI, value=psi, n=n),
        Measurement(guardrail=Guardrail.ERROR_RATE, value=0.0, n=n),
        Measurement(guardrail=Guardrail.DISPARATE_IMPACT, value=None, n=n)])


def test_a_breach_rolls_back_before_the_step_minimums() -> None:
    move, breach = next_move(rollout(), _judged(0.5), decisions=1, elapsed_s=0)

    assert move == Move.ROLL_BACK
    assert breach is not None
    assert (breach.guardrail, breach.value, breach.threshold) == (Guardrail.SCORE_PSI, 0.5, 0.2)


def test_a_clean_step_waits_for_its_minimums_then_advances() -> None:
    """Step 1 needs 10 decisions and 60 s; a guardrail that cannot be measured here (no
    monitoring attributes) does not hold it."""
    judged = _judged(0.01)

    assert next_move(rollout(), judged, decisions=9, elapsed_s=61)[0] == Move.WAIT
    assert next_move(rollout(), judged, decisions=10, elapsed_s=59)[0] == Move.WAIT
    assert next_move(rollout(), judged, decisions=10, elapsed_s=60)[0] == Move.ADVANCE


def test_a_step_is_not_clean_until_its_statistics_were_judged() -> None:
    """PSI measured on too few decisions holds the step even past its minimums."""
    assert next_move(rollout(), _judged(0.01, n=20), decisions=20, elapsed_s=600)[0] == Move.WAIT


def test_the_last_clean_step_promotes() -> None:
    assert next_move(rollout(step=2), _judged(0.01), decisions=10, elapsed_s=0)[0] == Move.PROMOTE


def test_a_held_plan_waits_at_its_last_clean_step_and_still_rolls_back() -> None:
    """A held plan (a retraining's shadow challenger) advances through its steps but never
    promotes on its own, and a breach still rolls it back; `hold` survives its data form."""
    held = replace(rollout(step=2), plan=Plan.from_data({**PLAN, "hold": True}))

    assert next_move(replace(held, step=1), _judged(0.01), decisions=10,
                     elapsed_s=60)[0] == Move.ADVANCE
    assert next_move(held, _judged(0.01), decisions=10, elapsed_s=600)[0] == Move.WAIT
    assert next_move(replace(held, step=3), _judged(0.01), decisions=10,
                     elapsed_s=0)[0] == Move.WAIT
    assert next_move(held, _judged(0.9), decisions=10, elapsed_s=600)[0] == Move.ROLL_BACK
    assert Plan.from_data(held.plan.describe()) == held.plan
    with pytest.raises(InvalidInputError) as refused:
        Plan.from_data({**PLAN, "hold": "yes"})
    assert (refused.value.field, refused.value.rule) == ("hold", "rollout.plan_shape")


def test_a_paused_rollout_neither_advances_nor_rolls_back() -> None:
    paused = rollout(status=RolloutStatus.PAUSED)

    assert next_move(paused, _judged(0.9), decisions=10, elapsed_s=600)[0] == Move.WAIT


def test_disparate_impact_agrees_with_fairlearn() -> None:
    """The lowest group's favourable rate over the highest's is fairlearn's
    demographic parity ratio."""
    rng = np.random.default_rng(3)
    groups = rng.choice(["a", "b", "c"], size=600).tolist()
    favourable = (rng.random(600) < np.where(np.array(groups) == "a", 0.5, 0.7)).tolist()

    ours = disparate_impact(favourable, groups)

    reference = demographic_parity_ratio(np.zeros(600), np.array(favourable, dtype=int),
                                         sensitive_features=np.array(groups))
    assert ours == pytest.approx(reference, abs=1e-12)


def test_the_nearest_rank_p99_is_numpys_inverted_cdf() -> None:
    values = np.random.default_rng(1).exponential(size=1_001).tolist()

    assert percentile(values, 99) == np.percentile(values, 99, method="inverted_cdf")


def test_a_step_with_a_negative_minimum_is_refused() -> None:
    with pytest.raises(InvalidInputError) as refused:
        Plan(steps=(Step(kind=StepKind.CANARY, share=5, min_decisions=-1),))
    assert refused.value.rule == "rollout.step_minimum"


def test_advancing_starts_the_next_step_now() -> None:
    moved = rollout().advanced(at="2026-01-02T00:00:00Z")

    assert (moved.step, moved.step_started_at) == (2, "2026-01-02T00:00:00Z")
    assert replace(moved, step=1, step_started_at=rollout().step_started_at) == rollout()


def test_strategy_values_are_the_cli_words() -> None:
    assert [str(s) for s in Strategy] == ["shadow", "canary", "full"]
