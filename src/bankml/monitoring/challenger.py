"""Champion against challenger: the two routes of one endpoint over the same window.

When decisions carry a route other than `champion` (a canary or a challenger taking its
share of traffic), each route's matured, labelled decisions are a sample of their own, so
their AUCs are compared by DeLong's variances of independent samples:
`z = (AUC_challenger - AUC_champion) / sqrt(s2_challenger + s2_champion)`, two-sided
(DeLong, DeLong & Clarke-Pearson 1988; validation.discrimination.auc_delong). Every KPI
both routes report is given as the challenger's value less the champion's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from scipy import stats

from bankml.core.monitoring import MetricPoint, Status
from bankml.monitoring.kpis import Matured
from bankml.monitoring.window import WindowColumns
from bankml.validation.discrimination import auc_delong


@dataclass(frozen=True, slots=True, eq=False)
class Measured:
    """One route's window, its matured labels and the points measured on it."""

    window: WindowColumns
    matured: Matured
    points: list[MetricPoint]


def challenger_points(champion: Measured, challenger: Measured) -> list[MetricPoint]:
    """The challenger's AUC difference (with its DeLong test) and KPI deltas, as points of
    the challenger's version and route; reported, not judged."""
    template = MetricPoint(metric="", model=challenger.window.model,
                           route=challenger.window.route, value=None, n=0,
                           status=Status.INFO)
    points = [_auc_difference(template, champion, challenger)]
    theirs = {p.metric: p for p in champion.points if p.metric.startswith("kpi.")}
    for mine in challenger.points:
        other = theirs.get(mine.metric)
        if other is None or mine.value is None or other.value is None:
            continue
        points.append(replace(template, metric=f"challenger.delta[{mine.metric}]",
                              value=mine.value - other.value, n=mine.n, baseline=other.value,
                              detail=f"{challenger.window.route} {mine.value:.4g} against "
                                     f"champion {other.value:.4g} ({champion.window.model})"))
    return points


def _auc_difference(template: MetricPoint, champion: Measured,
                    challenger: Measured) -> MetricPoint:
    samples = [(m.matured.window.score_array()[m.matured.rows], m.matured.events)
               for m in (champion, challenger)]
    n = sum(int(y.size) for _, y in samples)
    if any(y.size < 2 or int(y.sum()) in (0, y.size) for _, y in samples):
        return replace(template, metric="challenger.auc_difference", n=n,
                       detail="needs matured labels of both classes on both routes")
    ours, theirs = (auc_delong(y, s) for s, y in samples)
    error = math.sqrt(ours.variance + theirs.variance)
    difference = theirs.auc - ours.auc
    p_value = 1.0 if error == 0 else float(2 * stats.norm.sf(abs(difference) / error))
    return replace(template, metric="challenger.auc_difference", value=difference, n=n,
                   p_value=p_value, baseline=ours.auc,
                   detail=f"AUC {theirs.auc:.3f} against champion {ours.auc:.3f} "
                          f"({champion.window.model}); DeLong, independent samples")
