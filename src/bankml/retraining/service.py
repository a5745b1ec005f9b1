"""Closing the loop: after a monitoring run, a red drift or performance alert of a model
whose monitoring policy allows it starts the model's own pipeline on fresh data.

The automation principal (`BANKML_AUTOMATION_ACTOR`, kind `automation`) claims the alert's
retraining (one per alert: the store's unique key, so racing runs start one), rebuilds the
champion's recorded spec on fresh data (the source the spec declares, or the policy's or the
job's `data`) and registers the version; runs validation on it (a self-test: the
automation built it, so no sign-off can rest on it); asks for staging (it moves at once
only if the tier policy's staging gates hold); and deploys it in shadow by a held plan (the
controller never promotes it; people do, with the prod approvals). A step that is refused
or fails stops the retraining with its rule and reason. Every step is on the retraining's
row and in the audit trail under the alert (`alert:<id>`), for the weekly review.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bankml.access import acting, viewing
from bankml.core.canonical import utc_timestamp
from bankml.core.errors import BankmlError, ConflictError, NotFoundError
from bankml.core.identity import Permission, Principal
from bankml.core.monitoring import Alert, MonitoringRun
from bankml.core.ports import MetadataStore, Transaction
from bankml.core.registry import Stage
from bankml.core.retraining import Retraining, RetrainingStatus, Trigger, trigger_of
from bankml.core.rollouts import Plan, Step, StepKind
from bankml.core.validation import Opinion, ValidationRun
from bankml.governance import Oversight
from bankml.monitoring.policy import MonitoringPolicy, RetrainingPolicy
from bankml.registry import Registry
from bankml.rollouts import RolloutService
from bankml.serving.endpoints import champion_of
from bankml.training import Trainer
from bankml.training.allowlist import SCIKIT_LEARN_CLASSIFIERS, EstimatorAllowlist
from bankml.training.spec import spec_from_manifest
from bankml.validation.runs import Validation

log = logging.getLogger(__name__)


class Retrainer:
    """Starts and carries retrainings for red alerts, as the automation principal."""

    def __init__(self, metadata: MetadataStore, registry: Registry, *, training: Trainer,
                 validation: Validation, oversight: Oversight, rollouts: RolloutService,
                 automation: Principal,
                 allowlist: EstimatorAllowlist = SCIKIT_LEARN_CLASSIFIERS,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._metadata, self._registry, self._training = metadata, registry, training
        self._validation, self._oversight, self._rollouts = validation, oversight, rollouts
        self._automation, self._clock, self._allowlist = automation, clock, allowlist

    @property
    def automation(self) -> Principal:
        return self._automation

    def after_run(self, run: MonitoringRun, policy: MonitoringPolicy, *,
                  data: Path | None = None) -> list[Retraining]:
        """Start a retraining for an unresolved red alert of the run's endpoint that the
        policy lets retrain, unless its model retrained since the alert opened (one
        retraining per alert at most: the store's unique key); returns those started."""
        with self._metadata.reading() as tx:
            alerts = sorted(tx.alerts.all(endpoint=run.endpoint, unresolved=True),
                            key=lambda a: a.alert_id)
            known = tx.retrainings.all(run.endpoint)
        started: list[Retraining] = []
        for alert in alerts:
            trigger = trigger_of(alert.metric or "")
            rule = policy.retraining.get(alert.model)
            if alert.severity != "red" or trigger is None or rule is None \
                    or trigger not in rule.when:
                continue
            # A retraining answers every red alert of its model open when it started: the
            # two inputs that drifted together start one, and next week's run none again.
            if any(r.model == alert.model and r.started_at >= alert.opened_at
                   for r in [*known, *started]):
                continue
            claimed = self._claim(alert, trigger, run)
            if claimed is None:  # another process claimed it: its retraining covers the rest
                with self._metadata.reading() as tx:
                    known = tx.retrainings.all(run.endpoint)
                continue
            started.append(self._carry(claimed, rule, data or rule.data))
        return started

    def retrainings(self, by: Principal, endpoint: str | None = None) -> list[Retraining]:
        with viewing(self._metadata, by, Permission.EVIDENCE_READ,
                     f"retrainings:{endpoint or '*'}") as tx:
            return tx.retrainings.all(endpoint)

    # -- the steps ------------------------------------------------------------------------

    def _claim(self, alert: Alert, trigger: Trigger, run: MonitoringRun) -> Retraining | None:
        subject = f"alert:{alert.alert_id}"
        with acting(self._metadata, self._automation, Permission.MODEL_REGISTER,
                    subject) as tx:
            if _is_user(tx, self._automation.name):
                raise ConflictError(f"{self._automation.name!r} is a user's name; give the "
                                    "automation one of its own (BANKML_AUTOMATION_ACTOR).",
                                    rule="retraining.automation_named", field="automation")
            now = self._now()
            try:
                claimed = tx.retrainings.claim(Retraining(
                    retraining_id=0, alert_id=alert.alert_id, endpoint=str(alert.endpoint),
                    model=alert.model, metric=str(alert.metric), trigger=trigger,
                    status=RetrainingStatus.STARTED, started_at=now,
                    started_by=self._automation.name, updated_at=now))
            except ConflictError as lost:
                if lost.rule != "retraining.one_per_alert":
                    raise
                return None  # another run started it: one red alert, one retraining
            tx.audit.record(self._automation.name, "retraining.started", subject, {
                "retraining_id": claimed.retraining_id, "endpoint": claimed.endpoint,
                "model": claimed.model, "metric": claimed.metric, "trigger": str(trigger),
                "monitoring_run": run.run_id, "monitored_by": run.created_by})
        return claimed

    def _carry(self, retraining: Retraining, rule: RetrainingPolicy,
               data: Path | None) -> Retraining:
        step = "train"
        try:
            champion = champion_of(self._registry, retraining.model)
            retraining = self._reach(retraining, RetrainingStatus.STARTED,
                                     champion=champion.number)
            manifest = champion.manifest
            if manifest is None:
                raise ConflictError(f"{champion.ref} has no manifest: only a version built "
                                    "by `bankml train` can be retrained.",
                                    rule="retraining.manifest", field="version")
            loaded = spec_from_manifest(manifest, source=f"manifest of {champion.ref}",
                                        allowlist=self._allowlist)
            version = self._training.train(self._automation, loaded, data=data)
            retraining = self._reach(retraining, RetrainingStatus.REGISTERED,
                                     version=version.number,
                                     detail={"from": champion.ref, "data": str(data or
                                             manifest.data_source.path or
                                             manifest.data_source.dataset)})
            step = "validate"
            run = self._validation.run(self._automation, version.ref)
            retraining = self._reach(retraining, RetrainingStatus.VALIDATED, run_id=run.run_id,
                                     detail=_run_summary(run))
            if not _passing(run):
                return self._stop(retraining, step, rule="retraining.validation_passed",
                                  reason=f"validation run {run.run_id}: "
                                         f"{run.opinion.label}, fairness "
                                         f"{'passed' if run.fairness_passed else 'failed'}")
            step = "staging"
            request = self._oversight.request_transition(
                self._automation, version.ref, Stage.STAGING,
                reason=f"retraining #{retraining.retraining_id} after red alert "
                       f"#{retraining.alert_id} ({retraining.metric})")
            retraining = self._reach(retraining, RetrainingStatus.VALIDATED,
                                     request_id=request.request_id, action="requested",
                                     detail={"stage": str(Stage.STAGING),
                                             "request_status": str(request.status)})
            staged = self._registry.get(version.ref)
            if staged.stage != Stage.STAGING:
                failing = [g for g in self._oversight.gates(self._automation, version.ref,
                                                            Stage.STAGING) if not g.passed]
                return self._stop(retraining, step, rule=failing[0].rule if failing
                                  else "rollout.challenger_staged",
                                  reason="staging waits for people: " + "; ".join(
                                      f"{g.rule} ({g.detail})" for g in failing),
                                  request_id=request.request_id)
            step = "deploy"
            rollout = self._rollouts.deploy(self._automation, retraining.endpoint,
                                            version.ref, plan=_shadow_plan(rule))
            return self._reach(retraining, RetrainingStatus.DEPLOYED,
                               rollout_id=rollout.rollout_id,
                               detail={"plan": rollout.plan.describe()})
        except BankmlError as refused:
            return self._stop(retraining, step, rule=refused.rule or type(refused).__name__,
                              reason=str(refused), field=refused.field)
        except Exception as failed:  # a crash in training must not leave it "started"
            log.exception("retraining #%s failed at %s", retraining.retraining_id, step)
            return self._stop(retraining, step, rule="retraining.failed",
                              reason=f"{type(failed).__name__}: {failed}")

    def _reach(self, retraining: Retraining, status: RetrainingStatus, *,
               detail: dict[str, Any] | None = None, action: str | None = None,
               **changes: Any) -> Retraining:
        subject = f"alert:{retraining.alert_id}"
        with acting(self._metadata, self._automation, Permission.EVIDENCE_READ,
                    subject) as tx:
            was = tx.retrainings.get(retraining.retraining_id)
            done = tx.retrainings.save(was.reached(status, at=self._now(), **changes), was=was)
            if detail is not None or status != was.status:
                tx.audit.record(self._automation.name, f"retraining.{action or status}", subject, {
                    "retraining_id": done.retraining_id, "version": done.ref,
                    **{k: v for k, v in changes.items() if k != "champion"},
                    **(detail or {})})
        return done

    def _stop(self, retraining: Retraining, step: str, *, rule: str, reason: str,
              **detail: Any) -> Retraining:
        outcome = {"step": step, "rule": rule, "reason": reason,
                   **{k: v for k, v in detail.items() if v is not None}}
        subject = f"alert:{retraining.alert_id}"
        with acting(self._metadata, self._automation, Permission.EVIDENCE_READ,
                    subject) as tx:
            was = tx.retrainings.get(retraining.retraining_id)
            done = tx.retrainings.save(was.reached(RetrainingStatus.STOPPED, at=self._now(),
                                                   outcome=outcome), was=was)
            tx.audit.record(self._automation.name, "retraining.stopped", subject, {
                "retraining_id": done.retraining_id, "version": done.ref, **outcome})
        return done

    def _now(self) -> str:
        return utc_timestamp(self._clock())


def _is_user(tx: Transaction, name: str) -> bool:
    try:
        tx.users.get(name)
    except NotFoundError:
        return False
    return True


def _passing(run: ValidationRun) -> bool:
    """Adequate (no more than minor deficiencies) with fairness passed."""
    return run.opinion <= Opinion.MINOR_DEFICIENCIES and run.fairness_passed


def _run_summary(run: ValidationRun) -> dict[str, Any]:
    return {"run_id": run.run_id, "opinion": run.opinion.label, "self_test": run.self_test,
            "fairness_passed": run.fairness_passed, "reds": run.reds, "ambers": run.ambers}


def _shadow_plan(rule: RetrainingPolicy) -> Plan:
    return Plan(steps=(Step(kind=StepKind.SHADOW, share=rule.shadow_share,
                            min_decisions=rule.min_decisions,
                            min_duration_s=rule.min_duration_s),), hold=True)


__all__ = ["Retrainer"]
