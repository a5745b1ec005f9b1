"""Closing the loop: a red drift or performance alert starts the model's own pipeline once.

A retraining belongs to the alert that started it (one per alert, held by the store's
unique key on the alert) and records each step it reached: the version it registered,
the validation run (a self-test by the automation), the staging request, and the shadow
rollout, or the step that stopped it and why. Every change is a compare-and-set on the
row's revision.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Self


class Trigger(StrEnum):
    DRIFT = "drift"  # the score, decision rates or an input moved away from development
    PERFORMANCE = "performance"  # accuracy on matured labels fell


def trigger_of(metric: str) -> Trigger | None:
    """Which kind of red a metric's alert is; None for what retraining does not answer
    (data quality, fairness, KPIs, a rollout's guardrails: a new fit is not the remedy)."""
    family = metric.split("[", 1)[0]
    if family in {"score.psi", "score.ks", "decision.psi"} or family.startswith("feature."):
        return Trigger.DRIFT
    if family in {"performance.auc_drop", "performance.brier"}:
        return Trigger.PERFORMANCE
    return None


class RetrainingStatus(StrEnum):
    STARTED = "started"  # claimed for its alert; training
    REGISTERED = "registered"  # the new version is in the registry; validating
    VALIDATED = "validated"  # a validation run stored; asking for staging, deploying
    DEPLOYED = "deployed"  # in shadow as a challenger; promotion waits for people
    STOPPED = "stopped"  # a step refused or failed: `outcome` says which and why


@dataclass(frozen=True, slots=True, kw_only=True)
class Retraining:
    retraining_id: int
    alert_id: int
    endpoint: str
    model: str
    metric: str
    trigger: Trigger
    status: RetrainingStatus
    started_at: str
    started_by: str
    champion: int | None = None  # the version whose spec was rebuilt on fresh data
    version: int | None = None  # the version it registered
    run_id: str | None = None  # its validation run
    request_id: int | None = None  # the staging request
    rollout_id: int | None = None
    updated_at: str = ""
    revision: int = 1
    outcome: dict[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> str | None:
        return None if self.version is None else f"{self.model}@{self.version}"

    def reached(self, status: RetrainingStatus, *, at: str, **changes: Any) -> Self:
        return replace(self, status=status, updated_at=at, **changes)

    def describe(self) -> dict[str, Any]:
        return {"retraining_id": self.retraining_id, "alert_id": self.alert_id,
                "endpoint": self.endpoint, "model": self.model, "metric": self.metric,
                "trigger": str(self.trigger), "status": str(self.status),
                "started_at": self.started_at, "started_by": self.started_by,
                "champion": self.champion, "version": self.ref, "run_id": self.run_id,
                "request_id": self.request_id, "rollout_id": self.rollout_id,
                "updated_at": self.updated_at, "outcome": self.outcome}


__all__ = ["Retraining", "RetrainingStatus", "Trigger", "trigger_of"]
