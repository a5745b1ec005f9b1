"""Demo step: a challenger in shadow and canary becomes champion; a bad one is rolled back.

The controller runs inside `bankml serve`; here the demo drives its rounds itself (one
`tick` per round), so the narration shows each step as it happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bankml.cli.app import console
from bankml.cli.demo_steps.applicants import within
from bankml.cli.demo_steps.credit import OUT_OF_TIME_FROM, SPEC, _request
from bankml.core.identity import Principal, Role
from bankml.core.registry import ModelVersion, Stage
from bankml.core.rollouts import Plan
from bankml.datasets import ExampleData, german_credit
from bankml.platform import Platform
from bankml.rollouts import Evaluation

GOOD = {"steps": [{"kind": "shadow", "min_decisions": 40, "min_duration_s": 0},
                  {"kind": "canary", "share": 50, "min_decisions": 40, "min_duration_s": 0}],
        "guardrails": {"error_rate": 0.01, "score_psi": 1.0, "decision_rate_change": 0.5},
        "min_sample": 40}
BAD = {"steps": [{"kind": "canary", "share": 50, "min_decisions": 1000, "min_duration_s": 0}],
       "guardrails": {"score_psi": 0.25}, "min_sample": 10}  # few customers: any draw


@dataclass(frozen=True)
class RolledOut:
    promoted: str  # the challenger that became champion
    rolled_back: str
    breach: dict[str, Any]


def roll_out(platform: Platform, data: ExampleData, endpoint: str,
             people: dict[str, Principal]) -> RolledOut:
    eli, mira = people["eli"], people["mira"]
    good = _challenger(platform, people)
    applicants = _applicants(data, good)
    platform.rollouts.deploy(eli, endpoint, good.ref, plan=Plan.from_data(GOOD))
    console.print(f"$ bankml deploy {endpoint} {good.ref} --plan rollout.yaml   # as eli\n"
                  "  shadow 100 % (40 decisions), then canary 50 % (40), then full; "
                  "guardrails: error rate, score PSI against its validation baseline, "
                  "approval-rate change against the champion")
    controller = platform.rollout_controller()
    _decide(platform, eli, endpoint, applicants, 60)
    _show(platform, people, endpoint, "shadow: the champion answers, the challenger scores "
          "a copy off the response path")
    controller.tick()
    _decide(platform, eli, endpoint, applicants, 120)
    _show(platform, people, endpoint, "canary: half the customers, each always the same arm")
    controller.tick()
    waiting = platform.rollouts.status(people["aude"], endpoint)
    console.print(f"Every step was clean; the controller waits for four eyes on the move to "
                  f"prod ({', '.join(waiting.awaiting)}): no ticket, and no model becomes "
                  "champion unapproved.")
    request = platform.oversight.request_transition(people["dana"], good.ref, Stage.PROD,
                                                    reason="clean shadow and canary")
    platform.oversight.approve(mira, request.request_id, role=Role.MODEL_RISK,
                               comment="canary clean; approved")
    console.print(f"$ bankml governance approve {request.request_id} --role model_risk"
                  "   # as mira; the request waits for the rollout")
    controller.tick()
    champion = platform.registry.get(f"{good.name}@champion")
    console.print(f"Approved: [green]{champion.ref} is champion[/] (in prod; the old "
                  "champion archived), each move on the audit trail.")

    bad = _challenger(platform, people)
    platform.rollouts.deploy(eli, endpoint, bad.ref, plan=Plan.from_data(BAD))
    console.print(f"$ bankml deploy {endpoint} {bad.ref} --plan canary.yaml   # as eli; "
                  "canary 50 %, score PSI at most 0.25; its customers this week are the "
                  "riskiest tenth")
    _decide(platform, eli, endpoint, _riskiest(platform, bad, applicants), 120)
    controller.tick()
    shown = _show(platform, people, endpoint, "the guardrail breaks")
    for alert in platform.alerts.alerts(mira, endpoint=endpoint, unresolved=True):
        console.print(f"  alert #{alert.alert_id} [red]{alert.severity}[/]: {alert.title}")
        platform.alerts.resolve(mira, alert.alert_id, comment="challenger withdrawn; reviewed")
        console.print(f"  mira (model risk) resolves it: {bad.ref} goes back to its developers")
    controller.stop()
    return RolledOut(promoted=champion.ref, rolled_back=bad.ref,
                     breach=dict(shown.rollout.outcome))


def _challenger(platform: Platform, people: dict[str, Principal]) -> ModelVersion:
    """The spec trained again (a retrain on fresh data in life), validated and staged."""
    version = platform.training.train(people["dana"], SPEC)
    run = platform.validation.run(people["vera"], version.ref)
    platform.oversight.record_validation(people["vera"], version.ref, passed=True,
                                         run_id=run.run_id,
                                         summary="Retrain within the validated design.")
    platform.oversight.request_transition(people["dana"], version.ref, Stage.STAGING,
                                          reason="challenger")
    return platform.registry.get(version.ref)


def _applicants(data: ExampleData, version: ModelVersion) -> list[dict[str, Any]]:
    recent = data.frame[data.frame[german_credit.DATE] >= OUT_OF_TIME_FROM]
    requests = [_request(row, version) for row in recent.to_dict(orient="records")]
    return [r for r in requests if within(r, version)]


def _riskiest(platform: Platform, version: ModelVersion,
              applicants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    model = platform.registry.load(version)
    scores = model.predict_proba(pd.DataFrame(applicants)[version.inputs])[:, 1]
    return [applicants[i] for i in np.argsort(scores)[-max(len(applicants) // 10, 1):]]


def _decide(platform: Platform, by: Principal, endpoint: str,
            applicants: list[dict[str, Any]], count: int) -> None:
    platform.decisions.decide(by, endpoint, [applicants[i % len(applicants)]
                                             for i in range(count)])
    platform.decisions.shadow.drain()
    platform.decision_log.write([])  # committed after the shadow's records: they are in


def _show(platform: Platform, people: dict[str, Principal], endpoint: str,
          what: str) -> Evaluation:
    shown = platform.rollouts.status(people["aude"], endpoint)
    r = shown.rollout
    routes = ", ".join(f"{k} {v}" for k, v in sorted(shown.routes.items()))
    console.print(f"$ bankml rollout status {endpoint}   # {what}\n"
                  f"  {r.challenger_ref} vs {r.champion_ref}: {r.status}, step {r.step}; "
                  f"decisions per route: {routes}")
    for result in shown.results:
        value = "n/a" if result.value is None else f"{result.value:.3f}"
        console.print(f"    {result.guardrail:<22} {value:>7} against {result.threshold:g}"
                      f"  {result.verdict}")
    if r.outcome.get("reason") == "guardrail":
        console.print(f"  [red]rolled back[/]: {r.outcome['guardrail']} {r.outcome['value']:.3f}"
                      f" > {r.outcome['threshold']:g}; every decision back to {r.champion_ref}")
    return shown
