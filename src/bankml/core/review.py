"""The weekly production model review, as data: what one report (and one meeting) covers.

Gathered by `bankml.review` from the stores, laid out by `bankml.reports.weekly`. Every
figure is a stored monitoring point (its value, status and n) next to the same metric of
the week before; nothing here is computed again but the Gini (2 AUC - 1) and the RAG.

RAG of a model on an endpoint: the inventory's rule (`core.monitoring.rag_of`) over the
points of the week's latest monitoring run for the model's champion route, or `not
monitored` when the week has no run. A model's RAG is the worst of its endpoints'.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bankml.core.monitoring import Alert, MetricPoint, Status
from bankml.core.monitoring import rag_of as monitoring_rag_of
from bankml.core.oversight import Finding, TransitionRequest
from bankml.core.retraining import Retraining, RetrainingStatus
from bankml.core.rollouts import Rollout


class Rag(StrEnum):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"
    NOT_MONITORED = "not monitored"


RAG_ORDER = (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.NOT_MONITORED)  # worst first


def rag_of(points: list[MetricPoint]) -> Rag:
    """The inventory's rule (`core.monitoring.rag_of`) on the week's points alone (the
    week's alerts are a section of their own); a point without the sample to be judged is
    not monitoring."""
    found = monitoring_rag_of(points, ()).status
    judged = {Status.RED: Rag.RED, Status.AMBER: Rag.AMBER, Status.GREEN: Rag.GREEN}
    return Rag.NOT_MONITORED if found is None else judged.get(found, Rag.NOT_MONITORED)


def worst(rags: list[Rag]) -> Rag:
    return min(rags, key=RAG_ORDER.index, default=Rag.NOT_MONITORED)


@dataclass(frozen=True, slots=True, kw_only=True)
class WeekFigure:
    """One metric this week (the latest run's point) and the week before."""

    metric: str
    value: float | None
    status: str
    n: int
    previous: float | None = None
    previous_status: str | None = None  # None: the metric was not measured the week before

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointWeek:
    """A production model's week on one endpoint, from its monitoring runs and its log."""

    endpoint: str
    run_id: str | None  # the week's latest monitoring run; None: not monitored this week
    window: str  # "start .. end" of that run's window
    version: str | None  # the model version its champion points measure
    rag: Rag
    previous_rag: Rag
    drift: tuple[WeekFigure, ...]  # score.psi and feature.psi[...] per input
    performance: tuple[WeekFigure, ...]  # AUC, Gini, Brier, AUC drop on matured labels
    kpis: tuple[WeekFigure, ...]
    decisions: int  # decided in the week
    overridden: int  # decisions a person overrode, by when the override was recorded
    rollouts: tuple[Rollout, ...]  # under way at some time in the week
    retrainings: tuple[Retraining, ...]  # of the model, started in the week

    @property
    def rollbacks(self) -> tuple[Rollout, ...]:
        return tuple(r for r in self.rollouts if r.status == "rolled_back")


def steps_reached(retraining: Retraining) -> list[str]:
    """Each step a retraining reached, in order, from what its row records; a stopped one
    ends with the step that stopped it and the rule."""
    steps = ["started" + (f" from {retraining.model}@{retraining.champion}"
                          if retraining.champion is not None else "")]
    if retraining.ref is not None:
        steps.append(f"registered {retraining.ref}")
    if retraining.run_id is not None:
        steps.append(f"validated (run {retraining.run_id})")
    if retraining.request_id is not None:
        steps.append(f"staging requested (#{retraining.request_id})")
    if retraining.rollout_id is not None:
        steps.append(f"deployed in shadow (rollout #{retraining.rollout_id})")
    if retraining.status == RetrainingStatus.STOPPED:
        steps.append(f"stopped at {retraining.outcome.get('step', '?')} "
                     f"({retraining.outcome.get('rule', '?')})")
    return steps


def recommendation_of(rollout: Rollout) -> str:
    """The recommendation of the comparison kept in the rollout record; `not compared`
    before the controller recorded one."""
    return str(rollout.comparison.get("recommendation", "not compared"))


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelWeek:
    """One production model's part of the review."""

    model: str
    domain: str
    tier: int
    owner: str
    stage: str
    production_version: str
    rag: Rag
    previous_rag: Rag
    endpoints: tuple[EndpointWeek, ...]
    alerts_opened: tuple[Alert, ...]  # in the week
    alerts_closed: tuple[Alert, ...]  # resolved in the week
    alerts_unresolved: tuple[Alert, ...]  # at the end of the week (or now)
    approvals_pending: tuple[TransitionRequest, ...]
    last_validation: str | None
    next_review_due: str | None
    review_overdue: bool
    findings_open: tuple[Finding, ...]
    findings_overdue: int


@dataclass(frozen=True, slots=True, kw_only=True)
class WeeklyReview:
    week: str  # 2026-W49
    start: str  # Monday 00:00 UTC
    end: str  # the next Monday, exclusive
    as_of: str  # the day open items are judged on: the week's last day, or today
    models: tuple[ModelWeek, ...]
    changes: tuple[str, ...]  # since the week before
    decisions_needed: tuple[str, ...]

    def by_rag(self) -> dict[Rag, list[str]]:
        return {rag: [m.model for m in self.models if m.rag == rag] for rag in RAG_ORDER}


__all__ = ["EndpointWeek", "ModelWeek", "Rag", "WeekFigure", "WeeklyReview", "rag_of",
           "recommendation_of", "steps_reached", "worst"]
