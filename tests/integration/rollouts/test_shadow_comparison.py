"""A shadow challenger measured on labels, on both databases: each shadow decision takes the
label of the champion decision of the same call, and the two AUCs are compared on those
same applicants by the paired DeLong test; a shadow decision whose champion decision has
no label is left out, and counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from bankml import Platform
from bankml.core.canonical import utc_timestamp
from bankml.core.decisions import DecisionRecord
from bankml.core.registry import Stage
from bankml.core.rollouts import Plan
from bankml.monitoring.policy import DEFAULT, parse_policy
from bankml.rollouts import Controller
from bankml.validation.discrimination import compare_auc
from support.evidence import signed_off
from support.lifecycle import move_to
from support.people import staff
from support.served import tiny_endpoint

ENDPOINT = "pd-decisions"
UNLABELLED = 25  # champion decisions given no label: their shadows are left out
HELD_SHADOW = Plan.from_data({"steps": [{"kind": "shadow", "min_decisions": 5,
                                         "min_duration_s": 0}],
                              "guardrails": {"error_rate": 0.5}, "min_sample": 5,
                              "hold": True})


def with_reversed_challenger(platform: Platform) -> Platform:
    """pd@1 champion (risk rises with x0); pd@2 in staging, validated, ranking the other
    way: whichever model the outcomes follow, the other one is clearly worse."""
    tiny_endpoint(platform)
    rows = pd.DataFrame({"x0": np.random.default_rng(0).normal(size=40)})
    fitted = LogisticRegression().fit(rows, (rows["x0"] < 0).astype(int))
    challenger = platform.registry.register_sklearn(staff(platform, "dev"), "pd", fitted,
                                                    inputs=["x0"], metrics={})
    signed_off(platform, staff(platform, "vera"), challenger.ref, summary="sound")
    move_to(platform, challenger.ref, Stage.STAGING)
    return platform


def shadowed(platform: Platform, count: int) -> list[DecisionRecord]:
    ops = staff(platform, "ops")
    platform.rollouts.deploy(ops, ENDPOINT, "pd@2", plan=HELD_SHADOW)
    x0 = np.random.default_rng(3).normal(size=count)
    for start in range(0, count, 50):  # several calls, so pairs are found across calls
        platform.decisions.decide(ops, ENDPOINT, [
            {"customer_id": f"c{i}", "x0": float(x0[i])} for i in range(start, start + 50)])
    platform.decisions.shadow.drain()
    platform.decision_log.write([])  # the writer has committed everything before it
    with platform.metadata.reading() as tx:
        return list(tx.decisions.records(endpoint=ENDPOINT))


@pytest.mark.parametrize(("follows", "recommended"), [("shadow", "promote"),
                                                      ("champion", "keep_champion")])
def test_a_shadow_is_compared_on_the_champions_labels_by_the_paired_delong_test(
        platform: Platform, follows: str, recommended: str) -> None:
    """Outcomes follow one model's scores; the paired AUC difference and p-value are
    compare_auc's on the labelled pairs (its AUCs scikit-learn's), the shadows of the
    unlabelled champion decisions are left out and counted, the KPI deltas are the two
    models' on the same applicants (the bad rate among those each would approve),
and the rollout records the recommendation."""
    served = with_reversed_challenger(platform)
    ops = staff(served, "ops")
    records = shadowed(served, 300)
    champion = {r.customer_pseudo_id: r for r in records if r.route == "champion"}
    shadows = {r.customer_pseudo_id: r for r in records if r.route == "shadow"}
    assert champion.keys() == shadows.keys()
    assert len(champion) == 300
    rng = np.random.default_rng(11)
    outcome = {}
    for customer in list(champion)[UNLABELLED:]:
        score = (shadows if follows == "shadow" else champion)[customer].score
        outcome[customer] = int(rng.random() < (0.9 if score > 0.5 else 0.1))
    served.labels.ingest(ops, [
        {"decision_id": champion[c].decision_id, "outcome": o,
         "observed_at": utc_timestamp(datetime.now(UTC) + timedelta(hours=1))}
        for c, o in outcome.items()], endpoint=ENDPOINT)
    policy = parse_policy(DEFAULT.read_text().replace(
        "maturity_days: {}", f"maturity_days: {{{ENDPOINT}: 0}}"), source="test policy")

    [run] = served.monitor.run(staff(served, "mira"), endpoint=ENDPOINT,
                               as_of=datetime.now(UTC) + timedelta(days=1), policy=policy)
    Controller(served.metadata, served.rollouts, interval_s=1, lease_s=5).tick()
    found = served.rollouts.status(ops, ENDPOINT).comparison

    y = np.array(list(outcome.values()))
    mine = np.array([shadows[c].score for c in outcome])
    theirs = np.array([champion[c].score for c in outcome])
    expected = compare_auc(y, mine, theirs)
    assert expected.auc_a == pytest.approx(roc_auc_score(y, mine), abs=1e-12)
    assert expected.auc_b == pytest.approx(roc_auc_score(y, theirs), abs=1e-12)
    auc = found["auc_difference"]
    assert auc["value"] == pytest.approx(expected.difference, abs=1e-12)
    assert auc["p_value"] == pytest.approx(expected.p_value, rel=1e-9)
    assert expected.p_value < 0.05
    assert (auc["n"], auc["champion_auc"]) == (300 - UNLABELLED, pytest.approx(expected.auc_b))
    assert "DeLong, paired" in auc["detail"]
    assert f"{UNLABELLED} matured shadow decisions left out" in auc["detail"]
    assert found["recommendation"] == recommended
    assert "paired DeLong" in found["reason"]
    bad = found["kpi_differences"]["kpi.bad_rate_approved"]
    approved = [[c for c in outcome if side[c].outcome == "approve"]  # of the labelled pairs
                for side in (shadows, champion)]
    rates = [np.mean([outcome[c] for c in chosen]) for chosen in approved]
    assert (bad["difference"], bad["champion"], bad["n"]) == (
        pytest.approx(rates[0] - rates[1]), pytest.approx(rates[1]), len(approved[0]))
    labelled = {p.metric: p for p in served.monitor.points(ops, run.run_id)
                if p.route == "shadow" and p.metric == "performance.labelled"}
    assert (labelled["performance.labelled"].value,
            labelled["performance.labelled"].n) == (300 - UNLABELLED, 300)
