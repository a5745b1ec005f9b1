"""Fraud and AML alerting metrics, below-the-line sampling, and propensity lift.

Alerts go to the highest scores first; when an alert budget cuts through tied scores,
the earlier rows win (a stable order), so a result never depends on the sort algorithm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from bankml.core.errors import InvalidInputError
from bankml.validation.samples import binary_labels, real_values, share


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertBudgetResult:
    """What alerting the top `alerts` cases catches."""

    alerts: int
    alert_rate: float  # alerts / cases
    precision: float  # events among alerts / alerts
    recall: float  # events among alerts / events
    value_detection_rate: float | None  # event value among alerts / all event value
    threshold: float  # lowest score alerted


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductiveRate:
    """Productive (e.g. SAR-worthy) share of a sample with its one-sided upper bound."""

    productive: int
    sampled: int
    rate: float
    upper_bound: float  # Clopper-Pearson, one-sided
    confidence: float


def _top(scores: npt.NDArray[np.float64], count: int) -> npt.NDArray[np.intp]:
    return np.argsort(-scores, kind="stable")[:count]


def alert_budget(labels: npt.ArrayLike, scores: npt.ArrayLike, *, budget: float | int,
                 values: npt.ArrayLike | None = None,
                 weights: npt.ArrayLike | None = None) -> AlertBudgetResult:
    """Precision, recall, alert rate and value detection rate at an alert budget.

    `budget` is a share of cases (0 < budget < 1) or a count of alerts (an int >= 1), the
    investigators' capacity. Value detection rate = sum of `values` (e.g. fraud amounts)
    over alerted events / sum over all events (Wolfsberg 2024 effectiveness outcomes).
    With `weights` (a case-control sample's: population cases per row), a share budget
    is a share of the weight and every figure is the population's (see `_weighted_budget`).
    """
    events = binary_labels("labels", labels)
    score = real_values("scores", scores, size=events.size)
    if weights is not None:
        return _weighted_budget(events, score, budget=budget, values=values,
                                weights=real_values("weights", weights, size=events.size))
    if isinstance(budget, int) and not isinstance(budget, bool):
        if not 1 <= budget <= events.size:
            raise InvalidInputError("budget", f"{budget} alerts is not in 1..{events.size}",
                                    rule="validation.count")
        count = budget
    else:
        count = max(1, math.floor(share("budget", float(budget)) * events.size))
    alerted = _top(score, count)
    caught = events[alerted]
    value_rate = None
    if values is not None:
        amount = real_values("values", values, size=events.size)
        total = float(amount[events].sum())
        value_rate = float(amount[alerted][caught].sum()) / total if total > 0 else float("nan")
    return AlertBudgetResult(alerts=count, alert_rate=count / events.size,
                             precision=float(caught.mean()),
                             recall=float(caught.sum() / events.sum()),
                             value_detection_rate=value_rate,
                             threshold=float(score[alerted].min()))


def _weighted_budget(events: npt.NDArray[np.bool_], score: npt.NDArray[np.float64], *,
                     budget: float | int, values: npt.ArrayLike | None,
                     weights: npt.NDArray[np.float64]) -> AlertBudgetResult:
    """The highest scores alerted until their weight would pass the budget's share of the
    total weight (at least one row); precision and recall of the weight, the alert rate
    as the population's, value detection with each value counted by its row's weight.
    `alerts` stays the sample's rows alerted."""
    if isinstance(budget, int) and not isinstance(budget, bool):
        raise InvalidInputError("budget", "a weighted sample takes a share of cases, not a "
                                "count of rows", rule="validation.count")
    if not (np.isfinite(weights).all() and (weights > 0).all()):
        raise InvalidInputError("weights", "must be positive finite numbers",
                                rule="validation.weights")
    order = _top(score, events.size)
    held = np.cumsum(weights[order])
    count = max(1, int(np.searchsorted(held, share("budget", float(budget)) * held[-1],
                                       side="right")))
    alerted = order[:count]
    caught = events[alerted]
    weight_caught = float(weights[alerted][caught].sum())
    value_rate = None
    if values is not None:
        amount = real_values("values", values, size=events.size) * weights
        total = float(amount[events].sum())
        value_rate = float(amount[alerted][caught].sum()) / total if total > 0 else float("nan")
    return AlertBudgetResult(alerts=count, alert_rate=float(held[count - 1] / held[-1]),
                             precision=weight_caught / float(held[count - 1]),
                             recall=weight_caught / float(weights[events].sum()),
                             value_detection_rate=value_rate,
                             threshold=float(score[alerted].min()))


def precision_at_k(labels: npt.ArrayLike, scores: npt.ArrayLike, k: int) -> float:
    """Share of events among the k highest scores (investigator capacity k)."""
    return alert_budget(labels, scores, budget=k).precision


def zero_defect_sample_size(*, confidence: float = 0.95, max_rate: float = 0.05) -> int:
    """n = ceil(ln(1 - C) / ln(1 - p*)): sample size such that finding no productive case
    shows, with confidence C, that the rate is below p* (C = 95%, p* = 5% gives 59).
    Used for below-the-line and suppressed-alert QA sampling (regulatory.md section 6).
    """
    share("confidence", confidence)
    share("max_rate", max_rate)
    return math.ceil(math.log(1 - confidence) / math.log(1 - max_rate))


def productive_rate(productive: int, sampled: int, *,
                    confidence: float = 0.95) -> ProductiveRate:
    """Below-the-line productive rate with its one-sided Clopper-Pearson upper bound,
    `Beta^-1(C; k + 1, n - k)` (1 when k = n). Clopper & Pearson (1934), Biometrika 26.
    """
    from scipy import stats  # noqa: PLC0415 - SciPy loads only when a test needs it
    share("confidence", confidence)
    if not 0 <= productive <= sampled or sampled < 1:
        raise InvalidInputError("productive", f"{productive} of {sampled} is not a count "
                                "within a non-empty sample", rule="validation.count")
    upper = 1.0 if productive == sampled else float(
        stats.beta.ppf(confidence, productive + 1, sampled - productive))
    return ProductiveRate(productive=productive, sampled=sampled, rate=productive / sampled,
                          upper_bound=upper, confidence=confidence)


def lift_table(labels: npt.ArrayLike, scores: npt.ArrayLike, *,
               groups: int = 10) -> pd.DataFrame:
    """Lift and cumulative gains by score decile (or `groups` quantile groups).

    Rows are ranked by score, highest first (stable for ties), and cut into groups of
    near-equal size (sizes differ by at most one). Per group: cases, events, event rate,
    lift = rate / overall rate; cumulatively: gain = events so far / all events, and
    cumulative lift = cumulative rate / overall rate.
    """
    events = binary_labels("labels", labels)
    score = real_values("scores", scores, size=events.size)
    if not 1 <= groups <= events.size:
        raise InvalidInputError("groups", f"{groups} is not in 1..{events.size}",
                                rule="validation.count")
    order = _top(score, events.size)
    group_of = np.arange(events.size) * groups // events.size
    cases = np.bincount(group_of, minlength=groups)
    hits = np.bincount(group_of, weights=events[order].astype(np.float64), minlength=groups)
    overall = events.mean()
    rate = hits / cases
    return pd.DataFrame({
        "group": np.arange(1, groups + 1), "cases": cases, "events": hits.astype(np.int64),
        "event_rate": rate, "lift": rate / overall,
        "cumulative_gain": np.cumsum(hits) / hits.sum(),
        "cumulative_lift": (np.cumsum(hits) / np.cumsum(cases)) / overall,
        "min_score": np.minimum.reduceat(score[order], np.r_[0, np.cumsum(cases)[:-1]]),
    })
