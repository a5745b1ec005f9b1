"""PSI, CSI, migration matrix tests and the Herfindahl test against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from bankml.core.errors import InvalidInputError
from bankml.validation.stability import (
    Shift,
    csi,
    herfindahl_index,
    herfindahl_test,
    migration_matrix,
    psi,
)


def test_psi_hand_example() -> None:
    """Shares (.5,.3,.2) -> (.4,.4,.2): PSI = -.1 ln .8 + .1 ln(4/3) (Siddiqi 2006 formula)."""
    expected = pd.Series(["a"] * 5 + ["b"] * 3 + ["c"] * 2)
    actual = pd.Series(["a"] * 4 + ["b"] * 4 + ["c"] * 2)

    result = psi(expected, actual)

    assert result.value == pytest.approx(-0.1 * math.log(0.8) + 0.1 * math.log(4 / 3),
                                         abs=1e-12)
    assert result.shift == Shift.STABLE


def test_empty_bin_is_floored_at_epsilon() -> None:
    """A category absent at development counts with share 1e-4, and is reported."""
    expected = pd.Series(["a"] * 5 + ["b"] * 5)
    actual = pd.Series(["a"] * 4 + ["b"] * 4 + ["c"] * 2)

    result = psi(expected, actual)

    terms = [(0.4 - 0.5) * math.log(0.8), (0.4 - 0.5) * math.log(0.8),
             (0.2 - 1e-4) * math.log(0.2 / 1e-4)]
    assert result.value == pytest.approx(sum(terms), abs=1e-12)
    assert result.floored_bins == 1
    assert result.shift == Shift.SIGNIFICANT


def test_numeric_bins_are_development_deciles() -> None:
    """Numbers are cut at the expected sample's deciles: ten shares of 0.1 there."""
    rng = np.random.default_rng(0)

    result = psi(rng.normal(size=10_000), rng.normal(size=8_000))

    assert [b.expected_share for b in result.bins] == pytest.approx([0.1] * 10, abs=1e-12)


def test_missing_values_form_their_own_bin() -> None:
    """NaN is a bin of its own, so a rise in missing values shows in the PSI."""
    result = psi(np.r_[np.arange(10.0)], np.r_[np.arange(8.0), np.nan, np.nan], bins=5)

    assert result.bins[-1].label == "missing"
    assert result.bins[-1].actual_share == pytest.approx(0.2)


def test_csi_is_psi_per_feature() -> None:
    """CSI of each column equals the PSI of that column alone."""
    rng = np.random.default_rng(1)
    before = pd.DataFrame({"x": rng.normal(size=500), "k": rng.choice(list("abc"), 500)})
    after = pd.DataFrame({"x": rng.normal(0.3, 1, 400), "k": rng.choice(list("abc"), 400)})

    results = csi(before, after, ["x", "k"])

    assert [r.value for r in results] == [psi(before[c], after[c]).value for c in "xk"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=80),
       st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=80))
def test_psi_is_never_negative(expected: list[float], actual: list[float]) -> None:
    """PSI >= 0 on any samples: each term (a - e) ln(a/e) is >= 0."""
    assert psi(np.array(expected), np.array(actual)).value >= 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=80))
def test_psi_of_a_sample_with_itself_is_zero(values: list[float]) -> None:
    """Identical distributions give PSI 0."""
    assert psi(np.array(values), np.array(values)).value == 0


def ecb_migration_by_loops(n: np.ndarray) -> tuple[float, float, np.ndarray]:
    """MWB and z_ij written from ECB instructions section 2.5.5 with 1-based loops.

    `n` is K x (K + exits): N_i counts every customer starting in grade i.
    """
    k = n.shape[0]
    rows = n.sum(axis=1)
    p = {(i, j): n[i - 1, j - 1] / rows[i - 1] for i in range(1, k + 1)
         for j in range(1, k + 1)}
    big_n = {i: rows[i - 1] for i in range(1, k + 1)}
    up = sum(abs(i - j) * big_n[i] * p[i, j] for i in range(1, k) for j in range(i + 1, k + 1))
    m_up = sum(max(abs(i - k), abs(i - 1)) * big_n[i] * sum(p[i, j] for j in range(i + 1, k + 1))
               for i in range(1, k))
    low = sum(abs(i - j) * big_n[i] * p[i, j] for i in range(2, k + 1) for j in range(1, i))
    m_low = sum(max(abs(i - k), abs(i - 1)) * big_n[i] * sum(p[i, j] for j in range(1, i))
                for i in range(2, k + 1))
    z = np.full((k, k), np.nan)
    for i in range(1, k + 1):
        for j in range(1, k + 1):
            if j < i:
                q = p[i, j + 1]
            elif j > i:
                q = p[i, j - 1]
            else:
                continue
            var = (p[i, j] * (1 - p[i, j]) + q * (1 - q) + 2 * p[i, j] * q) / big_n[i]
            if var > 0:
                z[i - 1, j - 1] = (q - p[i, j]) / math.sqrt(var)
    return up / m_up, low / m_low, z


def migrations(seed: int = 2, n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    start = rng.integers(1, 6, n)
    end = np.clip(start + rng.choice([-2, -1, 0, 0, 0, 1, 2], n), 1, 5).astype(object)
    end[rng.random(n) < 0.04] = "default"
    return start, end


def test_migration_matches_the_ecb_formulas() -> None:
    """MWB upper/lower and every z_ij and Phi(z_ij) equal the loop version of ECB 2.5.5."""
    start, end = migrations()

    result = migration_matrix(start, end, grades=[1, 2, 3, 4, 5])

    upper, lower, z = ecb_migration_by_loops(result.counts.to_numpy(dtype=float))
    assert result.exits == ("default",)
    assert (result.mwb_upper, result.mwb_lower) == pytest.approx((upper, lower), rel=1e-12)
    np.testing.assert_allclose(result.z, z, rtol=1e-12)
    np.testing.assert_allclose(result.p_values, stats.norm.cdf(z), rtol=1e-12)


def test_no_migration_has_zero_bandwidth() -> None:
    """Everyone staying in grade gives MWB 0 both ways."""
    grades = np.array([1, 2, 3, 3, 2, 1])

    result = migration_matrix(grades, grades, grades=[1, 2, 3])

    assert (result.mwb_upper, result.mwb_lower) == (0.0, 0.0)


def test_unknown_start_grade_is_refused() -> None:
    """A start rating outside the declared scale is an error naming it."""
    with pytest.raises(InvalidInputError, match=r"grades \['9'\] are not among"):
        migration_matrix([1, 9], [1, 1], grades=[1, 2])


@pytest.mark.parametrize("counts", [[10, 20, 30, 40], [1, 0, 0, 5], [3, 3, 3], [7, 1]])
def test_herfindahl_equals_log_sum_of_squared_shares(counts: list[int]) -> None:
    """HI from CV equals 1 + ln(sum R_i^2) / ln K (ECB 2.5.5.3 identity)."""
    shares = np.array(counts) / sum(counts)

    hi, _ = herfindahl_index(counts)

    assert hi == pytest.approx(1 + math.log(np.sum(shares**2)) / math.log(len(counts)),
                               abs=1e-12)


def test_herfindahl_test_follows_the_ecb_formula() -> None:
    """p = 1 - Phi(sqrt(K-1)(CV_c - CV_i) / sqrt(CV_c^2 (0.5 + CV_c^2)))."""
    current, initial = [10, 20, 30, 40], [20, 30, 30, 20]
    cv_c = math.sqrt(4 * sum((c / 100 - 0.25) ** 2 for c in current))
    cv_i = math.sqrt(4 * sum((c / 100 - 0.25) ** 2 for c in initial))
    statistic = math.sqrt(3) * (cv_c - cv_i) / math.sqrt(cv_c**2 * (0.5 + cv_c**2))

    result = herfindahl_test(current=current, initial=initial)

    assert (result.cv_current, result.cv_initial) == pytest.approx((cv_c, cv_i), abs=1e-12)
    assert result.p_value == pytest.approx(1 - stats.norm.cdf(statistic), abs=1e-12)


def test_herfindahl_test_takes_keywords_only() -> None:
    """The ECB writes (initial, current), the reverse of a natural positional order: a
    positional call is refused rather than silently swapped."""
    with pytest.raises(TypeError):
        herfindahl_test([10, 20, 30, 40], [20, 30, 30, 20])  # type: ignore[misc]
