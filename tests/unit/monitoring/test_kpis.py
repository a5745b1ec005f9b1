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
