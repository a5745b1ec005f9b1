"""Evaluation metrics by domain and the decision policy's outcome shares.

With sampling weights (a case-control sample: every fraud, a share of the genuine rows),
each row counts as the rows of the population it stands for: the metrics and shares are
the population's, as scikit-learn's `sample_weight` computes them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.metrics import (
    auc,
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
    roc_curve,
)

from bankml.core.decisions import DecisionPolicy


def ks_statistic(labels: np.ndarray, scores: np.ndarray) -> float:
    """Kolmogorov-Smirnov: the largest gap between the score distributions of bads and goods."""
    return _roc_metrics(labels, scores)["ks"]


def _roc_metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """AUC, Gini and KS from one ROC curve; AUC as roc_auc_score computes it (curve, area)."""
    false_positive, true_positive, _ = roc_curve(labels, scores)
    area = float(auc(false_positive, true_positive))
    return {"auc": area, "gini": 2 * area - 1,
            "ks": float(np.max(true_positive - false_positive))}


def top_decile_lift(labels: np.ndarray, scores: np.ndarray) -> float:
    """The event rate among the tenth of rows scoring highest over the overall rate.

    Rows are ranked highest score first, ties in row order, and the top tenth is the first
    ceil(n / 10) of them, as the validation lift table cuts its first decile.
    """
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    top = np.asarray(labels)[order[: -(-len(order) // 10)]]
    return float(top.mean() / np.mean(labels))


METRIC_FUNCTIONS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "auc": lambda y, s: float(roc_auc_score(y, s)),
    "gini": lambda y, s: float(2 * roc_auc_score(y, s) - 1),
    "ks": ks_statistic,
    "brier": lambda y, s: float(brier_score_loss(y, s)),
    "log_loss": lambda y, s: float(log_loss(y, s, labels=[0, 1])),
    "average_precision": lambda y, s: float(average_precision_score(y, s)),
    "default_rate": lambda y, s: float(np.mean(y)),
    "top_decile_lift": top_decile_lift,
}


ROC_METRICS = frozenset({"auc", "gini", "ks"})


def weighted_top_decile_lift(labels: np.ndarray, scores: np.ndarray,
                             weights: np.ndarray) -> float:
    """Top-decile lift of a weighted sample: the weighted event rate of the highest-scoring
    rows that hold the first tenth of the weight (at least one row; ties in row order) over
    the weighted overall rate."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    held = np.cumsum(weights[order])
    top = order[: max(1, int(np.searchsorted(held, 0.1 * held[-1], side="right")))]
    return float(np.average(labels[top], weights=weights[top])
                 / np.average(labels, weights=weights))


WEIGHTED_FUNCTIONS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], float]] = {
    "brier": lambda y, s, w: float(brier_score_loss(y, s, sample_weight=w)),
    "log_loss": lambda y, s, w: float(log_loss(y, s, labels=[0, 1], sample_weight=w)),
    "average_precision": lambda y, s, w: float(average_precision_score(y, s,
                                                                       sample_weight=w)),
    "default_rate": lambda y, s, w: float(np.average(y, weights=w)),
    "top_decile_lift": weighted_top_decile_lift,
}


def evaluate(names: tuple[str, ...], labels: np.ndarray, scores: np.ndarray,
             *, prefix: str, weights: np.ndarray | None = None) -> dict[str, float]:
    """Each named metric, as METRIC_FUNCTIONS computes it (WEIGHTED_FUNCTIONS with
    `weights`); the ROC curve behind AUC, Gini and KS is computed once for the three."""
    if weights is not None:
        known = _weighted_roc_metrics(labels, scores, weights) if ROC_METRICS & set(names) \
            else {}
        return {f"{prefix}.{name}": known[name] if name in known
                else WEIGHTED_FUNCTIONS[name](labels, scores, weights) for name in names}
    known = _roc_metrics(labels, scores) if ROC_METRICS & set(names) else {}
    return {f"{prefix}.{name}": known[name] if name in known
            else METRIC_FUNCTIONS[name](labels, scores) for name in names}


def _weighted_roc_metrics(labels: np.ndarray, scores: np.ndarray,
                          weights: np.ndarray) -> dict[str, float]:
    false_positive, true_positive, _ = roc_curve(labels, scores, sample_weight=weights)
    area = float(auc(false_positive, true_positive))
    return {"auc": area, "gini": 2 * area - 1,
            "ks": float(np.max(true_positive - false_positive))}


def outcome_shares(policy: DecisionPolicy, scores: np.ndarray, *,
                   prefix: str, weights: np.ndarray | None = None) -> dict[str, float]:
    """Share of each outcome of the policy's kind, e.g. `test.share.decline` (of the
    weight, with `weights`: the population's share)."""
    cutoffs, band_outcomes = policy.bands()
    # side="right": a score equal to a cut-off falls in the band above it, as decide() says
    band = np.searchsorted(np.asarray(cutoffs, dtype=np.float64), scores, side="right")
    return {f"{prefix}.share.{outcome}": float(np.average(band == index, weights=weights))
            for index, outcome in enumerate(band_outcomes)}
