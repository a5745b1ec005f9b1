"""Rollouts against real `bankml serve` processes: a good challenger goes shadow -> canary
-> full from the API, a bad one (its scores shifted) is rolled back on its own from the
CLI with the rollback audited and an alert open, and killing the controller's process
hands the rollout to another replica, which resumes it at the recorded step."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bankml import Platform
from bankml.core.registry import Stage
from bankml.rollouts.controller import LEASE
from support.evidence import signed_off
from support.lifecycle import move_to
from support.people import admins, staff
from support.polling import until as polled
from support.served import EXAMPLES, SPEC, applications, credit_in_prod
from support.server import Server, kill, serving

ENDPOINT = "credit-pd"
MODEL = "german-credit-pd"
FAST = {"BANKML_ROLLOUT_INTERVAL_S": "0.2", "BANKML_ROLLOUT_LEASE_S": "2"}
DEADLINE_S = 60.0
POLL_S = 0.1

pytestmark = pytest.mark.slow


def challenger(platform: Platform) -> str:
    """The example spec trained again, validated independently (fairness too) and staged."""
    version = platform.training.train(staff(platform, "dana"), SPEC)
    signed_off(platform, staff(platform, "vera"), version.ref, summary="sound")
    move_to(platform, version.ref, Stage.STAGING)
    return version.ref


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """german-credit-pd@1 champion behind credit-pd, @2 staged as a challenger; tokens of an
    ML engineer, an auditor and an application."""
    home = tmp_path / ".bankml"
    with Platform.open(home) as platform:
        credit_in_prod(platform)
        ops = staff(platform, "ops")
        platform.endpoints.apply(ops, EXAMPLES / "german_credit_pd_endpoint.yaml")
        challenger(platform)
        first, _ = admins(platform)
        for name in ("ops", "aude", "dana", "mira"):
            staff(platform, name)
            (home / f"{name}.token").write_text(
                platform.identity.create_token(first, name).plaintext)
    return home


def token(home: Path, name: str) -> str:
    return (home / f"{name}.token").read_text()


def requests(home: Path, count: int, *, riskiest: bool = False) -> list[dict[str, Any]]:
    """Applicants the champion saw the like of; `riskiest`: only the tenth the challenger
    scores highest, which shifts its score distribution far from its baseline."""
    with Platform.open(home) as platform:
        version = platform.registry.get(f"{MODEL}@2")
        pool = applications(version, 190, start=800)
        if not riskiest:
            return [pool[i % len(pool)] for i in range(count)]
        model = platform.registry.load(version)
    scores = model.predict_proba(pd.DataFrame(pool)[version.inputs])[:, 1]
    top = [pool[i] for i in np.argsort(scores)[-len(pool) // 10:]]
    return [top[i % len(top)] for i in range(count)]


def until(check: Callable[[], Any], what: str) -> Any:
    """`check`'s first truthy answer (the controller runs on its own schedule)."""
    return polled(check, what, deadline_s=DEADLINE_S, poll_s=POLL_S)


def decide(server: Server, home: Path, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with server.client(token(home, "ops")) as app:
        answer = app.post(f"/v1/endpoints/{ENDPOINT}/decisions:batch", json={"requests": batch})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["decisions"])


def status(server: Server, home: Path) -> dict[str, Any]:
    with server.client(token(home, "aude")) as auditor:
        answer = auditor.get(f"/v1/endpoints/{ENDPOINT}/rollout")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def approve_for_prod(server: Server, home: Path) -> None:
    """The developer asks for prod and model risk approves (tier 2's four eyes), over HTTP;
    the request stays open for the rollout to execute."""
    with server.client(token(home, "dana")) as dana:
        asked = dana.post("/v1/governance/requests", json={
            "ref": f"{MODEL}@2", "target": "prod", "reason": "clean canary"})
    assert asked.status_code == 201, asked.text
    with server.client(token(home, "mira")) as model_risk:
        approved = model_risk.post(
            f"/v1/governance/requests/{asked.json()['request_id']}/approve",
            json={"role": "model_risk", "comment": "four eyes"})
    assert (approved.status_code, approved.json()["status"]) == (200, "open"), approved.text


def test_a_good_challenger_goes_from_shadow_through_canary_to_champion(home: Path) -> None:
    """Deployed over HTTP: shadow scores every request unanswered, the clean step advances,
    canary customers get the challenger (recorded per decision); the clean last step waits
    for four eyes on the prod move, approved over HTTP, then the challenger is champion, in
    prod, audited; its status shows both routes of the step side by side."""
    plan = {"steps": [{"kind": "shadow", "min_decisions": 30, "min_duration_s": 0},
                      {"kind": "canary", "share": 50, "min_decisions": 30,
                       "min_duration_s": 0}],
            "guardrails": {"error_rate": 0.01, "score_psi": 1.0,
                           "decision_rate_change": 0.5},
            "min_sample": 30}
    with serving(home, env=FAST) as server:
        with server.client(token(home, "ops")) as ops:
            deployed = ops.post(f"/v1/endpoints/{ENDPOINT}/rollouts",
                                json={"version": f"{MODEL}@2", "plan": plan})
        assert deployed.status_code == 201, deployed.text

        shadowed = decide(server, home, requests(home, 40))
        assert {(d["route"], d["model_version"]) for d in shadowed} == {
            ("champion", f"{MODEL}@1")}
        until(lambda: status(server, home)["step"] == 1, "the shadow step to advance")

        canaried = decide(server, home, requests(home, 120))
        routes = {(d["route"], d["model_version"]) for d in canaried}
        assert routes == {("champion", f"{MODEL}@1"), ("canary", f"{MODEL}@2")}
        waiting = until(lambda: (s := status(server, home))["awaiting"] and s,
                        "the clean last step to wait for the prod approvals")
        approve_for_prod(server, home)
        done = until(lambda: (s := status(server, home))["status"] == "completed" and s,
                     "the rollout to complete")
        after = decide(server, home, requests(home, 5))

    assert (waiting["status"], waiting["awaiting"]) == (
        "running", ["gate.approval.model_risk"])
    assert done["outcome"]["champion"] == f"{MODEL}@2"
    sides = done["distributions"]  # the canary step's decisions, route by route
    assert (sides["champion"]["n"] + sides["challenger"]["n"], min(
        sides["champion"]["n"], sides["challenger"]["n"]) > 0) == (120, True)
    assert set(sides["challenger"]["decision_rates"]) <= {"approve", "refer", "decline"}
    assert done["comparison"]["recommendation"] == "inconclusive"  # no labels yet
    assert {d["model_version"] for d in after} == {f"{MODEL}@2"}
    with Platform.open(home) as platform:
        assert platform.registry.get(f"{MODEL}@champion").number == 2
        assert platform.registry.get(f"{MODEL}@1").stage == Stage.ARCHIVED
        with platform.metadata.reading() as tx:
            logged = [r.route for r in tx.decisions.records(endpoint=ENDPOINT)]
            actions = [e.action for e in tx.audit.events()]
    assert logged.count("shadow") >= 30
    assert {"rollout.deployed", "rollout.advanced", "rollout.completed",
            "model.alias_set"} <= set(actions)


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANKML_")}
    return subprocess.run([sys.executable, "-m", "bankml", *args, "--home", str(home),
                           "--token", token(home, "ops")], env=env, capture_output=True,
                          text=True, check=False, timeout=120)


def test_a_bad_challenger_is_rolled_back_on_its_own(home: Path, tmp_path: Path) -> None:
    """Deployed from the CLI: the challenger's scores on a shifted population break the PSI
    ceiling, the controller sends traffic back to the champion, records guardrail, value
    and threshold, audits it and opens a red alert; `rollout status` shows it."""
    plan = tmp_path / "plan.yaml"
    plan.write_text("steps:\n  - {kind: canary, share: 50, min_decisions: 1000, "
                    "min_duration_s: 0}\nguardrails: {score_psi: 0.25}\nmin_sample: 30\n")
    with serving(home, env=FAST) as server:
        deployed = cli(home, "deploy", ENDPOINT, f"{MODEL}@2", "--plan", str(plan))
        assert deployed.returncode == 0, deployed.stderr + deployed.stdout

        decide(server, home, requests(home, 120, riskiest=True))
        ended = until(lambda: (s := status(server, home))["status"] == "rolled_back" and s,
                      "the automatic rollback")
        after = decide(server, home, requests(home, 40))
        shown = cli(home, "rollout", "status", ENDPOINT, "--json")

    assert ended["outcome"]["guardrail"] == "score_psi"
    assert ended["outcome"]["value"] > ended["outcome"]["threshold"] == 0.25
    assert {d["route"] for d in after} == {"champion"}
    assert json.loads(shown.stdout)["status"] == "rolled_back", shown.stderr
    with Platform.open(home) as platform, platform.metadata.reading() as tx:
        rolled = [e for e in tx.audit.events() if e.action == "rollout.rolled_back"]
        alerts = tx.alerts.all(endpoint=ENDPOINT, unresolved=True)
    assert [(e.actor, e.payload["guardrail"]) for e in rolled] == [("system", "score_psi")]
    assert [(a.metric, a.severity) for a in alerts] == [("rollout.score_psi", "red")]
    assert platform.registry.get(f"{MODEL}@champion").number == 1


@pytest.fixture
def replicas(home: Path) -> Iterator[tuple[Server, Server]]:
    """Two `bankml serve` processes on one home, as two replicas behind a balancer."""
    with serving(home, env=FAST) as first, serving(home, env=FAST) as second:
        yield first, second


def lease_holder(home: Path) -> str:
    with Platform.open(home) as platform, platform.metadata.reading() as tx:
        lease = tx.leases.get(LEASE)
    return "" if lease is None else lease.holder


def test_killing_the_controller_hands_the_rollout_to_another_replica(
        home: Path, replicas: tuple[Server, Server]) -> None:
    """The replica holding the lease drives the first step and is SIGKILLed; the other
    takes the lease once it expired and goes on from the recorded step to full."""
    plan = {"steps": [{"kind": "canary", "share": 25, "min_decisions": 10,
                       "min_duration_s": 0},
                      {"kind": "canary", "share": 50, "min_decisions": 10,
                       "min_duration_s": 0}],
            "guardrails": {"error_rate": 0.01}, "min_sample": 10}
    first, second = replicas
    with first.client(token(home, "ops")) as ops:
        assert ops.post(f"/v1/endpoints/{ENDPOINT}/rollouts",
                        json={"version": f"{MODEL}@2", "plan": plan}).status_code == 201
    holder = until(lambda: lease_holder(home), "a controller to take the lease")
    leader, survivor = ((first, second) if f":{first.process.pid}:" in holder
                        else (second, first))
    assert f":{leader.process.pid}:" in holder

    decide(survivor, home, requests(home, 80))
    until(lambda: status(survivor, home)["step"] == 1, "the leader to advance a step")
    kill(leader.process)

    took_over = until(lambda: f":{survivor.process.pid}:" in lease_holder(home),
                      "the other replica to take the lease")
    approve_for_prod(survivor, home)
    decide(survivor, home, requests(home, 80))
    done = until(lambda: (s := status(survivor, home))["status"] == "completed" and s,
                 "the survivor to finish the rollout")

    assert took_over
    assert done["outcome"]["champion"] == f"{MODEL}@2"
    with Platform.open(home) as platform, platform.metadata.reading() as tx:
        advanced = [e.payload for e in tx.audit.events() if e.action == "rollout.advanced"]
    assert [(a["from_step"], a["to_step"]) for a in advanced] == [(0, 1)]
