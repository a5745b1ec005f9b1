"""Evaluation metrics by domain and the decision policy's outcome shares."""

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


def evaluate(names: tuple[str, ...], labels: np.ndarray, scores: np.ndarray,
             *, prefix: str) -> dict[str, float]:
    """Each named metric, as METRIC_FUNCTIONS computes it; the ROC curve behind AUC, Gini
    and KS is computed once for the three."""
    known = _roc_metrics(labels, scores) if ROC_METRICS & set(names) else {}
    return {f"{prefix}.{name}": known[name] if name in known
            else METRIC_FUNCTIONS[name](labels, scores) for name in names}


def outcome_shares(policy: DecisionPolicy, scores: np.ndarray, *,
                   prefix: str) -> dict[str, float]:
    """Share of each outcome of the policy's kind, e.g. `test.share.decline`."""
    cutoffs, band_outcomes = policy.bands()
    # side="right": a score equal to a cut-off falls in the band above it, as decide() says
    band = np.searchsorted(np.asarray(cutoffs, dtype=np.float64), scores, side="right")
    return {f"{prefix}.share.{outcome}": float(np.mean(band == index))
            for index, outcome in enumerate(band_outcomes)}
