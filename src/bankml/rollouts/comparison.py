"""Champion against challenger during a rollout: both routes' score and decision
distributions side by side, and, once labels matured, monitoring's own comparison (the
DeLong AUC difference and KPI deltas of `monitoring.challenger`, independent samples for a
canary and paired on the same applicants for a shadow, read from the latest run that
measured the rollout's window, never recomputed here) with a recommendation by a stated
rule."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from bankml.core.decisions import DecisionRecord
from bankml.core.monitoring import MetricPoint, MonitoringRun
from bankml.core.rollouts import Rollout, Route
from bankml.monitoring.scores import SCORE_EDGES

SIGNIFICANCE = 0.05
RULE = ("promote when the challenger's AUC on matured labels is higher than the champion's "
        f"with a two-sided DeLong p below {SIGNIFICANCE}; keep_champion when it is lower "
        "with p below it; inconclusive otherwise, or without matured labels of both "
        "classes. A canary is tested as a sample of its own (DeLong, independent samples, "
        "labels of both classes on both routes); a shadow on the same applicants (paired "
        "DeLong, each shadow decision taking the label of the champion decision it "
        "shadowed, those without one left out). KPI differences (challenger less champion; "
        "for a shadow, on the same applicants) are reported beside it; promotion itself "
        "still passes the governance gates.")
EDGES = SCORE_EDGES  # scores are probabilities: ten bins of 0.1, as monitoring counts them
QUANTILES = (10, 25, 50, 75, 90)
CHALLENGER = frozenset({str(Route.CANARY), str(Route.SHADOW)})


def side_by_side(records: Sequence[DecisionRecord]) -> dict[str, Any]:
    """Scores (mean, quantiles, a histogram on shared bins) and decision rates of the
    champion's route and the challenger's (canary and shadow, scored by the challenger)."""
    arms = {"champion": [r for r in records if r.route == str(Route.CHAMPION)],
            "challenger": [r for r in records if r.route in CHALLENGER]}
    return {name: _distribution(chosen) for name, chosen in arms.items()}


def _distribution(records: Sequence[DecisionRecord]) -> dict[str, Any]:
    if not records:
        return {"n": 0}
    scores = np.array([r.score for r in records], dtype=np.float64)
    counts = Counter(str(r.outcome) for r in records)
    histogram, _ = np.histogram(np.clip(scores, 0.0, 1.0), bins=EDGES)
    return {"n": len(records), "score_mean": float(scores.mean()),
            "score_quantiles": {f"p{q}": float(v) for q, v in
                                zip(QUANTILES, np.percentile(scores, QUANTILES), strict=True)},
            "score_histogram": {"edges": EDGES.round(2).tolist(),
                                "counts": histogram.tolist()},
            "decision_rates": {o: n / len(records) for o, n in sorted(counts.items())}}


def on_labels(rollout: Rollout, run: MonitoringRun | None,
              points: Sequence[MetricPoint]) -> dict[str, Any]:
    """The challenger's comparison points of `run` and the recommendation they give."""
    if run is None:
        return {"recommendation": "inconclusive", "rule": RULE,
                "reason": "no monitoring run has measured a window of this rollout yet"}
    mine = [p for p in points if p.model == rollout.challenger_ref]
    auc = next((p for p in mine if p.metric == "challenger.auc_difference"), None)
    kpis = {p.metric.removeprefix("challenger.delta[").removesuffix("]"):
            {"difference": p.value, "champion": p.baseline, "n": p.n}
            for p in mine if p.metric.startswith("challenger.delta[")}
    recommendation, reason = recommend(auc)
    return {"run_id": run.run_id, "window_start": run.window_start,
            "window_end": run.window_end,
            "auc_difference": None if auc is None else {
                "value": auc.value, "p_value": auc.p_value, "champion_auc": auc.baseline,
                "n": auc.n, "detail": auc.detail},
            "kpi_differences": kpis, "recommendation": recommendation, "rule": RULE,
            "reason": reason}


def recommend(auc: MetricPoint | None) -> tuple[str, str]:
    """promote, keep_champion or inconclusive by RULE, and why."""
    if auc is None or auc.value is None or auc.p_value is None:
        return "inconclusive", (auc.detail if auc is not None and auc.detail else
                                "no AUC difference measured on matured labels")
    test = "paired DeLong" if auc.route == str(Route.SHADOW) else "DeLong"
    shown = f"AUC difference {auc.value:+.4f}, {test} p {auc.p_value:.3g}"
    if auc.p_value >= SIGNIFICANCE:
        return "inconclusive", f"{shown}: not significant at {SIGNIFICANCE}"
    return ("promote" if auc.value > 0 else "keep_champion"), shown


def latest_run(runs: Sequence[MonitoringRun], rollout: Rollout) -> MonitoringRun | None:
    """The newest run whose window ends after the rollout began (it saw both routes)."""
    seen = [r for r in runs if r.window_end > rollout.created_at]
    return max(seen, key=lambda r: (r.window_end, r.created_at)) if seen else None
