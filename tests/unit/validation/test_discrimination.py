"""AUC with DeLong, the DeLong comparison, ROC, CAP and KS against independent references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sklearn_roc_curve

from bankml.core.errors import InvalidInputError
from bankml.validation.discrimination import (
    auc_delong,
    cap_curve,
    compare_auc,
    compare_with_initial_auc,
    ks_test,
    roc_curve,
)


def sample(seed: int = 3, n: int = 400, ties: bool = True) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    scores = rng.normal(labels * 0.7, 1.0)
    return labels, np.round(scores, 1) if ties else scores


def kernel_delong(labels: np.ndarray, a: np.ndarray, b: np.ndarray
                  ) -> tuple[float, float, float, float, float]:
    """O(n^2) DeLong from the Mann-Whitney kernel psi(x, y) = 1, 1/2, 0 (DeLong et al. 1988).

    Returns AUC_a, AUC_b, var_a, var_b, cov_ab, written independently of the library.
    """
    pos, neg = labels == 1, labels == 0
    v10, v01 = [], []
    for s in (a, b):
        x, y = s[pos][:, None], s[neg][None, :]
        kernel = (x > y) + 0.5 * (x == y)
        v10.append(kernel.mean(axis=1))
        v01.append(kernel.mean(axis=0))
    m, n = pos.sum(), neg.sum()
    s10, s01 = np.cov(np.array(v10)), np.cov(np.array(v01))
    cov = s10 / m + s01 / n
    return v10[0].mean(), v10[1].mean(), cov[0, 0], cov[1, 1], cov[0, 1]


def test_auc_matches_sklearn_with_ties() -> None:
    """The AUC equals scikit-learn's roc_auc_score on tied scores."""
    labels, scores = sample()

    assert auc_delong(labels, scores).auc == pytest.approx(roc_auc_score(labels, scores),
                                                           abs=1e-12)


def test_delong_variance_matches_the_kernel_definition() -> None:
    """The fast midrank variance equals the O(n^2) kernel variance (Sun & Xu 2014)."""
    labels, scores = sample()
    auc, _, variance, _, _ = kernel_delong(labels, scores, scores)

    result = auc_delong(labels, scores)

    assert result.auc == pytest.approx(auc, abs=1e-12)
    assert result.variance == pytest.approx(variance, rel=1e-10)


def test_confidence_interval_is_wald_on_the_delong_error() -> None:
    """The 95% interval is AUC -/+ 1.959964 * s."""
    labels, scores = sample()
    result = auc_delong(labels, scores)

    half = stats.norm.ppf(0.975) * np.sqrt(result.variance)
    assert (result.ci_low, result.ci_high) == pytest.approx(
        (result.auc - half, result.auc + half), abs=1e-12)


def test_gini_is_twice_auc_minus_one() -> None:
    """Gini (accuracy ratio) = 2 AUC - 1 (BCBS WP14)."""
    labels, scores = sample()
    result = auc_delong(labels, scores)

    assert result.gini == pytest.approx(2 * roc_auc_score(labels, scores) - 1, abs=1e-12)


def test_delong_comparison_matches_the_kernel_definition() -> None:
    """z and p of two correlated AUCs equal the O(n^2) DeLong computation."""
    labels, a = sample()
    b = a + np.random.default_rng(9).normal(0, 0.8, a.size)
    auc_a, auc_b, var_a, var_b, cov = kernel_delong(labels, a, b)
    z = (auc_a - auc_b) / np.sqrt(var_a + var_b - 2 * cov)

    result = compare_auc(labels, a, b)

    assert result.z == pytest.approx(z, rel=1e-9)
    assert result.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    assert result.correlation == pytest.approx(cov / np.sqrt(var_a * var_b), rel=1e-9)


def test_identical_models_do_not_differ() -> None:
    """The same scores twice give z = 0 and p = 1."""
    labels, scores = sample()

    result = compare_auc(labels, scores, scores)

    assert (result.z, result.p_value) == (0.0, 1.0)


def test_ecb_auc_test_follows_annex_3_1() -> None:
    """S = (AUC_init - AUC_curr)/s and p = 1 - Phi(S) (ECB instructions 2019, Annex 3.1)."""
    labels, scores = sample()
    auc, _, variance, _, _ = kernel_delong(labels, scores, scores)
    statistic = (0.75 - auc) / np.sqrt(variance)

    result = compare_with_initial_auc(labels, scores, auc_initial=0.75)

    assert result.statistic == pytest.approx(statistic, rel=1e-9)
    assert result.p_value == pytest.approx(1 - stats.norm.cdf(statistic), rel=1e-9)


def test_roc_points_match_sklearn() -> None:
    """Every ROC point and threshold equals scikit-learn's (no points dropped)."""
    labels, scores = sample()
    fpr, tpr, thresholds = sklearn_roc_curve(labels, scores, drop_intermediate=False)

    curve = roc_curve(labels, scores)

    np.testing.assert_allclose(curve.false_positive_rate, fpr, atol=1e-12)
    np.testing.assert_allclose(curve.true_positive_rate, tpr, atol=1e-12)
    np.testing.assert_allclose(curve.thresholds[1:], thresholds[1:], atol=1e-12)


def test_ks_matches_scipy() -> None:
    """KS statistic and asymptotic p-value equal SciPy's ks_2samp(method='asymp')."""
    labels, scores = sample()
    reference = stats.ks_2samp(scores[labels == 1], scores[labels == 0], method="asymp")

    result = ks_test(labels, scores)

    assert result.statistic == pytest.approx(reference.statistic, abs=1e-12)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-9)


def test_single_class_is_refused() -> None:
    """A sample without events is an error that names the rule."""
    with pytest.raises(InvalidInputError, match="all 3 labels are equal"):
        auc_delong([0, 0, 0], [0.1, 0.2, 0.3])


def test_nan_scores_are_refused() -> None:
    """NaN scores would silently bias the AUC, so they are refused."""
    with pytest.raises(InvalidInputError, match="1 values are NaN"):
        auc_delong([0, 1, 1], [0.1, np.nan, 0.3])


labelled_scores = st.integers(min_value=4, max_value=60).flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 1), min_size=n, max_size=n).filter(lambda ys: 0 < sum(ys) < n),
    st.lists(st.integers(-5, 5), min_size=n, max_size=n)))


@settings(max_examples=60, deadline=None)
@given(labelled_scores)
def test_auc_is_mann_whitney_u_over_n1_n0(data: tuple[list[int], list[int]]) -> None:
    """AUC = U / (n1 n0) with SciPy's Mann-Whitney U, ties included."""
    labels, scores = np.array(data[0]), np.array(data[1], dtype=float)
    events, others = scores[labels == 1], scores[labels == 0]
    u = stats.mannwhitneyu(events, others).statistic

    assert auc_delong(labels, scores).auc == pytest.approx(u / (events.size * others.size),
                                                           abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(labelled_scores)
def test_cap_accuracy_ratio_equals_gini(data: tuple[list[int], list[int]]) -> None:
    """The CAP accuracy ratio equals 2 AUC - 1, ties included (BCBS WP14 3.3.2)."""
    labels, scores = np.array(data[0]), np.array(data[1], dtype=float)

    assert cap_curve(labels, scores).accuracy_ratio == pytest.approx(
        2 * roc_auc_score(labels, scores) - 1, abs=1e-9)


SEPARATED = ([0] * 6 + [1] * 5, list(range(11)))  # every event above every non-event


def test_ecb_auc_test_with_zero_variance_is_certain() -> None:
    """A perfectly separated sample (AUC 1, DeLong variance 0) cannot have deteriorated
    from a lower initial AUC: S = -inf, p = 1 - Phi(-inf) = 1."""
    labels, scores = SEPARATED

    result = compare_with_initial_auc(labels, scores, auc_initial=0.8)

    assert (result.auc_current, result.variance) == (1.0, 0.0)
    assert (result.statistic, result.p_value) == (-np.inf, 1.0)


def test_reversed_rankings_with_zero_error_differ_for_certain() -> None:
    """AUC 1.0 against 0.0 with standard error 0 is a certain difference: z = inf, p = 0."""
    labels, scores = SEPARATED

    result = compare_auc(labels, scores, [-s for s in scores])

    assert (result.auc_a, result.auc_b, result.std_error) == (1.0, 0.0, 0.0)
    assert (result.z, result.p_value) == (np.inf, 0.0)
