"""Business KPIs by domain and champion against challenger, on hand-checked windows; the
challenger's AUC difference against scikit-learn and a DeLong variance by definition."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from bankml.core.domains import profile
from bankml.core.monitoring import MetricPoint, Status
from bankml.core.registry import Domain
from bankml.monitoring.challenger import Measured, challenger_points
from bankml.monitoring.kpis import Matured, kpi_points
from bankml.monitoring.policy import KpiInputs
from bankml.monitoring.window import WindowColumns


def _point(metric: str, value: float | None, n: int, **extra: Any) -> MetricPoint:
    extra.pop("judged", None)
    return MetricPoint(metric=metric, model="m@1", route="champion", value=value, n=n,
                       status=Status.INFO, **extra)


def _window(outcomes: list[str], scores: list[float], *, route: str = "champion",
            overridden: dict[int, str] | None = None, **inputs: list[Any]) -> WindowColumns:
    n, changed = len(outcomes), overridden or {}
    return WindowColumns(model="m@1", route=route, decision_ids=[f"d{i}" for i in range(n)],
                         decided_at=["2026-01-01T00:00:00.000000Z"] * n, scores=scores,
                         outcomes=outcomes, overrides=[changed.get(i) for i in range(n)],
                         inputs=dict(inputs))


def _all(window: WindowColumns, events: list[int], rows: list[int] | None = None) -> Matured:
    """The window's own decisions as the matured cohort (a maturity of 0 days)."""
    chosen = list(range(len(events))) if rows is None else rows
    return Matured(window=window, mature=len(chosen), rows=np.asarray(chosen, dtype=np.int64),
                   events=np.asarray([events[i] for i in chosen], dtype=np.int64))


def _kpis(domain: Domain, window: WindowColumns, matured: Matured, *,
          inputs: KpiInputs | None = None) -> dict[str, float | None]:
    return {p.metric: p.value for p in kpi_points(
        _point, window, domain=profile(domain), matured=matured,
        inputs=inputs or KpiInputs())}


def test_fraud_caught_value_false_positives_and_overrides() -> None:
    """Three frauds, two stopped (100 + 30); two of seven genuine payments stopped; one
    decision of ten overridden."""
    outcomes = ["block", "block", "challenge", "allow", "allow", "allow", "allow", "allow",
                "block", "allow"]
    window = _window(outcomes, [0.5] * 10, overridden={3: "block"},
                     amount=[100, 50, 30, 70, 1, 1, 1, 1, 9, 1])
    kpis = _kpis(Domain.FRAUD, window, _all(window, [1, 0, 1, 1, 0, 0, 0, 0, 0, 0]),
                 inputs=KpiInputs(value_field="amount"))

    assert kpis["kpi.fraud_caught"] == 2
    assert kpis["kpi.fraud_value_caught"] == 130
    assert kpis["kpi.false_positive_rate"] == pytest.approx(2 / 7)
    assert (kpis["kpi.challenge_rate"], kpis["kpi.block_rate"]) == (0.1, 0.3)
    assert kpis["kpi.override_rate"] == 0.1


def test_aml_volume_and_conversion_on_matured_alerts_only() -> None:
    """Three alerts of five; of the matured alerts (the last decision is immature) one in
    three became a SAR."""
    window = _window(["alert", "alert", "alert", "no_alert", "no_alert"], [0.9] * 5)
    kpis = _kpis(Domain.AML, window, _all(window, [1, 0, 0, 0, 1], rows=[0, 1, 2, 3]))

    assert (kpis["kpi.alert_volume"], kpis["kpi.alert_rate"]) == (3, 0.6)
    assert kpis["kpi.alert_to_sar"] == pytest.approx(1 / 3)


def test_propensity_take_up_and_top_decile_lift() -> None:
    """Four takers in twenty, both of the top two scores among them: lift 1.0 / 0.2 = 5;
    three of the ten offers taken."""
    events = [1, 1, 0, 0, 0, 1] + [0] * 9 + [1] + [0] * 4
    window = _window(["offer"] * 10 + ["no_offer"] * 10, [(20 - i) / 20 for i in range(20)])
    kpis = _kpis(Domain.PROPENSITY, window, _all(window, events))

    assert kpis["kpi.lift"] == pytest.approx(5.0)
    assert kpis["kpi.take_up_rate"] == pytest.approx(0.3)


def test_credit_bad_rate_of_approved_and_expected_loss() -> None:
    """EL = 0.45 x (0.1 x 1000 + 0.2 x 2000 + 0.05 x 4000) = 315 over the three approved;
    one of them defaulted."""
    window = _window(["approve", "approve", "approve", "refer", "decline"],
                     [0.1, 0.2, 0.05, 0.5, 0.9], credit_amount=[1000, 2000, 4000, 500, 800])
    kpis = _kpis(Domain.CREDIT, window, _all(window, [1, 0, 0, 1, 1]),
                 inputs=KpiInputs(lgd=0.45, ead_field="credit_amount"))

    assert kpis["kpi.expected_loss"] == pytest.approx(315.0)
    assert kpis["kpi.bad_rate_approved"] == pytest.approx(1 / 3)
    assert kpis["kpi.refer_rate"] == 0.2


def test_expected_loss_is_not_guessed_without_lgd_and_exposure() -> None:
    window = _window(["approve"], [0.1], credit_amount=[1000])
    assert _kpis(Domain.CREDIT, window, _all(window, [0]))["kpi.expected_loss"] is None


def _delong_variance(scores: np.ndarray, events: np.ndarray) -> float:
    """DeLong's variance from placement values, written out pair by pair."""
    positives, negatives = scores[events == 1], scores[events == 0]
    wins = (positives[:, None] > negatives[None, :]) + 0.5 * (
        positives[:, None] == negatives[None, :])
    return float(wins.mean(axis=1).var(ddof=1) / positives.size
                 + wins.mean(axis=0).var(ddof=1) / negatives.size)


def test_challenger_auc_difference_and_kpi_deltas() -> None:
    """The AUC difference is scikit-learn's, its p-value the two-sided z of independent
    DeLong variances, and each shared KPI a delta against the champion's."""
    rng = np.random.default_rng(5)
    measured = []
    for route, strength in (("champion", 1.0), ("challenger", 2.0)):
        events = (rng.random(400) < 0.3).astype(np.int64)
        scores = rng.normal(size=400) + strength * events
        window = _window(["approve"] * 300 + ["decline"] * 100, scores.tolist(), route=route)
        matured = _all(window, events.tolist())
        points = [_point("kpi.refer_rate", 0.1 if route == "champion" else 0.25, 400)]
        measured.append((Measured(window=window, matured=matured, points=points),
                         scores, events))
    (champion, s0, y0), (challenger, s1, y1) = measured

    found = {p.metric: p for p in challenger_points(champion, challenger)}

    difference = found["challenger.auc_difference"]
    assert difference.value == pytest.approx(roc_auc_score(y1, s1) - roc_auc_score(y0, s0),
                                             abs=1e-12)
    z = difference.value / np.sqrt(_delong_variance(s0, y0) + _delong_variance(s1, y1))
    assert difference.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    assert difference.route == "challenger"
    assert found["challenger.delta[kpi.refer_rate]"].value == pytest.approx(0.15)


def _shadow(labels: list[int | None]) -> Measured:
    """Six shadow decisions, their paired champion's scores and outcomes (the fourth has no
    champion decision in the window), each with its champion decision's label."""
    window = _window(["approve", "approve", "approve", "approve", "approve", "refer"],
                     [0.2, 0.8, 0.5, 0.5, 0.7, 0.3], route="shadow")
    window.labels = labels
    window.champion_scores = np.array([0.1, 0.9, 0.4, np.nan, 0.6, 0.95])
    window.champion_outcomes = ["approve", "decline", "approve", None, "refer", "approve"]
    rows = [i for i, label in enumerate(labels) if label is not None]
    matured = Matured(window=window, mature=len(labels), rows=np.asarray(rows, dtype=np.int64),
                      events=np.asarray([labels[i] for i in rows], dtype=np.int64))
    points = [_point(m, 0.0, 6) for m in ("kpi.approve_rate", "kpi.bad_rate_approved",
                                          "kpi.expected_loss")]
    return Measured(window=window, matured=matured, points=points)


def test_a_shadow_is_compared_on_the_same_applicants() -> None:
    """By hand: on the labelled pairs (decisions 0, 1, 4, 5; events 0, 1, 1, 0) the shadow
    ranks perfectly (AUC 1) and the champion wins half its pairs (0.9 and 0.6 above 0.1,
    below 0.95: AUC 0.5); the approve rate over the five paired decisions is 4/5 against
    3/5; the bad rate of those each approves of the labelled pairs is 2/3 (0, 1, 4)
    against 0 (0, 5); a KPI a pair cannot give is not compared; the two matured shadow
    decisions without a labelled champion decision are counted."""
    champion = Measured(window=_window([], []), matured=_all(_window([], []), []), points=[])

    found = {p.metric: p for p in challenger_points(champion, _shadow([0, 1, None, None, 1,
                                                                       0]))}

    auc = found["challenger.auc_difference"]
    assert (auc.value, auc.baseline, auc.n, auc.route) == (0.5, 0.5, 4, "shadow")
    assert auc.p_value is not None
    assert "DeLong, paired" in auc.detail
    assert "2 matured shadow decisions left out" in auc.detail
    approve = found["challenger.delta[kpi.approve_rate]"]
    assert (approve.value, approve.baseline, approve.n) == (pytest.approx(0.2), 0.6, 5)
    bad = found["challenger.delta[kpi.bad_rate_approved]"]
    assert (bad.value, bad.baseline, bad.n) == (pytest.approx(2 / 3), 0.0, 3)
    assert "challenger.delta[kpi.expected_loss]" not in found


def test_a_shadow_whose_labelled_pairs_are_of_one_class_is_not_compared() -> None:
    champion = Measured(window=_window([], []), matured=_all(_window([], []), []), points=[])

    [auc, *_] = challenger_points(champion, _shadow([0, 0, None, None, 0, None]))

    assert (auc.metric, auc.value, auc.p_value, auc.n) == (
        "challenger.auc_difference", None, None, 3)
    assert auc.detail.startswith("needs matured labels of both classes")
    assert "3 matured shadow decisions left out" in auc.detail
