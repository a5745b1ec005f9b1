"""Closing the loop on a small case: a red drift alert of a model whose monitoring policy
allows it retrains the champion's spec on fresh data, the automation registers and
self-tests the new version, asks for staging and deploys it in shadow under a held plan;
a second run of the window starts nothing more; where the staging gates need people the
refusal is recorded; every step is in the audit trail under the alert."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bankml import Platform
from bankml.core.errors import BankmlError
from bankml.core.registry import Stage
from bankml.core.retraining import RetrainingStatus, Trigger, trigger_of
from bankml.core.rollouts import RolloutStatus
from bankml.monitoring.policy import DEFAULT, MonitoringPolicy, parse_policy
from support.people import staff
from support.retraining import drifted, file_spec
from support.served import credit_endpoint, credit_in_prod
from support.trail import audit_events

AS_OF = datetime.now(UTC) + timedelta(days=1)
MODEL = "german-credit-pd"


def policy(data: Path | None = None) -> MonitoringPolicy:
    """The shipped policy, credit-pd's labels mature at once, and retraining on drift."""
    text = DEFAULT.read_text().replace("maturity_days: {}", "maturity_days: {credit-pd: 0}")
    fresh = f", data: {data}" if data else ""
    text = text.replace("retraining: {}", f"retraining: {{{MODEL}: {{when: [drift], "
                                          f"min_decisions: 5, min_duration_s: 0{fresh}}}}}")
    return parse_policy(text, source="test policy")


def decide(platform: Platform, requests: list[dict[str, Any]]) -> None:
    for start in range(0, len(requests), 200):
        platform.decisions.decide(staff(platform, "ops"), "credit-pd",
                                  requests[start:start + 200])


@pytest.fixture
def looped(tmp_path: Path) -> Iterator[tuple[Platform, Path]]:
    spec, fresh = file_spec(tmp_path, tier=3)
    with Platform.open(tmp_path / "home",
                       metadata_url=f"sqlite:///{tmp_path / 'metadata.db'}") as platform:
        champion = credit_in_prod(platform, spec)
        credit_endpoint(platform)
        decide(platform, drifted(champion))
        yield platform, fresh


def test_metrics_that_retraining_answers() -> None:
    """Drift and performance metrics start a retraining; quality, fairness, KPIs and
    rollout guardrails do not."""
    found = {m: trigger_of(m) for m in ("feature.psi[age]", "score.ks", "decision.psi",
                                         "performance.auc_drop", "quality.missing_rate[x]",
                                         "fairness.impact_ratio[sex]", "rollout.score_psi")}
    assert found == {"feature.psi[age]": Trigger.DRIFT, "score.ks": Trigger.DRIFT,
                     "decision.psi": Trigger.DRIFT,
                     "performance.auc_drop": Trigger.PERFORMANCE,
                     "quality.missing_rate[x]": None, "fairness.impact_ratio[sex]": None,
                     "rollout.score_psi": None}


def test_a_red_drift_alert_retrains_validates_and_deploys_in_shadow_once(
        looped: tuple[Platform, Path]) -> None:
    """The run opens red drift alerts; the first starts one retraining on the fresh file:
    version 2 registered and self-tested by the automation, staged on request, deployed in
    shadow held for people; running the window again starts nothing."""
    platform, fresh = looped
    mira = staff(platform, "mira")

    platform.monitor.run(mira, endpoint="credit-pd", as_of=AS_OF, policy=policy(), data=fresh)
    platform.monitor.run(mira, endpoint="credit-pd", as_of=AS_OF, policy=policy(), data=fresh)

    [done] = platform.retraining.retrainings(mira, "credit-pd")
    assert (done.status, done.champion, done.version) == (RetrainingStatus.DEPLOYED, 1, 2), \
        done.outcome
    alert = next(a for a in platform.alerts.alerts(mira, endpoint="credit-pd")
                 if a.alert_id == done.alert_id)
    assert (alert.severity, trigger_of(str(alert.metric))) == ("red", Trigger.DRIFT)
    version = platform.registry.get(f"{MODEL}@2")
    assert (version.created_by, version.stage) == ("automation", Stage.STAGING)
    assert version.manifest is not None
    assert version.manifest.data_source.path == str(fresh)
    run = platform.validation.get(str(done.run_id))
    assert (run.created_by, run.self_test) == ("automation", True)
    rollout = platform.rollouts.status(mira, "credit-pd").rollout
    assert (rollout.rollout_id, rollout.challenger_ref, rollout.status, rollout.plan.hold,
            rollout.created_by) == (done.rollout_id, f"{MODEL}@2", RolloutStatus.RUNNING,
                                    True, "automation")
    steps = [e.action for e in audit_events(platform, subject=f"alert:{done.alert_id}")
             if e.action.startswith("retraining.")]
    assert steps == ["retraining.started", "retraining.registered", "retraining.validated",
                     "retraining.requested", "retraining.deployed"]
    with pytest.raises(BankmlError) as refused:  # its self-test is no sign-off, by anyone
        platform.oversight.record_validation(platform.retraining.automation, version.ref,
                                             passed=True, summary="mine", run_id=run.run_id)
    assert refused.value.rule == "four_eyes.validator_not_developer"
    by_automation = {e.action for e in audit_events(platform) if e.actor == "automation"}
    assert by_automation - {a for a in by_automation if a.startswith("retraining.")} == {
        "model.registered", "validation.run", "transition.requested", "model.transitioned",
        "rollout.deployed", "governance.refused"}  # the sign-off it tried just now


def test_where_staging_needs_people_the_refusal_is_recorded(tmp_path: Path) -> None:
    """Tier 2 needs an independent validation to enter staging: the retraining stops there,
    naming the gate, with its request left open for a validator."""
    spec, fresh = file_spec(tmp_path, tier=2)
    with Platform.open(tmp_path / "home",
                       metadata_url=f"sqlite:///{tmp_path / 'metadata.db'}") as platform:
        champion = credit_in_prod(platform, spec)
        credit_endpoint(platform)
        decide(platform, drifted(champion))
        mira = staff(platform, "mira")

        platform.monitor.run(mira, endpoint="credit-pd", as_of=AS_OF, policy=policy(fresh))

        [done] = platform.retraining.retrainings(mira, "credit-pd")
        assert done.status == RetrainingStatus.STOPPED
        assert (done.outcome["step"], done.outcome["rule"]) == ("staging",
                                                                "gate.validation_passed")
        assert platform.registry.get(f"{MODEL}@2").stage == Stage.DEV
        with platform.metadata.reading() as tx:
            assert tx.rollouts.of("credit-pd") == []
        [stopped] = [e for e in audit_events(platform, subject=f"alert:{done.alert_id}")
                     if e.action == "retraining.stopped"]
        assert stopped.payload["request_id"] == done.request_id
