"""The running step measured from the decision log: per route counts, and each guardrail's
value with the sample it rests on (the challenger's decisions in the step)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

import numpy as np

from bankml.core.decisions import DecisionRecord, Outcome
from bankml.core.rollouts import (
    Guardrail,
    Measurement,
    Rollout,
    Route,
    disparate_impact,
    percentile,
    rate,
)
from bankml.validation.stability import psi

CHALLENGER_ROUTES = frozenset({str(Route.CANARY), str(Route.FALLBACK), str(Route.SHADOW)})


def routes_of(records: Sequence[DecisionRecord]) -> dict[str, int]:
    """Decisions per route (shadow records are the challenger's unanswered scores)."""
    return dict(Counter(record.route for record in records))


def measure(rollout: Rollout, records: Sequence[DecisionRecord], *, favourable: Outcome,
            attributes: Sequence[str], baseline: Sequence[float] | None,
            shadow_failures: int = 0) -> list[Measurement]:
    """Every guardrail's value on the step's decisions: the challenger's (canary, its
    fallbacks and shadow) against the champion's (route champion) and its own baseline.
    `shadow_failures`: requests the challenger failed in shadow (they leave no record)."""
    challenger = [r for r in records if r.route in CHALLENGER_ROUTES]
    scored = [r for r in challenger if r.route != str(Route.FALLBACK)]
    champion = [r for r in records if r.route == str(Route.CHAMPION)]
    n = len(scored)
    # what the challenger was asked (canary, fallback, shadow, failed shadow work) and
    # failed: fallbacks answered by the champion, and failed shadow work
    attempts = len(challenger) + shadow_failures
    failures = len(challenger) - len(scored) + shadow_failures
    values: dict[Guardrail, float | None] = {
        Guardrail.ERROR_RATE: failures / attempts if attempts else None,
        Guardrail.P99_LATENCY_MS: percentile([r.latency_us / 1000 for r in scored], 99),
        Guardrail.SCORE_PSI: None,
        Guardrail.DECISION_RATE_CHANGE: None,
        Guardrail.DISPARATE_IMPACT: None,
    }
    if scored and baseline is not None and len(baseline):
        values[Guardrail.SCORE_PSI] = psi(np.asarray(baseline, dtype=np.float64),
                                          np.array([r.score for r in scored])).value
    ours = rate([r.outcome == favourable for r in scored])
    theirs = rate([r.outcome == favourable for r in champion])
    if ours is not None and theirs is not None:
        values[Guardrail.DECISION_RATE_CHANGE] = abs(ours - theirs)
    ratios = [ratio for attribute in attributes
              if (ratio := _impact(scored, attribute, favourable)) is not None]
    if ratios:
        values[Guardrail.DISPARATE_IMPACT] = min(ratios)
    return [Measurement(guardrail=g, value=v,
                        n=attempts if g == Guardrail.ERROR_RATE else n)
            for g, v in values.items()]


def _impact(records: Sequence[DecisionRecord], attribute: str,
            favourable: Outcome) -> float | None:
    groups = [json.loads(r.request_json).get(attribute) for r in records]
    known = [(r, str(g)) for r, g in zip(records, groups, strict=True) if g is not None]
    if not known:
        return None
    return disparate_impact([r.outcome == favourable for r, _ in known],
                            [g for _, g in known])
