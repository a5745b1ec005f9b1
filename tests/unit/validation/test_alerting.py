"""Alert budgets, precision@k, sampling sizes, Clopper-Pearson bounds and lift tables."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import precision_score, recall_score

from bankml.core.errors import InvalidInputError
from bankml.validation.alerting import (
    alert_budget,
    lift_table,
    precision_at_k,
    productive_rate,
    zero_defect_sample_size,
)


def transactions(seed: int = 4, n: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    fraud = (rng.random(n) < 0.05).astype(int)
    scores = rng.normal(fraud * 1.5, 1.0)
    amounts = rng.lognormal(4, 1, n)
    return fraud, scores, amounts


def test_budget_precision_and_recall_match_sklearn() -> None:
    """At a 5% budget, precision and recall equal scikit-learn's on the alerted flags."""
    fraud, scores, _ = transactions()
    alerted = np.zeros(fraud.size, int)
    alerted[np.argsort(-scores, kind="stable")[:100]] = 1

    result = alert_budget(fraud, scores, budget=0.05)

    assert (result.alerts, result.alert_rate) == (100, 0.05)
    assert result.precision == pytest.approx(precision_score(fraud, alerted), abs=1e-12)
    assert result.recall == pytest.approx(recall_score(fraud, alerted), abs=1e-12)


def test_value_detection_rate_is_the_caught_share_of_fraud_value() -> None:
    """Value detection = fraud amount among alerts / all fraud amount."""
    fraud, scores, amounts = transactions()
    top = np.argsort(-scores, kind="stable")[:100]
    caught = amounts[top][fraud[top] == 1].sum()

    result = alert_budget(fraud, scores, budget=100, values=amounts)

    assert result.value_detection_rate == pytest.approx(caught / amounts[fraud == 1].sum(),
                                                        rel=1e-12)


def test_precision_at_k_breaks_ties_by_row_order() -> None:
    """With all scores tied, the first k rows are alerted."""
    assert precision_at_k([1, 0, 1, 1], [0.5, 0.5, 0.5, 0.5], 2) == 0.5


def test_zero_defect_sample_size_is_59_at_95_and_5() -> None:
    """n = ceil(ln 0.05 / ln 0.95) = 59, the textbook attribute-sampling figure."""
    assert zero_defect_sample_size(confidence=0.95, max_rate=0.05) == 59


def test_productive_rate_bound_matches_scipy_clopper_pearson() -> None:
    """The one-sided upper bound equals SciPy's exact (Clopper-Pearson) interval."""
    reference = stats.binomtest(3, 59, alternative="less").proportion_ci(
        confidence_level=0.95, method="exact")

    result = productive_rate(3, 59, confidence=0.95)

    assert result.upper_bound == pytest.approx(reference.high, rel=1e-9)


def test_lift_table_by_decile() -> None:
    """Deciles hold 200 cases; gains reach 1; lift = decile rate / overall rate."""
    fraud, scores, _ = transactions()
    ranked = fraud[np.argsort(-scores, kind="stable")]

    table = lift_table(fraud, scores)

    assert table.cases.tolist() == [200] * 10
    assert table.events.tolist() == [int(ranked[i * 200:(i + 1) * 200].sum())
                                     for i in range(10)]
    assert table.cumulative_gain.iloc[-1] == pytest.approx(1.0)
    assert table.lift.iloc[0] == pytest.approx(ranked[:200].mean() / fraud.mean())


def test_budget_above_the_cases_is_refused() -> None:
    """More alerts than cases is an error naming the count."""
    fraud, scores, _ = transactions()

    with pytest.raises(InvalidInputError, match="5000 alerts is not in 1..2000"):
        alert_budget(fraud, scores, budget=5000)


def test_unit_weights_budget_as_the_unweighted_one() -> None:
    """Weights of 1 stand for the rows themselves: the same alerts and figures."""
    fraud, scores, amounts = transactions()

    weighted = alert_budget(fraud, scores, budget=0.05, values=amounts,
                            weights=np.ones(fraud.size))

    assert weighted == alert_budget(fraud, scores, budget=0.05, values=amounts)


def test_a_weighted_budget_of_a_hand_checked_sample() -> None:
    """Five rows weighing 1, 10, 1, 20, 28 (60 in all): a 15 % budget (9) alerts only the
    top row, whose weight fits; it is one of the two frauds (weight 1 each)."""
    fraud, scores = np.array([1, 0, 1, 0, 0]), np.array([0.9, 0.8, 0.7, 0.2, 0.1])
    weights, amounts = np.array([1.0, 10, 1, 20, 28]), np.array([100.0, 5, 50, 5, 5])

    result = alert_budget(fraud, scores, budget=0.15, values=amounts, weights=weights)
    wider = alert_budget(fraud, scores, budget=0.20, values=amounts, weights=weights)

    assert (result.alerts, result.precision, result.recall) == (1, 1.0, 0.5)
    assert result.alert_rate == pytest.approx(1 / 60)
    assert result.value_detection_rate == pytest.approx(100 / 150)
    assert (wider.alerts, wider.recall, wider.value_detection_rate) == (3, 1.0, 1.0)
    assert wider.precision == pytest.approx(2 / 12)


def test_a_weighted_budget_refuses_a_row_count() -> None:
    fraud, scores, _ = transactions()

    with pytest.raises(InvalidInputError) as refused:
        alert_budget(fraud, scores, budget=10, weights=np.ones(fraud.size))

    assert (refused.value.field, refused.value.rule) == ("budget", "validation.count")
