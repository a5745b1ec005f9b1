"""Jeffreys, binomial, Hosmer-Lemeshow, Brier, traffic light and calibration curve."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special, stats
from sklearn.calibration import calibration_curve as sklearn_calibration_curve
from sklearn.metrics import brier_score_loss

from bankml.core.errors import InvalidInputError
from bankml.validation.calibration import (
    Zone,
    binomial_test,
    brier_score,
    calibration_curve,
    hosmer_lemeshow,
    jeffreys_p_value,
    jeffreys_test,
    spiegelhalter,
    traffic_light,
)


def portfolio(seed: int = 5, n: int = 3000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pds = rng.beta(1.2, 12, n)
    defaults = (rng.random(n) < pds * 1.1).astype(int)
    grades = np.digitize(pds, [0.03, 0.08, 0.15, 0.3])
    return grades, pds, defaults


def beta_cdf_by_quadrature(x: float, a: float, b: float) -> float:
    """The Beta CDF integrated from its density, independently of SciPy's betainc."""
    log_norm = special.gammaln(a + b) - special.gammaln(a) - special.gammaln(b)
    value, _ = integrate.quad(lambda t: math.exp(log_norm + (a - 1) * math.log(t)
                                                 + (b - 1) * math.log1p(-t)),
                              0, x, limit=200, epsabs=1e-13, epsrel=1e-12)
    return value


@pytest.mark.parametrize(("pd_", "n", "defaults"), [(0.01, 500, 9), (0.2, 40, 5),
                                                      (0.05, 1000, 50), (0.003, 2000, 2)])
def test_jeffreys_p_value_is_the_beta_cdf(pd_: float, n: int, defaults: int) -> None:
    """p = F_Beta(PD; D + 1/2, N - D + 1/2) (ECB 2.5.3.1), by SciPy and by quadrature."""
    p = jeffreys_p_value(pd_, n, defaults)

    assert p == pytest.approx(stats.beta.cdf(pd_, defaults + 0.5, n - defaults + 0.5),
                              abs=1e-12)
    assert p == pytest.approx(beta_cdf_by_quadrature(pd_, defaults + 0.5,
                                                     n - defaults + 0.5), abs=1e-9)


def test_jeffreys_runs_every_grade_and_the_portfolio() -> None:
    """K + 1 tests, grade PD the number-weighted mean PD of the grade."""
    grades, pds, defaults = portfolio()

    result = jeffreys_test(grades, pds, defaults)

    assert [row.grade for row in result.grades] == ["0", "1", "2", "3", "4"]
    for row in (*result.grades, result.portfolio):
        member = np.ones(grades.size, bool) if row.grade == "portfolio" \
            else grades == int(row.grade)
        d, n, mean_pd = defaults[member].sum(), member.sum(), pds[member].mean()
        assert (row.n, row.defaults, row.pd) == (n, d, pytest.approx(mean_pd, abs=1e-15))
        assert row.p_value == pytest.approx(stats.beta.cdf(mean_pd, d + 0.5, n - d + 0.5),
                                            abs=1e-12)


def test_jeffreys_sums_exposure_per_grade() -> None:
    """The original exposure at the start is reported per grade."""
    result = jeffreys_test(["A", "A", "B"], [0.1, 0.1, 0.2], [0, 1, 0],
                           exposures=[100.0, 50.0, 10.0])

    assert [row.exposure for row in result.grades] == [150.0, 10.0]
    assert result.portfolio.exposure == 160.0


def test_binomial_p_value_matches_scipy_binomtest() -> None:
    """One-sided P(X >= D) equals SciPy's binomtest(alternative='greater')."""
    grades, pds, defaults = portfolio()

    result = binomial_test(grades, pds, defaults)

    for row in result.grades:
        reference = stats.binomtest(row.defaults, row.n, row.pd, alternative="greater")
        assert row.p_value == pytest.approx(reference.pvalue, rel=1e-9)


def test_hosmer_lemeshow_hand_example() -> None:
    """Two grades by hand: T = 1/0.99 + 16/9.5, df 2, p = exp(-T/2) (chi-square, 2 df)."""
    defaults = np.r_[np.ones(2), np.zeros(98), np.ones(14), np.zeros(186)]
    pds = np.r_[np.full(100, 0.01), np.full(200, 0.05)]
    statistic = 1 / 0.99 + 16 / 9.5

    result = hosmer_lemeshow(defaults, pds, groups=pds)

    assert result.statistic == pytest.approx(statistic, rel=1e-12)
    assert result.degrees_of_freedom == 2
    assert result.p_value == pytest.approx(math.exp(-statistic / 2), rel=1e-12)


def test_hosmer_lemeshow_in_sample_deciles_use_g_minus_2() -> None:
    """In-sample deciles have G - 2 degrees of freedom (Hosmer & Lemeshow 2000, 5.2.2)."""
    _, pds, defaults = portfolio()

    result = hosmer_lemeshow(defaults, pds, in_sample=True)

    assert result.degrees_of_freedom == 8
    assert result.p_value == pytest.approx(stats.chi2.sf(result.statistic, 8), rel=1e-12)


def test_brier_score_matches_sklearn() -> None:
    """BS = mean((PD - y)^2) equals scikit-learn's brier_score_loss."""
    _, pds, defaults = portfolio()

    assert brier_score(defaults, pds).score == pytest.approx(
        brier_score_loss(defaults, pds), abs=1e-15)


def test_brier_decomposition_adds_up_on_a_rating_scale() -> None:
    """BS = reliability - resolution + uncertainty when each grade has one PD (Murphy 1973)."""
    grades, _, defaults = portfolio()
    pds = np.array([0.01, 0.05, 0.1, 0.2, 0.4])[grades]

    result = brier_score(defaults, pds)

    assert result.score == pytest.approx(
        result.reliability - result.resolution + result.uncertainty, abs=1e-12)


@pytest.mark.parametrize(("exceptions", "zone", "cumulative", "plus"), [
    (4, Zone.GREEN, 0.8922, 0.0), (5, Zone.YELLOW, 0.9588, 0.40),
    (7, Zone.YELLOW, 0.9960, 0.65), (9, Zone.YELLOW, 0.9997, 0.85),
    (10, Zone.RED, 0.9999, 1.0),
])
def test_traffic_light_matches_basel_1996_table(exceptions: int, zone: Zone,
                                                cumulative: float, plus: float) -> None:
    """Zones, cumulative probabilities and plus factors of the Basel (1996) tables 1-2."""
    result = traffic_light(exceptions)

    assert result.zone == zone
    assert result.cumulative_probability == pytest.approx(cumulative, abs=5e-5)
    assert result.plus_factor == plus


def test_spiegelhalter_follows_its_formula() -> None:
    """Z = sum (y - p)(1 - 2p) / sqrt(sum (1 - 2p)^2 p (1 - p)) (Spiegelhalter 1986)."""
    _, pds, defaults = portfolio()
    z = np.sum((defaults - pds) * (1 - 2 * pds)) / np.sqrt(
        np.sum((1 - 2 * pds) ** 2 * pds * (1 - pds)))

    assert spiegelhalter(defaults, pds) == pytest.approx((z, 2 * stats.norm.sf(abs(z))),
                                                         rel=1e-12)


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_calibration_curve_matches_sklearn(strategy: str) -> None:
    """Bin means equal scikit-learn's calibration_curve for both strategies."""
    _, pds, defaults = portfolio()
    observed, predicted = sklearn_calibration_curve(defaults, pds, n_bins=10,
                                                    strategy=strategy)

    curve = calibration_curve(defaults, pds, bins=10, strategy=strategy)

    np.testing.assert_allclose(curve.observed_rate, observed, atol=1e-12)
    np.testing.assert_allclose(curve.mean_predicted, predicted, atol=1e-12)


def test_pd_outside_zero_one_is_refused() -> None:
    """A PD above 1 is refused with the rule it breaks."""
    with pytest.raises(InvalidInputError, match=r"probabilities must lie in \[0, 1\]"):
        jeffreys_test([1, 1], [0.1, 1.2], [0, 1])
