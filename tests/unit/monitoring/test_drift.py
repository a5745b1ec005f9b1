"""Drift statistics against independent references: SciPy for KS, chi-square and
Jensen-Shannon, validation's PSI and a hand-checked case for the PSI."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats
from scipy.spatial.distance import jensenshannon
from scipy.stats.contingency import association

from bankml.core.errors import InvalidInputError
from bankml.monitoring.drift import (
    NumericReference,
    categorical_drift,
    chi_square,
    drift_frame,
    js_distance,
    numeric_drift,
)
from bankml.monitoring.kolmogorov import kolmogorov_sf, ks_2samp, smirnov
from bankml.validation.stability import psi

TOLERANCE = 1e-9


@pytest.mark.parametrize(("shift", "scale"), [(0.0, 1.0), (0.003, 1.0), (0.01, 1.0),
                                              (0.0, 1.02), (0.2, 1.0)])
def test_ks_equals_scipy_on_large_samples(shift: float, scale: float) -> None:
    """D and the asymptotic p-value equal scipy.stats.ks_2samp at n = 60,000 vs 40,000."""
    rng = np.random.default_rng(7)
    reference = np.sort(rng.normal(size=60_000))
    current = np.sort(rng.normal(shift, scale, size=40_000))

    ours, theirs = ks_2samp(reference, current), stats.ks_2samp(reference, current)

    assert ours.statistic == theirs.statistic
    assert ours.p_value == pytest.approx(theirs.pvalue, abs=TOLERANCE, rel=1e-9)


def test_ks_equals_scipy_with_ties() -> None:
    """Rounded values (many ties in both samples) give SciPy's D and p exactly."""
    rng = np.random.default_rng(3)
    reference = np.sort(np.round(rng.normal(size=30_000), 1))
    current = np.sort(np.round(rng.normal(0.02, 1, size=25_000), 1))

    ours, theirs = ks_2samp(reference, current), stats.ks_2samp(reference, current)

    assert ours.statistic == theirs.statistic
    assert ours.p_value == pytest.approx(theirs.pvalue, abs=TOLERANCE)


def test_ks_small_samples_take_the_exact_p_value() -> None:
    """At most 10,000 values a side, the p-value is SciPy's exact one."""
    rng = np.random.default_rng(5)
    reference, current = np.sort(rng.normal(size=300)), np.sort(rng.normal(0.3, 1, 200))

    ours = ks_2samp(reference, current)

    assert ours.p_value == pytest.approx(stats.ks_2samp(reference, current,
                                                        method="exact").pvalue, abs=1e-12)


@pytest.mark.parametrize(("n", "d"), [(250_000, 0.003), (250_000, 0.0045), (100_000, 0.006),
                                      (5_000, 0.03), (150, 0.2), (20_000, 0.45)])
def test_smirnov_sum_equals_scipy(n: int, d: float) -> None:
    """The vectorised Birnbaum-Tingey sum equals scipy.special.smirnov."""
    assert smirnov(n, d) == pytest.approx(special.smirnov(n, d), rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("d", [0.0005, 0.002, 0.0031, 0.004, 0.02, 0.05, 0.7])
def test_kolmogorov_sf_equals_scipy_kstwo(d: float) -> None:
    """Every branch of the tail equals scipy.stats.kstwo.sf at n = 200,000."""
    assert kolmogorov_sf(d, 200_000) == pytest.approx(stats.kstwo.sf(d, 200_000),
                                                      abs=TOLERANCE, rel=1e-9)


def test_numeric_psi_is_validations_psi() -> None:
    """PSI against a sorted reference equals validation.stability.psi, NaN bin included."""
    rng = np.random.default_rng(11)
    before = np.r_[rng.lognormal(size=20_000), [np.nan] * 300]
    after = np.r_[rng.lognormal(0.2, 1.1, size=15_000), [np.nan] * 900]

    drift = numeric_drift(NumericReference.of(before), after, feature="income")

    assert drift.psi.value == pytest.approx(psi(before, after).value, abs=1e-15)
    assert [b.label for b in drift.psi.bins] == [b.label for b in psi(before, after).bins]
    assert drift.missing_rate == pytest.approx(900 / 15_900)


def test_psi_hand_checked_case() -> None:
    """Reference 1..10 cut at deciles; current 1,1,2,...: shares by hand, floored at 1e-4."""
    before = np.arange(1.0, 11.0)  # cuts 1.9, 2.8, ... 9.1: one value per bin
    after = np.array([1.0, 1.0, 1.5, 2.0, 5.0, 5.0, 9.5, 9.5])  # bins 0,0,0,1,4,4,9,9

    drift = numeric_drift(NumericReference.of(before), after, feature="x")

    shares = {0: 3 / 8, 1: 1 / 8, 4: 2 / 8, 9: 2 / 8}
    by_hand = sum((shares.get(k, 1e-4) - 0.1) * math.log(shares.get(k, 1e-4) / 0.1)
                  for k in range(10))
    assert drift.psi.value == pytest.approx(by_hand, abs=1e-12)
    assert drift.psi.floored_bins == 6


def test_psi_equals_the_harness_formula_without_tiny_bins() -> None:
    """On continuous data with no bin under 1e-4, PSI is sum (c - r) ln(c / r) on
    numpy's reference deciles, as the peer benchmark's reference writes it."""
    rng = np.random.default_rng(2)
    before, after = rng.normal(size=50_000), rng.normal(0.1, 1.2, size=40_000)
    edges = np.quantile(before, np.arange(1, 10) / 10)
    r = np.bincount(np.searchsorted(edges, before, side="right"), minlength=10) / before.size
    c = np.bincount(np.searchsorted(edges, after, side="right"), minlength=10) / after.size

    drift = numeric_drift(NumericReference.of(before), after, feature="x")

    assert drift.psi.value == pytest.approx(float(np.sum((c - r) * np.log(c / r))),
                                            abs=TOLERANCE)


def test_chi_square_equals_scipy_contingency() -> None:
    """Pearson's chi-square, dof and p equal chi2_contingency without correction; V is
    SciPy's Cramer's V."""
    expected, actual = np.array([120, 340, 0, 55, 90]), np.array([100, 300, 0, 80, 140])
    table = np.vstack([expected, actual])[:, [0, 1, 3, 4]]

    ours = chi_square(expected, actual)
    theirs = stats.chi2_contingency(table, correction=False)

    assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-12)
    assert ours.p_value == pytest.approx(theirs.pvalue, abs=TOLERANCE)
    assert ours.dof == theirs.dof
    assert ours.cramers_v == pytest.approx(association(table, method="cramer"), rel=1e-12)


def test_js_distance_equals_scipy() -> None:
    """Jensen-Shannon distance in base 2 equals scipy's, with an empty bin on one side."""
    expected, actual = np.array([5, 0, 10, 85]), np.array([1, 7, 20, 72])

    assert js_distance(expected, actual) == pytest.approx(
        jensenshannon(expected / expected.sum(), actual / actual.sum(), base=2), abs=1e-12)


def test_categories_unseen_in_the_reference_are_measured() -> None:
    """A category the reference never held is its own bin and counts as unseen."""
    drift = categorical_drift(pd.Series(["a"] * 6 + ["b"] * 4),
                              pd.Series(["a"] * 5 + ["b"] * 3 + ["c"] * 2), feature="k")

    assert drift.unseen_rate == pytest.approx(0.2)
    assert drift.psi.value == pytest.approx(psi(pd.Series(["a"] * 6 + ["b"] * 4),
                                                pd.Series(["a"] * 5 + ["b"] * 3
                                                          + ["c"] * 2)).value)


def test_out_of_range_share_is_read_against_the_reference_extremes() -> None:
    """Values below the reference's minimum or above its maximum are out of range."""
    drift = numeric_drift(NumericReference.of(np.arange(100.0)),
                          np.array([-1.0, 0.0, 50.0, 99.0, 100.0, 120.0]), feature="x")

    assert drift.out_of_range_rate == pytest.approx(3 / 6)


def test_threads_give_the_same_figures_as_one() -> None:
    """Measuring columns in threads changes no number."""
    rng = np.random.default_rng(4)
    before = pd.DataFrame({f"f{i}": rng.normal(size=20_000) for i in range(6)})
    after = pd.DataFrame({f"f{i}": rng.normal(0.05 * i, 1, 15_000) for i in range(6)})

    alone = drift_frame(before, after, list(before.columns), workers=1)
    threaded = drift_frame(before, after, list(before.columns), workers=4)

    assert alone == threaded


def test_an_empty_sample_is_refused() -> None:
    """No current values: the error names the feature and the rule."""
    with pytest.raises(InvalidInputError, match="x: drift needs values") as caught:
        numeric_drift(NumericReference.of([1.0, 2.0]), np.array([]), feature="x")
    assert caught.value.rule == "monitoring.nonempty"
