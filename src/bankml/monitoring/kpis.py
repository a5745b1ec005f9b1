"""Business KPIs of one model version and route over a window, by the model's domain.

What each domain reports is `DomainProfile.kpis` (core/domains.py). Rates over decisions
use every decision of the window; figures that need the outcome use the matured, labelled
ones only (as performance does), and say on how many they rest (`n`):

- credit: approval and refer rates; bad rate of approved (defaults among approved
  matured decisions); expected loss `sum PD x LGD x EAD` over the approved, where the
  policy declares the endpoint's LGD and which input is the exposure;
- fraud: fraud caught (confirmed frauds not allowed through) as a count and, where the
  policy names the amount's input, a value; the false-positive rate (genuine payments
  stopped, of genuine payments); challenge and block rates;
- AML: alert volume and rate; alert-to-SAR conversion (SARs filed of matured alerts);
- propensity: offer rate; take-up of matured offers; top-decile lift (the event rate of
  the highest-scored tenth over the overall rate, matured decisions);
- every domain that lists it: the override rate (SR 11-7 override analysis): decisions a
  person overrode, from the decisions service's overrides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from bankml.arrays import FloatArray
from bankml.core.decisions import Outcome
from bankml.core.domains import DomainProfile
from bankml.core.monitoring import MetricPoint
from bankml.monitoring.policy import KpiInputs
from bankml.monitoring.window import WindowColumns

TOP_SHARE = 0.10  # the top decile of lift
STOPPED = (str(Outcome.BLOCK), str(Outcome.CHALLENGE))


@dataclass(frozen=True, slots=True, eq=False)
class Matured:
    """The matured cohort's decisions that have a label: their rows in the cohort's
    columns (one maturity period before the window) and their outcomes."""

    window: WindowColumns  # the cohort
    mature: int  # the cohort's decisions old enough to judge, labelled or not
    rows: npt.NDArray[np.int64]
    events: npt.NDArray[np.int64]  # 1: the domain's event


@dataclass(frozen=True, slots=True, eq=False)
class _Context:
    point: Callable[..., MetricPoint]
    window: WindowColumns
    decided: npt.NDArray[np.object_]  # every decision's outcome
    rows: npt.NDArray[np.int64]  # the matured, labelled decisions
    labelled: npt.NDArray[np.object_]  # their outcomes
    events: npt.NDArray[np.int64]  # and their labels
    inputs: KpiInputs
    cohort: WindowColumns  # whose columns `rows` index

    def rate(self, name: str, mask: npt.NDArray[np.bool_], over: int,
             detail: str = "") -> MetricPoint:
        value = float(mask.sum() / over) if over else None
        return self.point(f"kpi.{name}", value, over, judged=False, detail=detail)


def kpi_points(point: Callable[..., MetricPoint], window: WindowColumns, *,
               domain: DomainProfile, matured: Matured, inputs: KpiInputs
               ) -> list[MetricPoint]:
    """The domain's KPIs as points (reported, not judged, but the override rate)."""
    decided = np.asarray(window.outcomes, dtype=object)
    judged = np.asarray(matured.window.outcomes, dtype=object)
    context = _Context(point=point, window=window, decided=decided, rows=matured.rows,
                       labelled=judged[matured.rows], events=matured.events, inputs=inputs,
                       cohort=matured.window)
    wanted = set(domain.kpis)
    points = _decision_rates(context, wanted) + _outcome_kpis(context, wanted)
    if "lift" in wanted:
        points.append(_lift(point, matured.window.score_array()[matured.rows],
                            matured.events))
    if "override_rate" in wanted:
        n = decided.size
        changed = window.overridden()
        points.append(point("kpi.override_rate", float(changed.mean()) if n else None, n,
                            detail=f"{int(changed.sum())} of {n} decisions overridden "
                                   "(SR 11-7 override analysis)"))
    return points


def _decision_rates(c: _Context, wanted: set[str]) -> list[MetricPoint]:
    """KPIs of the decisions alone: every decision of the window counts."""
    n, points = c.decided.size, []
    for name, outcome in (("refer_rate", Outcome.REFER), ("challenge_rate", Outcome.CHALLENGE),
                          ("block_rate", Outcome.BLOCK), ("alert_rate", Outcome.ALERT)):
        if name in wanted:
            points.append(c.rate(name, c.decided == str(outcome), n))
    if "alert_volume" in wanted:
        points.append(c.point("kpi.alert_volume", float((c.decided == str(Outcome.ALERT)).sum()),
                              n, judged=False))
    if "expected_loss" in wanted:
        points.append(_expected_loss(c.point, c.window, c.decided, c.inputs))
    return points


def _outcome_kpis(c: _Context, wanted: set[str]) -> list[MetricPoint]:
    """KPIs that need the outcome: matured, labelled decisions only."""
    y, labelled, points = c.events, c.labelled, []
    for name, outcome, detail in (
            ("bad_rate_approved", Outcome.APPROVE, "defaults among approved matured decisions"),
            ("alert_to_sar", Outcome.ALERT, "SARs filed of matured alerts"),
            ("take_up_rate", Outcome.OFFER, "products taken of matured offers")):
        if name in wanted:
            chosen = labelled == str(outcome)
            points.append(c.rate(name, (y == 1) & chosen, int(chosen.sum()), detail))
    stopped = np.isin(labelled, STOPPED)
    if "fraud_caught" in wanted:
        caught, frauds = (y == 1) & stopped, int((y == 1).sum())
        points.append(c.point("kpi.fraud_caught", float(caught.sum()), frauds, judged=False,
                              detail=f"of {frauds} confirmed frauds, matured"))
        if "fraud_value_caught" in wanted and c.inputs.value_field:
            amount = _numbers(c.cohort.column(c.inputs.value_field))[c.rows]
            points.append(c.point("kpi.fraud_value_caught", float(np.nansum(amount[caught])),
                                  int(caught.sum()), judged=False,
                                  detail=f"sum of {c.inputs.value_field} of frauds caught"))
    if "false_positive_rate" in wanted:
        genuine = y == 0
        points.append(c.rate("false_positive_rate", genuine & stopped, int(genuine.sum()),
                             "genuine (matured) payments blocked or challenged"))
    return points


def _numbers(column: pd.Series) -> FloatArray:
    return pd.to_numeric(column, errors="coerce").to_numpy(np.float64)


def _expected_loss(point: Callable[..., MetricPoint], window: WindowColumns,
                   decided: npt.NDArray[np.object_], inputs: KpiInputs) -> MetricPoint:
    approved = decided == str(Outcome.APPROVE)
    if inputs.lgd is None or inputs.ead_field is None:
        return point("kpi.expected_loss", None, int(approved.sum()), judged=False,
                     detail="declare the endpoint's lgd and ead_field in the policy's kpis")
    exposure = _numbers(window.column(inputs.ead_field))
    loss = window.score_array() * inputs.lgd * exposure
    return point("kpi.expected_loss", float(np.nansum(loss[approved])), int(approved.sum()),
                 judged=False, detail=f"sum PD x LGD {inputs.lgd:g} x {inputs.ead_field} "
                                      "over approved decisions")


def _lift(point: Callable[..., MetricPoint], scores: FloatArray,
          events: npt.NDArray[np.int64]) -> MetricPoint:
    """Event rate of the first tenth by score (ties in decision order) over the rate."""
    if events.size == 0 or events.sum() == 0:
        return point("kpi.lift", None, int(events.size), judged=False,
                     detail="needs matured events")
    top = max(1, int(np.ceil(events.size * TOP_SHARE)))
    order = np.argsort(-scores, kind="stable")[:top]
    lift = float(events[order].mean() / events.mean())
    return point("kpi.lift", lift, int(events.size), judged=False,
                 detail=f"top {TOP_SHARE:.0%} ({top}) of matured decisions by score")
