"""The credit battery on synthetic rows, its counts checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bankml.core.registry import Domain
from bankml.validation.battery import BatteryResult, Population, Reference, run_battery
from bankml.validation.policy import default_policy


def credit_battery(scores: np.ndarray, labels: np.ndarray,
                   reference_scores: np.ndarray) -> BatteryResult:
    """The shipped credit policy's statistical tests (no soundness or explanations)."""
    inputs = pd.DataFrame({"x": scores})
    population = Population(name="out_of_time", inputs=inputs, labels=labels, scores=scores,
                            protected=pd.DataFrame(index=inputs.index))
    reference = Reference(inputs=pd.DataFrame({"x": reference_scores}),
                          scores=reference_scores)
    return run_battery(default_policy(Domain.CREDIT), Domain.CREDIT, population, reference,
                       model=lambda frame: frame["x"].to_numpy(), explain_model=None,
                       decision_cutoffs={}, full=False)


def test_concentration_counts_empty_grades_in_k() -> None:
    """The Herfindahl index runs over every master-scale grade (K = 9 for the shipped
    8-bound scale), empty ones included, as ECB 2.5.5.3 and docs/validation.md say."""
    rng = np.random.default_rng(1)
    scores = rng.choice([0.003, 0.03, 0.2], size=300)  # grades G2, G6 and G8 only
    labels = (rng.random(300) < scores).astype(np.int64)
    reference = rng.choice([0.003, 0.03, 0.06, 0.2], size=300)

    result = credit_battery(scores, labels, reference)

    [test] = [t for t in result.tests if t.test == "stability.concentration"]
    counts = np.bincount(np.searchsorted(default_policy(Domain.CREDIT).parameters.master_scale,
                                         scores), minlength=9)
    shares = counts / counts.sum()
    assert result.details.charts["concentration"]["grades"] == 9
    assert test.value == pytest.approx(1 + math.log(np.sum(shares**2)) / math.log(9),
                                       abs=1e-12)


def test_calibration_reads_pds_raised_to_the_policy_floor() -> None:
    """A PD of exactly 0 (isotonic calibration on few rows) is raised to the policy's floor
    (CRR Art. 160(1), 0.03 %) before the calibration tests, and the floor is recorded:
    Jeffreys p of the zero-PD grade is SciPy's Beta cdf at the floor, not 0."""
    scores = np.array([0.0] * 7 + [0.02] * 6)
    labels = np.array([1] + [0] * 12)

    result = credit_battery(scores, labels, scores[::-1].copy())

    tests = {t.test: t for t in result.tests}
    floored = np.maximum(scores, 0.0003)
    expected = stats.beta.cdf(floored.mean(), 1 + 0.5, 12 + 0.5)
    assert tests["calibration.jeffreys_portfolio"].p_value == pytest.approx(expected,
                                                                            abs=1e-12)
    worst = tests["calibration.jeffreys_grades"]  # G1: the seven zeros, one default
    assert worst.p_value == pytest.approx(stats.beta.cdf(0.0003, 1 + 0.5, 6 + 0.5), abs=1e-12)
    assert worst.p_value > 0
    assert math.isfinite(tests["calibration.hosmer_lemeshow"].value)
    assert "PD floor 0.0300% on 7 rows" in tests["calibration.jeffreys_portfolio"].detail
    recorded = result.details.charts["pd_floor"]
    assert (recorded["value"], recorded["tag"], recorded["rows_floored"]) == (
        0.0003, "regulation", 7)
    assert "CRR Art. 160(1)" in recorded["source"]


def test_the_gini_detail_gives_the_ginis_interval() -> None:
    """The AUC test's detail states the Gini with the Gini's own 95 % interval, 2 AUC - 1
    at both DeLong bounds, not the AUC's interval next to the Gini."""
    rng = np.random.default_rng(3)
    labels = (rng.random(400) < 0.3).astype(np.int64)
    scores = np.clip(0.3 + 0.2 * labels + rng.normal(0, 0.15, 400), 0.001, 0.999)

    result = credit_battery(scores, labels, scores[::-1].copy())

    [test] = [t for t in result.tests if t.test == "discrimination.auc"]
    auc = result.details.auc
    assert auc is not None
    assert auc.ci_low is not None
    assert auc.ci_high is not None
    assert f"Gini {2 * test.value - 1:.4f}, 95% CI [{2 * auc.ci_low - 1:.4f}, " \
           f"{2 * auc.ci_high - 1:.4f}]" in test.detail
