"""Champion against challenger: the two routes of one endpoint over the same window.

A canary takes its own share of the customers, so each route's matured, labelled decisions
are a sample of their own, and their AUCs are compared by DeLong's variances of
independent samples: `z = (AUC_challenger - AUC_champion) / sqrt(s2_challenger +
s2_champion)`, two-sided (DeLong, DeLong & Clarke-Pearson 1988;
validation.discrimination.auc_delong). Every KPI both routes report is given as the
challenger's value less the champion's.

A shadow challenger scored the very applicants the champion decided: each shadow decision
carries its champion decision's label, score and outcome (monitoring.window.pair_shadows),
so the two AUCs are compared on the same labelled applicants by the paired DeLong test
(`validation.discrimination.compare_auc`, whose covariance term the independent test
lacks), and the KPIs by what each model decided for those same applicants. A shadow's
outcome was never acted on: its bad rate of approved is the bad rate among those the
challenger would have approved, measured on the labels of what really happened.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from bankml.core.decisions import Outcome
from bankml.core.monitoring import MetricPoint, Status
from bankml.core.rollouts import Route
from bankml.monitoring.kpis import STOPPED, Matured
from bankml.monitoring.window import WindowColumns
from bankml.validation.discrimination import auc_delong, compare_auc

# KPIs of the labelled pairs: the event rate among the decisions given an outcome
AMONG = {"kpi.bad_rate_approved": Outcome.APPROVE, "kpi.alert_to_sar": Outcome.ALERT,
         "kpi.take_up_rate": Outcome.OFFER}
RATES = {f"kpi.{o}_rate": str(o) for o in Outcome}  # decision rates: every paired decision


@dataclass(frozen=True, slots=True, eq=False)
class Measured:
    """One route's window, its matured labels and the points measured on it."""

    window: WindowColumns
    matured: Matured
    points: list[MetricPoint]


def challenger_points(champion: Measured, challenger: Measured) -> list[MetricPoint]:
    """The challenger's AUC difference (with its DeLong test) and KPI deltas, as points of
    the challenger's version and route; reported, not judged. A shadow route is compared
    on the applicants both scored (paired), any other as a sample of its own."""
    template = MetricPoint(metric="", model=challenger.window.model,
                           route=challenger.window.route, value=None, n=0,
                           status=Status.INFO)
    if challenger.window.route == Route.SHADOW:
        return [_paired_auc_difference(template, champion, challenger),
                *_paired_deltas(template, champion, challenger)]
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
    from scipy import stats  # noqa: PLC0415 - SciPy loads only when a test needs it
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


def _paired_auc_difference(template: MetricPoint, champion: Measured,
                           shadow: Measured) -> MetricPoint:
    """Both AUCs on the matured shadow decisions whose champion decision has a label."""
    matured = shadow.matured
    y = matured.events
    left_out = matured.mature - int(y.size)
    dropped = (f"{left_out} matured shadow decisions left out: their champion decision "
               "has no label yet, or is not in the window")
    point = replace(template, metric="challenger.auc_difference", n=int(y.size))
    if y.size < 2 or int(y.sum()) in (0, y.size):
        return replace(point, detail="needs matured labels of both classes on the "
                                     f"champion decisions the shadow scored; {dropped}")
    ours = _champion_scores(matured.window)[matured.rows]
    theirs = matured.window.score_array()[matured.rows]
    tested = compare_auc(y, theirs, ours)
    return replace(point, value=tested.difference, p_value=tested.p_value,
                   baseline=tested.auc_b,
                   detail=f"AUC {tested.auc_a:.3f} against champion {tested.auc_b:.3f} "
                          f"({champion.window.model}) on the same {y.size} applicants; "
                          f"DeLong, paired (correlation {tested.correlation:.3f}); {dropped}")


def _paired_deltas(template: MetricPoint, champion: Measured,
                   shadow: Measured) -> list[MetricPoint]:
    """Each KPI the shadow route reports that a pair can give: decision rates over the
    window's paired decisions, outcome KPIs over the matured labelled pairs; the shadow's
    value less the champion's on the same applicants."""
    window, matured = shadow.window, shadow.matured
    paired = np.flatnonzero(~np.isnan(_champion_scores(window)))
    decided = (_outcomes(window.outcomes, paired),
               _outcomes(window.champion_outcomes or [], paired))
    labelled = (_outcomes(matured.window.outcomes, matured.rows),
                _outcomes(matured.window.champion_outcomes or [], matured.rows))
    y = matured.events
    points = []
    for metric in sorted({p.metric for p in shadow.points if p.metric.startswith("kpi.")}):
        if metric in RATES:
            mine, theirs = (_share(o == RATES[metric], o.size) for o in decided)
            n = int(paired.size)
        elif metric in AMONG:
            chosen = [o == str(AMONG[metric]) for o in labelled]
            mine, theirs = (_share((y == 1) & c, int(c.sum())) for c in chosen)
            n = int(chosen[0].sum())
        elif metric == "kpi.false_positive_rate":
            genuine = y == 0
            mine, theirs = (_share(genuine & np.isin(o, STOPPED), int(genuine.sum()))
                            for o in labelled)
            n = int(genuine.sum())
        else:
            continue
        if mine is None or theirs is None:
            continue
        points.append(replace(template, metric=f"challenger.delta[{metric}]",
                              value=mine - theirs, n=n, baseline=theirs,
                              detail=f"shadow {mine:.4g} against champion {theirs:.4g} "
                                     f"({champion.window.model}) on the same {n} "
                                     "applicants (the shadow's decisions were not acted on)"))
    return points


def _champion_scores(window: WindowColumns) -> npt.NDArray[np.float64]:
    if window.champion_scores is None:
        return np.full(len(window), np.nan)
    return window.champion_scores


def _outcomes(outcomes: Sequence[str | None], rows: npt.NDArray[np.int64]
              ) -> npt.NDArray[np.object_]:
    return np.asarray(outcomes, dtype=object)[rows] if rows.size else np.array([], object)


def _share(mask: npt.NDArray[np.bool_], over: int) -> float | None:
    return float(mask.sum() / over) if over else None
