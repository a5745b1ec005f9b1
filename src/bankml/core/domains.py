"""What a credit, fraud, AML or propensity model means, in one place per domain.

Training, validation, decisions and monitoring look a domain up here instead of branching
on it: what the score is called, what a label of 1 is, which decision policy kinds fit,
which validation battery runs, which metrics and KPIs are reported, and how long a label
takes to mature.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bankml.core.decisions import PolicyKind
from bankml.core.registry import Domain


class Battery(StrEnum):
    CREDIT = "credit"  # discrimination, calibration per grade, stability, concentration
    ALERTING = "alerting"  # precision and recall at an alert budget, below-the-line
    RANKING = "ranking"  # lift and gains by decile


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainProfile:
    domain: Domain
    output: str  # the name of the score a version gives
    event: str  # what a label of 1 means
    policy_kinds: tuple[PolicyKind, ...]  # decision policy kinds that fit; the first is usual
    battery: Battery  # also what fairness compares: approvals, alert rates or offers
    metrics: tuple[str, ...]  # evaluation metrics reported at training by default
    kpis: tuple[str, ...]  # business KPIs monitoring reports
    label_maturity_days: int  # how long until an outcome is final (default)
    validation_policy: str  # the shipped validation policy (validation/policies/NAME.yaml)

    @property
    def default_policy_kind(self) -> PolicyKind:
        return self.policy_kinds[0]


PROFILES: dict[Domain, DomainProfile] = {
    Domain.CREDIT: DomainProfile(
        domain=Domain.CREDIT, output="probability_of_default", event="default",
        policy_kinds=(PolicyKind.APPROVE_REFER_DECLINE,), battery=Battery.CREDIT,
        metrics=("auc", "gini", "ks", "brier"),
        kpis=("approval_rate", "refer_rate", "bad_rate_approved", "expected_loss",
              "override_rate"),
        label_maturity_days=365, validation_policy="credit"),
    Domain.FRAUD: DomainProfile(
        domain=Domain.FRAUD, output="fraud_probability", event="fraud",
        policy_kinds=(PolicyKind.BLOCK_ALLOW, PolicyKind.ALLOW_CHALLENGE_BLOCK),
        battery=Battery.ALERTING, metrics=("auc", "average_precision", "brier"),
        kpis=("fraud_caught", "fraud_value_caught", "false_positive_rate", "challenge_rate",
              "block_rate", "override_rate"),
        label_maturity_days=90, validation_policy="fraud"),
    Domain.AML: DomainProfile(
        domain=Domain.AML, output="suspicion_score", event="suspicious activity reported",
        policy_kinds=(PolicyKind.ALERT,), battery=Battery.ALERTING,
        metrics=("auc", "average_precision"),
        kpis=("alert_volume", "alert_rate", "alert_to_sar", "override_rate"),
        label_maturity_days=180, validation_policy="aml"),
    Domain.PROPENSITY: DomainProfile(
        domain=Domain.PROPENSITY, output="propensity", event="product taken",
        policy_kinds=(PolicyKind.OFFER,), battery=Battery.RANKING,
        metrics=("auc", "gini", "brier"), kpis=("offer_rate", "take_up_rate", "lift"),
        label_maturity_days=30, validation_policy="propensity"),
    Domain.OTHER: DomainProfile(
        domain=Domain.OTHER, output="score", event="event",
        policy_kinds=tuple(PolicyKind), battery=Battery.RANKING, metrics=("auc", "brier"),
        kpis=(), label_maturity_days=30, validation_policy="propensity"),
}


def profile(domain: Domain | str) -> DomainProfile:
    return PROFILES[Domain(domain)]
