"""Discrimination: how well scores rank events (defaults, frauds) above non-events.

Convention throughout: `labels` are 1 for the event (default, fraud, SAR) and 0 otherwise;
`scores` are higher for a higher chance of the event (a PD, a fraud score). For a rating
scale where a higher grade is better, pass the negative grade. Ties count one half, as in
the ECB instructions (Annex 3.1) and the Mann-Whitney statistic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bankml.arrays import FloatArray
from bankml.validation.samples import binary_labels, real_values, share


@dataclass(frozen=True, slots=True, kw_only=True)
class AucResult:
    """AUC with its DeLong variance and a Wald confidence interval."""

    auc: float
    gini: float  # accuracy ratio, 2 * AUC - 1 (BCBS WP14)
    variance: float  # DeLong s^2 = var(V10)/n_events + var(V01)/n_non_events
    std_error: float
    ci_low: float
    ci_high: float
    confidence: float
    n_events: int
    n_non_events: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AucComparison:
    """DeLong test of two models' AUCs on the same sample (two-sided)."""

    auc_a: float
    auc_b: float
    difference: float  # auc_a - auc_b
    std_error: float
    z: float
    p_value: float
    correlation: float  # between the two AUC estimates


@dataclass(frozen=True, slots=True, kw_only=True)
class AucChangeTest:
    """ECB PD-07: has the AUC deteriorated since the initial validation?"""

    auc_initial: float
    auc_current: float
    variance: float  # s^2 of the current AUC (DeLong), AUC_init treated as deterministic
    statistic: float  # S = (AUC_init - AUC_curr) / s
    p_value: float  # 1 - Phi(S); small means a significant deterioration


@dataclass(frozen=True, slots=True, kw_only=True)
class KsResult:
    """Two-sample Kolmogorov-Smirnov distance between event and non-event scores."""

    statistic: float
    threshold: float  # the score at which the two distributions are furthest apart
    p_value: float  # asymptotic, two-sided


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class RocCurve:
    """ROC points at every distinct score, from (0, 0) to (1, 1)."""

    false_positive_rate: FloatArray
    true_positive_rate: FloatArray
    thresholds: FloatArray  # flag as event when score >= threshold; the first is +inf


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CapCurve:
    """Cumulative accuracy profile (Lorenz / power curve) and its accuracy ratio."""

    population_share: FloatArray  # share of cases flagged, riskiest first
    event_share: FloatArray  # share of events among them
    accuracy_ratio: float  # (area under CAP - 1/2) / (area of the perfect model - 1/2)


def _components(events: FloatArray, non_events: FloatArray) -> tuple[FloatArray, FloatArray]:
    """DeLong placement values V10 (per event) and V01 (per non-event), by midranks.

    Sun & Xu (2014), "Fast implementation of DeLong's algorithm", IEEE SPL 21(11):
    V10_a = (T_Z(a) - T_X(a)) / n0 and V01_b = 1 - (T_Z(b) - T_Y(b)) / n1, where T_Z is the
    midrank in the pooled sample and T_X, T_Y the midranks within events, non-events.
    V10_a equals (1/n0) sum_b u_ab with the ECB kernel u_ab (1 above, 1/2 tied, 0 below).
    """
    from scipy import stats  # noqa: PLC0415 - SciPy loads only when a test needs it
    n1, n0 = events.size, non_events.size
    pooled = stats.rankdata(np.concatenate([events, non_events]))
    v10 = (pooled[:n1] - stats.rankdata(events)) / n0
    v01 = 1.0 - (pooled[n1:] - stats.rankdata(non_events)) / n1
    return v10, v01


def _split(labels: npt.ArrayLike, scores: npt.ArrayLike,
           name: str = "scores") -> tuple[FloatArray, FloatArray]:
    events = binary_labels("labels", labels)
    values = real_values(name, scores, size=events.size)
    return values[events], values[~events]


def auc_delong(labels: npt.ArrayLike, scores: npt.ArrayLike, *,
               confidence: float = 0.95) -> AucResult:
    """AUC = U / (n1 n0) with DeLong's variance and a Wald interval clipped to [0, 1].

    Formula: ECB instructions for reporting IRB validation results (2019), Annex 3.1:
    `AUC = sum_ab u_ab / (|A| |B|)`, `s^2 = var(V10)/|A| + var(V01)/|B|` (unbiased
    variances); DeLong, DeLong & Clarke-Pearson (1988), Biometrics 44(3). Interval:
    AUC -/+ z_{(1+c)/2} * s.
    """
    from scipy import stats  # noqa: PLC0415 - SciPy loads only when a test needs it
    share("confidence", confidence)
    events, non_events = _split(labels, scores)
    v10, v01 = _components(events, non_events)
    auc = float(v10.mean())
    variance = float(v10.var(ddof=1) / events.size + v01.var(ddof=1) / non_events.size) \
        if events.size > 1 and non_events.size > 1 else float("nan")
    std_error = float(np.sqrt(variance))
    half = float(stats.norm.ppf((1 + confidence) / 2)) * std_error
    return AucResult(auc=auc, gini=2 * auc - 1, variance=variance, std_error=std_error,
                     ci_low=max(0.0, auc - half), ci_high=min(1.0, auc + half),
                     confidence=confidence, n_events=int(events.size),
                     n_non_events=int(non_events.size))


def compare_auc(labels: npt.ArrayLike, scores_a: npt.ArrayLike,
                scores_b: npt.ArrayLike) -> AucComparison:
    """DeLong test of H0: AUC_a = AUC_b for two models scored on the same cases.

    `z = (AUC_a - AUC_b) / sqrt(var_a + var_b - 2 cov_ab)`, the covariances taken from the
    placement values as in DeLong et al. (1988) eq. (4); p-value = 2 (1 - Phi(|z|)).
    """
    from scipy import stats  # noqa: PLC0415 - SciPy loads only when a test needs it
    events = binary_labels("labels", labels)
    a = real_values("scores_a", scores_a, size=events.size)
    b = real_values("scores_b", scores_b, size=events.size)
    v10_a, v01_a = _components(a[events], a[~events])
    v10_b, v01_b = _components(b[events], b[~events])
    covariance = (np.cov(np.vstack([v10_a, v10_b])) / v10_a.size
                  + np.cov(np.vstack([v01_a, v01_b])) / v01_a.size)
    auc_a, auc_b = float(v10_a.mean()), float(v10_b.mean())
    variance = float(covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1])
    std_error = float(np.sqrt(max(variance, 0.0)))
    difference = auc_a - auc_b
    z = _standardised(difference, std_error)
    p_value = float(2 * stats.norm.sf(abs(z)))
    product = float(covariance[0, 0] * covariance[1, 1])
    correlation = float(covariance[0, 1] / np.sqrt(product)) if product > 0 else float("nan")
    return AucComparison(auc_a=auc_a, auc_b=auc_b, difference=difference,
                         std_error=std_error, z=z, p_value=p_value, correlation=correlation)


def compare_with_initial_auc(labels: npt.ArrayLike, scores: npt.ArrayLike, *,
                             auc_initial: float) -> AucChangeTest:
    """ECB PD-07: one-sided test of H0 "AUC_init < AUC_curr" with AUC_init fixed.

    ECB instructions (2019) section 2.5.4.1 and Annex 3.1: `S = (AUC_init - AUC_curr) / s`
    with s the DeLong standard error of the current AUC; p-value = 1 - Phi(S). Compute it
    on the master-scale grades (pass the negative grade as score), not the continuous PD.
    """
    from scipy import stats  # noqa: PLC0415 - SciPy loads only when a test needs it
    share("auc_initial", auc_initial)
    current = auc_delong(labels, scores)
    statistic = _standardised(auc_initial - current.auc, current.std_error)
    return AucChangeTest(auc_initial=auc_initial, auc_current=current.auc,
                         variance=current.variance, statistic=statistic,
                         p_value=float(stats.norm.sf(statistic)))


def _standardised(difference: float, std_error: float) -> float:
    """`difference / std_error`, where a zero standard error (every placement value equal,
    e.g. a perfectly separated sample) makes any difference certain: +/-inf by its sign,
    and 0 when there is none. A NaN error (too few cases) stays NaN."""
    if std_error == 0.0:
        return math.copysign(math.inf, difference) if difference != 0.0 else 0.0
    return difference / std_error


def roc_curve(labels: npt.ArrayLike, scores: npt.ArrayLike) -> RocCurve:
    """ROC points at every distinct score (no points dropped), highest threshold first."""
    events = binary_labels("labels", labels)
    values = real_values("scores", scores, size=events.size)
    true_pos, false_pos, thresholds = _cumulative_counts(events, values)
    return RocCurve(false_positive_rate=false_pos / false_pos[-1],
                    true_positive_rate=true_pos / true_pos[-1], thresholds=thresholds)


def _cumulative_counts(events: npt.NDArray[np.bool_],
                       values: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Events and non-events flagged at each distinct threshold, starting from none."""
    order = np.argsort(-values, kind="stable")
    ordered, hits = values[order], events[order]
    last_of_block = np.r_[np.flatnonzero(np.diff(ordered)), ordered.size - 1]
    true_pos = np.cumsum(hits, dtype=np.float64)[last_of_block]
    false_pos = (last_of_block + 1) - true_pos
    return (np.r_[0.0, true_pos], np.r_[0.0, false_pos],
            np.r_[np.inf, ordered[last_of_block]])


def cap_curve(labels: npt.ArrayLike, scores: npt.ArrayLike) -> CapCurve:
    """CAP curve and accuracy ratio (BCBS WP14, section 3.3.1).

    AR = (a_model - 1/2) / (a_perfect - 1/2) with a_perfect = 1 - pi/2, pi the event share;
    areas by the trapezoid rule over tied blocks, so AR = 2 AUC - 1 exactly.
    """
    events = binary_labels("labels", labels)
    values = real_values("scores", scores, size=events.size)
    true_pos, false_pos, _ = _cumulative_counts(events, values)
    population = (true_pos + false_pos) / events.size
    captured = true_pos / true_pos[-1]
    area = float(np.sum(np.diff(population) * (captured[1:] + captured[:-1]) / 2))
    event_rate = true_pos[-1] / events.size
    perfect = 1 - event_rate / 2
    return CapCurve(population_share=population, event_share=captured,
                    accuracy_ratio=(area - 0.5) / (perfect - 0.5))


def ks_test(labels: npt.ArrayLike, scores: npt.ArrayLike) -> KsResult:
    """KS = max_s |F_events(s) - F_non_events(s)| (BCBS WP14; regulatory.md PD-24).

    Equal to max |TPR - FPR| over the ROC thresholds. p-value: two-sided asymptotic,
    Kolmogorov's distribution of D at n = round(n1 n0 / (n1 + n0)) (as SciPy's
    `ks_2samp(method="asymp")`).
    """
    from scipy import stats  # noqa: PLC0415 - SciPy loads only when a test needs it
    events = binary_labels("labels", labels)
    values = real_values("scores", scores, size=events.size)
    true_pos, false_pos, thresholds = _cumulative_counts(events, values)
    gap = np.abs(true_pos / true_pos[-1] - false_pos / false_pos[-1])
    best = int(np.argmax(gap))
    n1, n0 = int(true_pos[-1]), int(false_pos[-1])
    effective_n = round(n1 * n0 / (n1 + n0))
    statistic = float(gap[best])
    return KsResult(statistic=statistic, threshold=float(thresholds[best]),
                    p_value=float(np.clip(stats.kstwo.sf(statistic, effective_n), 0, 1)))
