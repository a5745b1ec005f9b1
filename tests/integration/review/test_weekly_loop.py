"""The weekly review closes the monitoring loop: the retraining a red drift alert started
this week (stopped at the staging gate a tier-2 model needs people for) with every step it
reached, and a canary whose comparison on matured labels recommends promotion. Both show
in the rendered review (HTML and PDF) as the store holds them, read here straight from its
tables, and the summary asks the meeting to decide on them."""

from __future__ import annotations

import html
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bankml import Platform
from bankml.core.canonical import utc_timestamp
from bankml.core.registry import Stage
from bankml.core.rollouts import Plan
from bankml.core.weeks import IsoWeek, week_of
from bankml.monitoring.policy import DEFAULT, parse_policy
from bankml.rollouts import Controller
from support.evidence import signed_off
from support.lifecycle import move_to
from support.models import register_tiny
from support.pdf import pdf_text
from support.people import staff
from support.retraining import drifted, file_spec
from support.served import credit_endpoint, credit_in_prod, tiny_endpoint

pytestmark = pytest.mark.slow
MODEL, TINY = "german-credit-pd", "pd-decisions"


@dataclass(frozen=True)
class Looped:
    platform: Platform
    database: Path
    week: IsoWeek


@pytest.fixture(scope="module")
def looped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Looped]:
    folder = tmp_path_factory.mktemp("loop")
    spec, fresh = file_spec(folder, tier=2)
    now = datetime.now(UTC)
    # labels seen a minute on, measured two: the run's window closes inside this week
    observed, as_of = utc_timestamp(now + timedelta(minutes=1)), now + timedelta(minutes=2)
    text = DEFAULT.read_text().replace(
        "maturity_days: {}", f"maturity_days: {{credit-pd: 0, {TINY}: 0}}").replace(
        "retraining: {}", f"retraining: {{{MODEL}: {{when: [drift], min_decisions: 5, "
                          f"min_duration_s: 0, data: {fresh}}}}}")
    policy = parse_policy(text, source="test policy")
    database = folder / "metadata.db"
    with Platform.open(folder / "home", metadata_url=f"sqlite:///{database}") as platform:
        ops, mira = staff(platform, "ops"), staff(platform, "mira")
        champion = credit_in_prod(platform, spec)
        credit_endpoint(platform)
        requests = drifted(champion)
        for start in range(0, len(requests), 200):
            platform.decisions.decide(ops, "credit-pd", requests[start:start + 200])
        platform.monitor.run(mira, endpoint="credit-pd", as_of=as_of, policy=policy)

        tiny_endpoint(platform)  # pd@1 champion; pd@2 a validated challenger in canary
        challenger = register_tiny(platform, staff(platform, "dev"))
        signed_off(platform, staff(platform, "vera"), challenger.ref, summary="sound")
        move_to(platform, challenger.ref, Stage.STAGING)
        platform.rollouts.deploy(ops, TINY, challenger.ref, plan=_canary())
        records = platform.decisions.decide(ops, TINY, [
            {"customer_id": f"c{i}", "x0": (i % 7) / 7 - 0.5} for i in range(400)])
        platform.decisions.shadow.drain()
        rng = np.random.default_rng(11)
        # the challenger's customers default as it scores; the champion's at random
        platform.labels.ingest(ops, [
            {"decision_id": r.decision_id, "observed_at": observed,
             "outcome": int(rng.random() < _chance(r))}
            for r in records], endpoint=TINY)
        platform.monitor.run(mira, endpoint=TINY, as_of=as_of, policy=policy)
        Controller(platform.metadata, platform.rollouts, interval_s=1, lease_s=5).tick()
        yield Looped(platform, database, week_of(now))


def _chance(record: Any) -> float:
    """The challenger ranks its customers well whichever the salt sends it; the
    champion's default at random: the DeLong test rejects on any draw."""
    if record.route != "canary":
        return 0.3
    return 0.9 if record.score > 0.5 else 0.1


def _canary() -> Plan:
    return Plan.from_data({"steps": [{"kind": "canary", "share": 50, "min_decisions": 10_000,
                                      "min_duration_s": 0}], "min_sample": 5,
                           "guardrails": {"error_rate": 0.5}})


def _stored(database: Path) -> tuple[list[sqlite3.Row], list[sqlite3.Row]]:
    with sqlite3.connect(database) as connection:
        connection.row_factory = sqlite3.Row
        retrainings = connection.execute(
            "SELECT * FROM retrainings ORDER BY retraining_id").fetchall()
        rollouts = connection.execute("SELECT * FROM rollouts ORDER BY rollout_id").fetchall()
    return retrainings, rollouts


def test_the_review_shows_the_stores_retrainings_and_comparisons(looped: Looped) -> None:
    """Every step the stored retraining reached, its stop and its rule; the stored
    comparison's AUC difference, DeLong p, champion AUC, n and recommendation: in the HTML
    and in the PDF's text alike."""
    platform, mira = looped.platform, staff(looped.platform, "mira")
    [retraining], [rollout] = _stored(looped.database)
    outcome = json.loads(retraining["outcome_json"])
    compared = json.loads(rollout["comparison_json"])
    auc = compared["auc_difference"]
    assert (retraining["status"], outcome["step"], outcome["rule"]) == (
        "stopped", "staging", "gate.validation_passed")
    assert compared["recommendation"] == "promote"
    expected = [f"#{retraining['retraining_id']}", f"#{retraining['alert_id']}",
                retraining["metric"], f"registered {MODEL}@{retraining['version']}",
                f"validated (run {retraining['run_id']})",
                f"staging requested (#{retraining['request_id']})",
                f"stopped at {outcome['step']} ({outcome['rule']})",
                f"{auc['value']:+,.4f}", f"{auc['p_value']:,.4f}",
                f"{auc['champion_auc']:,.4f}", f"{auc['n']:,}", "promote",
                f"pd@{rollout['challenger']}"]

    page = html.unescape(platform.weekly.write(mira, looped.week, fmt="html")
                         .content.decode())
    text = pdf_text(platform.weekly.write(mira, looped.week, fmt="pdf").content)

    assert "deployed in shadow" not in page
    for shown in expected:
        assert shown in page, shown
        assert shown in text.replace("\n", " "), shown


def test_the_summary_asks_to_decide_on_the_challenger_and_the_stopped_retraining(
        looped: Looped) -> None:
    """Decisions needed: the challenger recommended for promotion, and the retraining that
    stopped at the staging gate with its request waiting for a validator."""
    review = looped.platform.weekly.assemble(staff(looped.platform, "mira"), looped.week)
    [retraining], [rollout] = _stored(looped.database)

    assert any(line.startswith(f"pd on {TINY}: challenger pd@{rollout['challenger']} "
                               f"recommended for promotion (rollout #{rollout['rollout_id']}")
               for line in review.decisions_needed), review.decisions_needed
    assert (f"{MODEL} on credit-pd: retraining #{retraining['retraining_id']} stopped at "
            f"staging (gate.validation_passed); request #{retraining['request_id']} waits"
            ) in review.decisions_needed
