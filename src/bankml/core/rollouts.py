"""Rollouts: a challenger's way from shadow through canary steps to champion, as data.

A plan is an ordered list of steps (shadow, then canary with increasing shares), each with
a minimum number of decisions and a minimum duration, and guardrails with thresholds. The
controller measures the running step, `judge` turns the measurements into results against
the thresholds, and `next_move` says what to do: wait, advance, promote, or roll back.
Statistical guardrails wait for their minimum sample; a breach rolls back at once.

Routing is sticky: `arm_for` hashes the pseudonymised entity id with the rollout's salt,
so a customer sees one model for the whole of a step, and the share of customers sent to
the challenger is the step's declared share.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Self

from bankml.core.errors import ConflictError, InvalidInputError

BUCKETS = 10_000  # shares are resolved to a hundredth of a percent


class StepKind(StrEnum):
    SHADOW = "shadow"  # the challenger scores a copy of the requests; never answers
    CANARY = "canary"  # the challenger answers the step's share of customers


class Strategy(StrEnum):
    SHADOW = "shadow"  # shadow, then canary 5, 25, 50 %, then full
    CANARY = "canary"  # canary 5, 25, 50 %, then full
    FULL = "full"  # the challenger becomes champion at once (gates for prod hold)


class Route(StrEnum):
    """The route a decision took; recorded in each decision."""

    CHAMPION = "champion"
    CANARY = "canary"
    FALLBACK = "fallback"  # the customer's arm was canary, but the challenger failed
    SHADOW = "shadow"


# Shadow work that failed leaves no decision record; the decision service records each
# flush's failures per rollout as this audit event, which the error-rate guardrail counts.
SHADOW_FAILED = "rollout.shadow_failed"


class Guardrail(StrEnum):
    ERROR_RATE = "error_rate"  # challenger's failed requests / requests
    P99_LATENCY_MS = "p99_latency_ms"  # challenger's 99th percentile decision latency
    SCORE_PSI = "score_psi"  # challenger's scores against its validation baseline
    DECISION_RATE_CHANGE = "decision_rate_change"  # |favourable rate: challenger - champion|
    DISPARATE_IMPACT = "disparate_impact"  # lowest group's favourable rate / highest's


# Which way a value breaks its threshold: a ceiling ("max") or a floor ("min").
DIRECTION = {Guardrail.ERROR_RATE: "max", Guardrail.P99_LATENCY_MS: "max",
             Guardrail.SCORE_PSI: "max", Guardrail.DECISION_RATE_CHANGE: "max",
             Guardrail.DISPARATE_IMPACT: "min"}
STATISTICAL = frozenset({Guardrail.SCORE_PSI, Guardrail.DECISION_RATE_CHANGE,
                         Guardrail.DISPARATE_IMPACT})
DEFAULT_GUARDRAILS = {Guardrail.ERROR_RATE: 0.01, Guardrail.P99_LATENCY_MS: 250.0,
                      Guardrail.SCORE_PSI: 0.25, Guardrail.DECISION_RATE_CHANGE: 0.10,
                      Guardrail.DISPARATE_IMPACT: 0.80}
DEFAULT_MIN_SAMPLE = 200  # decisions before a statistical guardrail is judged
DEFAULT_MIN_DECISIONS, DEFAULT_MIN_DURATION_S = 500, 3600.0
CANARY_SHARES = (5.0, 25.0, 50.0)
STEP_FIELDS = frozenset({"kind", "share", "min_decisions", "min_duration_s"})
PLAN_FIELDS = frozenset({"steps", "guardrails", "min_sample", "hold"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One step of a plan: who sees the challenger, and how long before it may advance."""

    kind: StepKind
    share: float  # percent of customers (canary) or of requests copied (shadow)
    min_decisions: int = DEFAULT_MIN_DECISIONS  # by the challenger, in this step
    min_duration_s: float = DEFAULT_MIN_DURATION_S

    def describe(self) -> dict[str, Any]:
        return {"kind": str(self.kind), "share": self.share,
                "min_decisions": self.min_decisions, "min_duration_s": self.min_duration_s}


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """Ordered steps, then full; guardrails with their thresholds, checked at every step."""

    steps: tuple[Step, ...]
    guardrails: dict[Guardrail, float] = field(default_factory=lambda: dict(DEFAULT_GUARDRAILS))
    min_sample: int = DEFAULT_MIN_SAMPLE
    # Hold after the last step: the controller never promotes, and becoming champion needs
    # the prod step's approvals too (a retraining's shadow challenger: people decide).
    hold: bool = False

    def __post_init__(self) -> None:
        check_plan(self)

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "steps": [step.describe() for step in self.steps],
            "guardrails": {str(g): v for g, v in sorted(self.guardrails.items())},
            "min_sample": self.min_sample}
        if self.hold:
            described["hold"] = True
        return described

    @classmethod
    def from_data(cls, data: object) -> Plan:
        """A plan from its YAML/JSON form; every refusal names the field and the rule."""
        if not isinstance(data, dict):
            raise InvalidInputError("plan", "is a mapping with steps and guardrails",
                                    rule="rollout.plan_shape")
        unknown = sorted(set(map(str, data)) - PLAN_FIELDS)
        if unknown:
            raise InvalidInputError(f"plan.{unknown[0]}", "is not a plan field (steps, "
                                    "guardrails, min_sample)", rule="rollout.plan_field")
        steps = data.get("steps", [])
        if not isinstance(steps, list):
            raise InvalidInputError("steps", "is a list of steps", rule="rollout.plan_shape")
        guardrails = data.get("guardrails", {k.value: v for k, v in DEFAULT_GUARDRAILS.items()})
        if not isinstance(guardrails, dict):
            raise InvalidInputError("guardrails", "maps guardrail names to thresholds",
                                    rule="rollout.plan_shape")
        hold = data.get("hold", False)
        if not isinstance(hold, bool):
            raise InvalidInputError("hold", f"{hold!r} is not true or false",
                                    rule="rollout.plan_shape")
        return cls(steps=tuple(_step(i, s) for i, s in enumerate(steps)),
                   guardrails={_guardrail(name): _number(f"guardrails.{name}", value)
                               for name, value in guardrails.items()},
                   min_sample=_count("min_sample", data.get("min_sample",
                                                            DEFAULT_MIN_SAMPLE)), hold=hold)


def plan_for(strategy: Strategy | str, **step: Any) -> Plan:
    """The default plan of a strategy; `step` overrides min_decisions / min_duration_s."""
    try:
        chosen = Strategy(strategy)
    except ValueError:
        raise InvalidInputError("strategy", f"{strategy!r} is not one of "
                                f"{', '.join(Strategy)}", rule="rollout.strategy") from None
    canaries = [Step(kind=StepKind.CANARY, share=share, **step) for share in CANARY_SHARES]
    steps = {Strategy.SHADOW: [Step(kind=StepKind.SHADOW, share=100.0, **step), *canaries],
             Strategy.CANARY: canaries, Strategy.FULL: []}[chosen]
    return Plan(steps=tuple(steps))


def choose_plan(strategy: Strategy | str | None, plan: object | None) -> Plan:
    """A deploy's plan: exactly one of a strategy's defaults and a plan's data."""
    if (strategy is None) == (plan is None):
        raise InvalidInputError("plan", "give a plan or a strategy (shadow, canary, full), "
                                "not both nor neither", rule="rollout.plan_or_strategy")
    return plan_for(strategy) if strategy is not None else Plan.from_data(plan)


def check_plan(plan: Plan) -> None:
    """Shadow steps come first, canary shares increase, every share is within 0-100."""
    last_canary = 0.0
    for index, step in enumerate(plan.steps):
        where = f"steps[{index}]"
        if not (0.0 < step.share <= 100.0) or math.isnan(step.share):
            raise InvalidInputError(f"{where}.share", f"{step.share} is outside (0, 100] "
                                    "percent", rule="rollout.share_range")
        if step.min_decisions < 0 or step.min_duration_s < 0:
            raise InvalidInputError(f"{where}.min_decisions" if step.min_decisions < 0
                                    else f"{where}.min_duration_s", "is not negative",
                                    rule="rollout.step_minimum")
        if step.kind == StepKind.SHADOW:
            if last_canary:
                raise InvalidInputError(f"{where}.kind", "a shadow step comes before every "
                                        "canary step", rule="rollout.shadow_first")
            continue
        if step.share <= last_canary:
            raise InvalidInputError(f"{where}.share", f"{step.share} does not increase on "
                                    f"the step before ({last_canary})",
                                    rule="rollout.shares_increase")
        last_canary = step.share
    for guardrail, threshold in plan.guardrails.items():
        if guardrail not in DIRECTION:
            raise InvalidInputError(f"guardrails.{guardrail}", "is not a guardrail",
                                    rule="rollout.guardrail_known")
        if not math.isfinite(threshold) or threshold < 0:
            raise InvalidInputError(f"guardrails.{guardrail}", f"{threshold} is not a "
                                    "threshold (a finite number, not negative)",
                                    rule="rollout.threshold")
    if plan.min_sample < 1:
        raise InvalidInputError("min_sample", "is at least 1", rule="rollout.step_minimum")


def _step(index: int, data: object) -> Step:
    where = f"steps[{index}]"
    if not isinstance(data, dict):
        raise InvalidInputError(where, "is a mapping: kind, share, min_decisions, "
                                "min_duration_s", rule="rollout.plan_shape")
    unknown = sorted(set(map(str, data)) - STEP_FIELDS)
    if unknown:
        raise InvalidInputError(f"{where}.{unknown[0]}", "is not a step field (kind, share, "
                                "min_decisions, min_duration_s)", rule="rollout.plan_field")
    try:
        kind = StepKind(str(data.get("kind")))
    except ValueError:
        raise InvalidInputError(f"{where}.kind", f"{data.get('kind')!r} is not shadow or "
                                "canary", rule="rollout.step_kind") from None
    share = data.get("share", 100.0 if kind == StepKind.SHADOW else None)
    return Step(kind=kind, share=_number(f"{where}.share", share),
                min_decisions=_count(f"{where}.min_decisions",
                                     data.get("min_decisions", DEFAULT_MIN_DECISIONS)),
                min_duration_s=_number(f"{where}.min_duration_s",
                                       data.get("min_duration_s", DEFAULT_MIN_DURATION_S)))


def _guardrail(name: object) -> Guardrail:
    try:
        return Guardrail(str(name))
    except ValueError:
        raise InvalidInputError(f"guardrails.{name}", f"is not a guardrail; known: "
                                f"{', '.join(Guardrail)}", rule="rollout.guardrail_known") from None


def _number(where: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(where, f"{value!r} is not a number", rule="rollout.number")
    return float(value)


def _count(where: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(where, f"{value!r} is not a whole number", rule="rollout.number")
    return value


# -- routing ------------------------------------------------------------------------------


def bucket_of(pseudo_id: str, salt: str) -> int:
    """A customer's stable place in 0..BUCKETS-1 for one rollout (the salt keeps rollouts
    independent: the first 5 % of one is not the first 5 % of the next)."""
    digest = hashlib.sha256(f"{salt}:{pseudo_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def arm_for(pseudo_id: str, salt: str, share: float) -> Route:
    """CANARY for the `share` percent of customers the hash puts first, else CHAMPION."""
    return Route.CANARY if bucket_of(pseudo_id, salt) < round(share * BUCKETS / 100) \
        else Route.CHAMPION


# -- the rollout and its life -------------------------------------------------------------


class RolloutStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"  # holds its step; the controller neither advances nor rolls back
    ROLLED_BACK = "rolled_back"
    COMPLETED = "completed"  # the challenger is champion


ACTIVE = frozenset({RolloutStatus.RUNNING, RolloutStatus.PAUSED})
NEXT_STATUS = {RolloutStatus.RUNNING: {RolloutStatus.PAUSED, RolloutStatus.ROLLED_BACK,
                                       RolloutStatus.COMPLETED},
               RolloutStatus.PAUSED: {RolloutStatus.RUNNING, RolloutStatus.ROLLED_BACK,
                                      RolloutStatus.COMPLETED}}


@dataclass(frozen=True, slots=True, kw_only=True)
class Rollout:
    """One challenger's rollout on one endpoint; its state is the store's (revisioned)."""

    rollout_id: int
    endpoint: str
    model: str
    champion: int  # version numbers of `model`
    challenger: int
    plan: Plan
    salt: str
    status: RolloutStatus
    step: int  # index into plan.steps; len(steps) means full
    step_started_at: str
    created_at: str
    created_by: str
    revision: int = 1
    ended_at: str | None = None
    outcome: dict[str, Any] = field(default_factory=dict)  # why it ended (breach, promotion)
    comparison: dict[str, Any] = field(default_factory=dict)  # on labels, with a recommendation

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def current(self) -> Step | None:
        return self.plan.steps[self.step] if self.step < len(self.plan.steps) else None

    @property
    def challenger_ref(self) -> str:
        return f"{self.model}@{self.challenger}"

    @property
    def champion_ref(self) -> str:
        return f"{self.model}@{self.champion}"

    def route_for(self, pseudo_id: str) -> Route:
        """Where a customer's decision goes now: only a running canary step sends any to
        the challenger (a paused rollout holds its step's routing)."""
        step = self.current
        if step is None or step.kind != StepKind.CANARY or not self.is_active:
            return Route.CHAMPION
        return arm_for(pseudo_id, self.salt, step.share)

    @property
    def shadows(self) -> float:
        """The share of requests the challenger scores in shadow now (0: none)."""
        step = self.current
        if step is None or step.kind != StepKind.SHADOW or not self.is_active:
            return 0.0
        return step.share

    def moved_to(self, status: RolloutStatus, *, at: str,
                 outcome: dict[str, Any] | None = None) -> Self:
        if status not in NEXT_STATUS.get(self.status, set()):
            allowed = ", ".join(sorted(NEXT_STATUS.get(self.status, ()))) or "none"
            raise ConflictError(f"The rollout on {self.endpoint} is {self.status}; it cannot "
                                f"become {status}. Allowed next: {allowed}.",
                                rule="rollout.transition", field="status")
        ended = at if status not in ACTIVE else None
        return replace(self, status=status, ended_at=ended,
                       outcome=outcome if outcome is not None else self.outcome)

    def advanced(self, *, at: str) -> Self:
        return replace(self, step=self.step + 1, step_started_at=at)


# -- guardrails -----------------------------------------------------------------------------


class Verdict(StrEnum):
    OK = "ok"
    BREACH = "breach"
    WAITING = "waiting"  # a statistical check below its minimum sample, or nothing measured


@dataclass(frozen=True, slots=True, kw_only=True)
class Measurement:
    """One guardrail's value on the running step and the sample it rests on."""

    guardrail: Guardrail
    value: float | None  # None: cannot be measured (yet, or on this endpoint)
    n: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    guardrail: Guardrail
    value: float | None
    threshold: float
    n: int
    verdict: Verdict

    def describe(self) -> dict[str, Any]:
        return {"guardrail": str(self.guardrail), "value": self.value,
                "threshold": self.threshold, "direction": DIRECTION[self.guardrail],
                "n": self.n, "verdict": str(self.verdict)}


def judge(plan: Plan, measured: list[Measurement]) -> list[Result]:
    """Each guardrail of the plan against its threshold; statistical ones wait for
    `plan.min_sample` decisions, and one that could not be measured waits."""
    found = {m.guardrail: m for m in measured}
    results = []
    for guardrail, threshold in sorted(plan.guardrails.items()):
        m = found.get(guardrail, Measurement(guardrail=guardrail, value=None, n=0))
        if m.value is None or (guardrail in STATISTICAL and m.n < plan.min_sample):
            verdict = Verdict.WAITING
        elif DIRECTION[guardrail] == "max":
            verdict = Verdict.BREACH if m.value > threshold else Verdict.OK
        else:
            verdict = Verdict.BREACH if m.value < threshold else Verdict.OK
        results.append(Result(guardrail=guardrail, value=m.value, threshold=threshold,
                              n=m.n, verdict=verdict))
    return results


class Move(StrEnum):
    WAIT = "wait"
    ADVANCE = "advance"
    PROMOTE = "promote"  # the last step was clean: the challenger becomes champion
    ROLL_BACK = "roll_back"


def next_move(rollout: Rollout, results: list[Result], *, decisions: int,
              elapsed_s: float, approved: bool = True) -> tuple[Move, Result | None]:
    """What the controller does with a running rollout, and the breach if it rolls back.

    A breach rolls back at once, whatever the step's minimums; a step advances once it has
    its minimum decisions (by the challenger) and duration and no guardrail breaches. A
    statistical guardrail still waiting at that point holds the step: a step is not clean
    until it was judged. A clean last step promotes once the prod move is `approved` (four
    eyes); until then it waits, still guarded.
    """
    if rollout.status != RolloutStatus.RUNNING:
        return Move.WAIT, None
    breach = next((r for r in results if r.verdict == Verdict.BREACH), None)
    if breach is not None:
        return Move.ROLL_BACK, breach
    step = rollout.current
    last = step is None or rollout.step + 1 >= len(rollout.plan.steps)
    ready = step is None or (
        decisions >= step.min_decisions and elapsed_s >= step.min_duration_s
        and not any(r.verdict == Verdict.WAITING and r.guardrail in STATISTICAL
                    and r.value is not None for r in results))
    if not ready or (last and (rollout.plan.hold or not approved)):
        return Move.WAIT, None  # a held plan stays at its last step: people promote
    return (Move.PROMOTE if last else Move.ADVANCE), None


def check_challenger(model: str, champion: int, name: str, number: int) -> None:
    """The challenger is another version of the endpoint's own model."""
    if name != model:
        raise InvalidInputError("version", f"{name}@{number} is a version of {name}; this "
                                f"endpoint serves {model}", rule="rollout.same_model")
    if number == champion:
        raise InvalidInputError("version", f"{name}@{number} is the champion already",
                                rule="rollout.not_champion")


# -- measurements (pure: the controller feeds them the step's decisions) --------------------


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile (q in 0..100): a value that was observed."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def rate(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def disparate_impact(favourable: list[bool], groups: list[str], *,
                     min_group: int = 1) -> float | None:
    """The lowest group's favourable rate over the highest's (the four-fifths rule's
    ratio); None with fewer than two groups of `min_group` or a highest rate of zero."""
    by_group: dict[str, list[bool]] = {}
    for flag, group in zip(favourable, groups, strict=True):
        by_group.setdefault(group, []).append(flag)
    rates = [sum(f) / len(f) for f in by_group.values() if len(f) >= min_group]
    if len(rates) < 2 or max(rates) == 0:
        return None
    return min(rates) / max(rates)


# -- the lease ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Lease:
    """Who runs the controller, until when; another may take it once it expired."""

    name: str
    holder: str
    expires_at: str
    revision: int


__all__ = ["ACTIVE", "BUCKETS", "DEFAULT_GUARDRAILS", "DIRECTION", "SHADOW_FAILED",
           "STATISTICAL", "Guardrail",
           "Lease", "Measurement", "Move", "Plan", "Result", "Rollout", "RolloutStatus",
           "Route", "Step", "StepKind", "Strategy", "Verdict", "arm_for", "bucket_of",
           "check_challenger", "check_plan", "choose_plan", "disparate_impact", "judge",
           "next_move", "percentile", "plan_for", "rate"]
