"""Rollouts as use cases: deploy a challenger, see where it stands, pause, resume, promote,
roll back; and the controller's evaluation of a running step.

Governance decides what may be deployed: entering shadow needs every gate of the tier
policy's `staging` step (the challenger is in staging, with its validation sign-off);
taking traffic (a canary step) needs the `prod` step's gates too, the approvals excepted,
which four eyes give on the move to prod itself. Becoming champion is that move: governance
executes the challenger's approved prod request (the old champion is archived, as one prod
version per model demands) and the `champion` alias follows, audited, in the rollout's
transaction. Until its approvals are in, a clean last step waits; a rollback withdraws
the request.

Every change of a rollout is a compare-and-set on its revision, so an operator and the
controller acting at once cannot both succeed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from bankml.access import acting, require, viewing
from bankml.core.canonical import parse_utc_timestamp, utc_timestamp
from bankml.core.decisions import DecisionRecord
from bankml.core.errors import BankmlError, ConflictError, InvalidInputError, NotFoundError
from bankml.core.identity import Permission, Principal
from bankml.core.ports import MetadataStore, Transaction
from bankml.core.registry import ModelVersion, Stage
from bankml.core.rollouts import (
    SHADOW_FAILED,
    Move,
    Plan,
    Result,
    Rollout,
    RolloutStatus,
    StepKind,
    check_challenger,
    judge,
    next_move,
)
from bankml.governance import Oversight
from bankml.monitoring.alerts import AlertDesk
from bankml.registry import Registry
from bankml.rollouts.comparison import latest_run, on_labels, side_by_side
from bankml.rollouts.measures import measure, routes_of
from bankml.serving import EndpointCatalog, Runtime
from bankml.serving.endpoints import CHAMPION, champion_of, check_fits
from bankml.validation.runs import Validation

TRAJECTORY_MOMENTS, MAX_TRAJECTORY_MOMENTS = 8, 50
Baseline = Callable[[str], list[float] | None]  # a version's validation-baseline scores


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluation:
    """A rollout's step measured now: guardrails against thresholds, decisions per route,
    and what the controller would do."""

    rollout: Rollout
    results: list[Result]
    routes: dict[str, int]
    decisions: int  # by the challenger in this step
    elapsed_s: float
    move: Move
    breach: Result | None
    distributions: dict[str, Any]  # champion's and challenger's routes in this step
    comparison: dict[str, Any]  # on matured labels, from monitoring, with a recommendation
    awaiting: list[str]  # the prod approval gates that do not hold yet (four eyes)

    def describe(self) -> dict[str, Any]:
        r = self.rollout
        return {"rollout_id": r.rollout_id, "endpoint": r.endpoint, "status": str(r.status),
                "champion": r.champion_ref, "challenger": r.challenger_ref,
                "step": r.step, "steps": [s.describe() for s in r.plan.steps],
                "current": None if r.current is None else r.current.describe(),
                "step_started_at": r.step_started_at, "elapsed_s": round(self.elapsed_s, 3),
                "decisions": self.decisions, "routes": self.routes,
                "guardrails": [x.describe() for x in self.results],
                "next": str(self.move), "revision": r.revision, "outcome": r.outcome,
                "created_by": r.created_by, "created_at": r.created_at,
                "ended_at": r.ended_at, "distributions": self.distributions,
                "comparison": self.comparison, "recorded_comparison": r.comparison,
                "awaiting": self.awaiting}


class RolloutService:
    def __init__(self, metadata: MetadataStore, registry: Registry, *,
                 endpoints: EndpointCatalog, oversight: Oversight, alerts: AlertDesk,
                 validation: Validation, runtime: Runtime,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._metadata, self._registry, self._endpoints = metadata, registry, endpoints
        self._oversight, self._alerts, self._validation = oversight, alerts, validation
        self._runtime, self._clock = runtime, clock
        self._baselines: dict[str, list[float] | None] = {}

    # -- operations -----------------------------------------------------------------------

    def deploy(self, by: Principal, endpoint: str, ref: str, *, plan: Plan) -> Rollout:
        """Start rolling `ref` out on `endpoint` by `plan`; refused naming the gate or rule."""
        subject = f"endpoint:{endpoint}"
        require(self._metadata, by, Permission.ROLLOUT_DEPLOY, subject)
        served = self._endpoints.version(endpoint)
        model = served.spec["model"]
        champion = champion_of(self._registry, model)
        challenger = self._registry.get(ref)
        with acting(self._metadata, by, Permission.ROLLOUT_DEPLOY, subject) as tx:
            check_challenger(model, champion.number, challenger.name, challenger.number)
            check_fits(served.endpoint, challenger, self._registry.model(model).domain)
            self._check_gates(tx, challenger, takes_traffic=any(
                s.kind == StepKind.CANARY for s in plan.steps) or not plan.steps)
            now = self._now()
            rollout = tx.rollouts.add(Rollout(
                rollout_id=0, endpoint=endpoint, model=model, champion=champion.number,
                challenger=challenger.number, plan=plan, salt=secrets.token_hex(16),
                status=RolloutStatus.RUNNING, step=0, step_started_at=now, created_at=now,
                created_by=by.name))
            tx.audit.record(by.name, "rollout.deployed", subject, {
                "rollout_id": rollout.rollout_id, "champion": champion.ref,
                "challenger": challenger.ref, "plan": plan.describe()})
        self._runtime.forget(endpoint)
        return rollout

    def status(self, by: Principal, endpoint: str) -> Evaluation:
        """The endpoint's active rollout (else its latest) measured now."""
        with viewing(self._metadata, by, Permission.EVIDENCE_READ,
                     f"endpoint:{endpoint}") as tx:
            rollout = tx.rollouts.active(endpoint) or _latest(tx, endpoint)
        return self.evaluate(rollout)

    def history(self, by: Principal, endpoint: str) -> list[Rollout]:
        with viewing(self._metadata, by, Permission.EVIDENCE_READ,
                     f"endpoint:{endpoint}") as tx:
            return tx.rollouts.of(endpoint)

    def pause(self, by: Principal, endpoint: str, *, comment: str = "") -> Rollout:
        return self._change(by, endpoint, Permission.ROLLOUT_PAUSE,
                            status=RolloutStatus.PAUSED, action="rollout.paused", comment=comment)

    def resume(self, by: Principal, endpoint: str, *, comment: str = "") -> Rollout:
        return self._change(by, endpoint, Permission.ROLLOUT_PAUSE,
                            status=RolloutStatus.RUNNING, action="rollout.resumed",
                            comment=comment)

    def rollback(self, by: Principal, endpoint: str, *, comment: str = "") -> Rollout:
        """Every decision back to the champion at once (in this process; in every other
        worker within the runtime's refresh)."""
        return self._change(by, endpoint, Permission.ROLLOUT_ROLLBACK,
                            status=RolloutStatus.ROLLED_BACK, action="rollout.rolled_back",
                            comment=comment)

    def promote(self, by: Principal, endpoint: str, *, comment: str = "") -> Rollout:
        """Make the challenger champion now, whatever step the plan is at (gates hold)."""
        subject = f"endpoint:{endpoint}"
        with acting(self._metadata, by, Permission.ROLLOUT_PROMOTE, subject) as tx:
            rollout = _active(tx, endpoint)
            done = self._promote(tx, by.name, rollout, reason=comment or "promoted early")
        self._runtime.forget(endpoint)
        return done

    # -- the controller's part ------------------------------------------------------------

    def trajectory(self, by: Principal, endpoint: str, *, moments: int = TRAJECTORY_MOMENTS
                   ) -> list[tuple[str, list[Result]]]:
        """The guardrails of the endpoint's rollout (active, else latest) over its current
        step: judged at `moments` evenly spaced moments from the step's start to now (or its
        end) on the decisions logged until each, as the controller judged them then."""
        with viewing(self._metadata, by, Permission.EVIDENCE_READ,
                     f"endpoint:{endpoint}") as tx:
            rollout = tx.rollouts.active(endpoint) or _latest(tx, endpoint)
        if not 1 <= moments <= MAX_TRAJECTORY_MOMENTS:
            raise InvalidInputError("moments", f"{moments} is outside "
                                    f"1..{MAX_TRAJECTORY_MOMENTS}", rule="input.integer_range")
        records, failures = self._step_log(rollout)
        start = parse_utc_timestamp(rollout.step_started_at)
        end = parse_utc_timestamp(rollout.ended_at) if rollout.ended_at else self._clock()
        found = []
        for k in range(1, moments + 1):
            cut = utc_timestamp(start + (end - start) * k / moments)
            # the controller's view at `cut`: every decision of the step logged until then
            seen = [r for r in records if r.decided_at <= cut]
            failed = sum(n for at, n in failures if at <= cut)
            found.append((cut, self._judged(rollout, seen, failed)))
        return found

    def evaluate(self, rollout: Rollout) -> Evaluation:
        """Measure the rollout's current step (or, once ended, its last) from the log."""
        records, failures = self._step_log(rollout)
        results = self._judged(rollout, records, sum(n for _, n in failures))
        with self._metadata.reading() as tx:
            run = latest_run(tx.monitoring.runs(rollout.endpoint), rollout)
            points = [] if run is None else tx.monitoring.points(run.run_id)
            awaiting = self._awaiting_approvals(tx, rollout)
        decisions = sum(1 for r in records if _is_challengers(r, rollout))
        end = parse_utc_timestamp(rollout.ended_at) if rollout.ended_at else self._clock()
        elapsed = (end - parse_utc_timestamp(rollout.step_started_at)).total_seconds()
        chosen, breach = next_move(rollout, results, decisions=decisions, elapsed_s=elapsed,
                                   approved=not awaiting)
        return Evaluation(rollout=rollout, results=results, routes=routes_of(records),
                          decisions=decisions, elapsed_s=elapsed, move=chosen, breach=breach,
                          distributions=side_by_side(records),
                          comparison=on_labels(rollout, run, points), awaiting=awaiting)

    def record_comparison(self, by: Principal, evaluation: Evaluation) -> Rollout | None:
        """Keep the comparison on labels in the rollout record when it changed (the
        controller, each round); audited as `rollout.compared`. None when unchanged."""
        rollout, found = evaluation.rollout, evaluation.comparison
        if found == rollout.comparison:
            return None
        # the controller's own grant (system holds rollback and promote, nothing narrower)
        with acting(self._metadata, by, Permission.ROLLOUT_ROLLBACK,
                    f"endpoint:{rollout.endpoint}") as tx:
            done = tx.rollouts.save(replace(rollout, comparison=found), was=rollout)
            tx.audit.record(by.name, "rollout.compared", f"endpoint:{rollout.endpoint}", {
                "rollout_id": rollout.rollout_id, "challenger": rollout.challenger_ref,
                **{k: found.get(k) for k in ("recommendation", "reason", "run_id",
                                             "auc_difference", "kpi_differences")}})
        return done

    def act(self, by: Principal, evaluation: Evaluation) -> Rollout | None:
        """Carry out the controller's move: roll back on a breach (recording guardrail,
        value and threshold, and opening an alert), advance a clean step, promote after the
        last. None when there is nothing to do; ConflictError if an operator moved first."""
        rollout, chosen = evaluation.rollout, evaluation.move
        if chosen == Move.WAIT:
            return None
        subject = f"endpoint:{rollout.endpoint}"
        raised: list[int] = []
        permission = (Permission.ROLLOUT_ROLLBACK if chosen == Move.ROLL_BACK
                      else Permission.ROLLOUT_PROMOTE)
        with acting(self._metadata, by, permission, subject) as tx:
            now = self._now()
            if chosen == Move.ROLL_BACK and evaluation.breach is not None:
                done = self._roll_back_on_breach(tx, by, evaluation, raised)
            elif chosen == Move.ADVANCE:
                done = tx.rollouts.save(rollout.advanced(at=now), was=rollout)
                tx.audit.record(by.name, "rollout.advanced", subject, {
                    "rollout_id": rollout.rollout_id, "from_step": rollout.step,
                    "to_step": done.step, "step": None if done.current is None
                    else done.current.describe(), "decisions": evaluation.decisions,
                    "guardrails": [r.describe() for r in evaluation.results]})
            else:
                done = self._promote(tx, by.name, rollout, reason="every step was clean")
        self._runtime.forget(rollout.endpoint)
        self._alerts.deliver(raised)
        return done

    # -- internals ------------------------------------------------------------------------

    def _step_log(self, rollout: Rollout) -> tuple[list[DecisionRecord], list[tuple[str, int]]]:
        """The step's decisions of the rollout's model, and its failed shadow work (when
        recorded, how many requests), in one read."""
        with self._metadata.reading() as tx:
            records = [r for r in tx.decisions.records(
                endpoint=rollout.endpoint, since=rollout.step_started_at,
                until=rollout.ended_at) if r.model_name == rollout.model]
            return records, shadow_failures(tx, rollout)

    def _judged(self, rollout: Rollout, records: list[DecisionRecord],
                shadow_failed: int) -> list[Result]:
        served = self._endpoints.version(rollout.endpoint).endpoint
        policy = served.policy("measure")
        measured = measure(rollout, records, favourable=policy.outcomes[0],
                           attributes=served.monitoring_attributes,
                           baseline=self._baseline(rollout.challenger_ref),
                           shadow_failures=shadow_failed)
        return judge(rollout.plan, measured)

    def _roll_back_on_breach(self, tx: Transaction, by: Principal, evaluation: Evaluation,
                             raised: list[int]) -> Rollout:
        rollout, breach = evaluation.rollout, evaluation.breach
        assert breach is not None  # noqa: S101 - act() checked it
        outcome = {"reason": "guardrail", "guardrail": str(breach.guardrail),
                   "value": breach.value, "threshold": breach.threshold, "n": breach.n,
                   "step": rollout.step}
        done = tx.rollouts.save(rollout.moved_to(RolloutStatus.ROLLED_BACK, at=self._now(),
                                                 outcome=outcome), was=rollout)
        self._withdraw(tx, by.name, rollout)
        tx.audit.record(by.name, "rollout.rolled_back", f"endpoint:{rollout.endpoint}", {
            "rollout_id": rollout.rollout_id, "challenger": rollout.challenger_ref,
            **outcome})
        raised.append(self._alerts.raise_one(
            tx, by, endpoint=rollout.endpoint, model=rollout.model,
            metric=f"rollout.{breach.guardrail}",
            title=(f"{rollout.endpoint}: {rollout.challenger_ref} rolled back, "
                   f"{breach.guardrail} {breach.value:.4g} against {breach.threshold:.4g}"),
            detail={"rollout_id": rollout.rollout_id, "value": breach.value,
                    "threshold": breach.threshold}))
        return done

    def _promote(self, tx: Transaction, actor: str, rollout: Rollout, *, reason: str) -> Rollout:
        challenger = tx.models.get(rollout.model, rollout.challenger)
        self._check_gates(tx, challenger, takes_traffic=False)
        self._oversight.promote_challenger(
            tx, challenger, actor=actor,
            reason=f"rollout #{rollout.rollout_id} on {rollout.endpoint}: {reason}")
        now = self._now()
        tx.models.set_alias(rollout.model, CHAMPION, challenger.number, set_at=now,
                            set_by=actor)
        tx.audit.record(actor, "model.alias_set", f"model:{rollout.model}", {
            "alias": CHAMPION, "version": challenger.number, "previous": rollout.champion,
            "reason": f"rollout #{rollout.rollout_id} completed"})
        outcome = {"reason": reason, "champion": challenger.ref,
                   "archived": rollout.champion_ref}
        done = tx.rollouts.save(rollout.moved_to(RolloutStatus.COMPLETED, at=now,
                                                 outcome=outcome), was=rollout)
        tx.audit.record(actor, "rollout.completed", f"endpoint:{rollout.endpoint}", {
            "rollout_id": rollout.rollout_id, **outcome})
        return done

    def _change(self, by: Principal, endpoint: str, permission: Permission, *,
                status: RolloutStatus, action: str, comment: str) -> Rollout:
        subject = f"endpoint:{endpoint}"
        with acting(self._metadata, by, permission, subject) as tx:
            rollout = _active(tx, endpoint)
            outcome = ({"reason": "operator", "by": by.name, "comment": comment}
                       if status == RolloutStatus.ROLLED_BACK else None)
            done = tx.rollouts.save(rollout.moved_to(status, at=self._now(), outcome=outcome),
                                    was=rollout)
            if status == RolloutStatus.ROLLED_BACK:
                self._withdraw(tx, by.name, rollout)
            tx.audit.record(by.name, action, subject, {
                "rollout_id": rollout.rollout_id, "step": rollout.step,
                "challenger": rollout.challenger_ref, "comment": comment})
        self._runtime.forget(endpoint)
        return done

    def _check_gates(self, tx: Transaction, challenger: ModelVersion, *,
                     takes_traffic: bool) -> None:
        """The tier policy's gates for the stage the rollout needs (the prod approvals are
        the promotion's: `Oversight.promote_challenger`); the first that does not hold
        refuses, named."""
        if challenger.stage != Stage.STAGING:
            raise ConflictError(f"{challenger.ref} is {challenger.stage}; a challenger is "
                                "rolled out from staging.", rule="rollout.challenger_staged",
                                field="version")
        needed = [Stage.STAGING, Stage.PROD] if takes_traffic else [Stage.STAGING]
        for stage in needed:
            for gate in self._oversight.gates_in(tx, challenger, stage):
                if gate.passed or (stage == Stage.PROD and gate.approval_role is not None):
                    continue
                purpose = "take traffic" if stage == Stage.PROD else "enter shadow"
                raise ConflictError(f"{challenger.ref} may not {purpose}: the {stage} gate "
                                    f"{gate.rule} does not hold "
                                    f"({gate.detail}).", rule=gate.rule, field="version")

    def _awaiting_approvals(self, tx: Transaction, rollout: Rollout) -> list[str]:
        if not rollout.is_active:
            return []
        challenger = tx.models.get(rollout.model, rollout.challenger)
        if challenger.stage != Stage.STAGING:
            return []  # promotion refuses it, naming rollout.challenger_staged
        return [gate.rule for gate in self._oversight.gates_in(tx, challenger, Stage.PROD)
                if gate.approval_role is not None and not gate.passed]

    def _withdraw(self, tx: Transaction, actor: str, rollout: Rollout) -> None:
        self._oversight.withdraw_challenger(
            tx, tx.models.get(rollout.model, rollout.challenger), by=actor,
            reason=f"rollout #{rollout.rollout_id} on {rollout.endpoint} rolled back")

    def _baseline(self, ref: str) -> list[float] | None:
        if ref not in self._baselines:
            try:
                _, scores = self._validation.development_sample(ref)
                self._baselines[ref] = scores.tolist()
            except BankmlError:
                self._baselines[ref] = None  # no snapshot: PSI cannot be measured
        return self._baselines[ref]

    def _now(self) -> str:
        return utc_timestamp(self._clock())


def _is_challengers(record: DecisionRecord, rollout: Rollout) -> bool:
    return record.model_version == rollout.challenger and record.route != "fallback"


def _active(tx: Transaction, endpoint: str) -> Rollout:
    found = tx.rollouts.active(endpoint)
    if found is None:
        raise NotFoundError("running rollout on endpoint", endpoint,
                            "Deploy one with `bankml deploy`.", field="endpoint")
    return found


def _latest(tx: Transaction, endpoint: str) -> Rollout:
    every = tx.rollouts.of(endpoint)
    if not every:
        raise NotFoundError("rollout on endpoint", endpoint, "Deploy one with `bankml deploy`.",
                            field="endpoint")
    return every[-1]


def shadow_failures(tx: Transaction, rollout: Rollout) -> list[tuple[str, int]]:
    """When, and for how many requests, the challenger failed in shadow during the current
    step (or the last), as the decision service recorded it (`rollout.shadow_failed`)."""
    events = tx.audit.events(subject=f"endpoint:{rollout.endpoint}", action=SHADOW_FAILED,
                             since=parse_utc_timestamp(rollout.step_started_at),
                             until=parse_utc_timestamp(rollout.ended_at)
                             if rollout.ended_at else None)
    return [(event.recorded_at, int(event.payload["requests"])) for event in events
            if event.payload.get("rollout_id") == rollout.rollout_id]
