"""The rollout store on SQLite and PostgreSQL: one active rollout per endpoint, state by
compare-and-set, and the controller's lease; and processes racing to deploy at once."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from bankml import Platform
from bankml.core.errors import ConflictError
from bankml.core.registry import Stage
from bankml.core.rollouts import Rollout, RolloutStatus, plan_for
from support import races
from support.evidence import signed_off
from support.lifecycle import move_to
from support.models import register_tiny
from support.people import staff
from support.served import tiny_endpoint
from support.trail import audit_events

AT = "2026-03-01T09:00:00.000000Z"
LATER = "2026-03-01T09:00:30.000000Z"


def draft(endpoint: str = "pd-decisions", challenger: int = 2) -> Rollout:
    return Rollout(rollout_id=0, endpoint=endpoint, model="pd", champion=1,
                   challenger=challenger, plan=plan_for("shadow"), salt="s", step=0,
                   status=RolloutStatus.RUNNING, step_started_at=AT, created_at=AT,
                   created_by="ops")


@pytest.fixture
def versions(platform: Platform) -> Platform:
    dev = staff(platform, "dev")
    for _ in range(3):
        register_tiny(platform, dev)
    return platform


def test_a_second_active_rollout_on_an_endpoint_is_refused(versions: Platform) -> None:
    """The index holds one running or paused rollout per endpoint; other endpoints are free."""
    with versions.metadata.transaction() as tx:
        first = tx.rollouts.add(draft())
    with pytest.raises(ConflictError) as refused, versions.metadata.transaction() as tx:
        tx.rollouts.add(draft(challenger=3))
    with versions.metadata.transaction() as tx:
        tx.rollouts.add(draft(endpoint="other"))

    assert (refused.value.field, refused.value.rule) == ("endpoint", "rollout.one_active")
    with versions.metadata.reading() as tx:
        assert tx.rollouts.active("pd-decisions") == first
        assert [r.challenger for r in tx.rollouts.of("pd-decisions")] == [2]


def test_an_ended_rollout_frees_its_endpoint(versions: Platform) -> None:
    with versions.metadata.transaction() as tx:
        first = tx.rollouts.add(draft())
        tx.rollouts.save(first.moved_to(RolloutStatus.ROLLED_BACK, at=LATER,
                                        outcome={"guardrail": "score_psi"}), was=first)
        tx.rollouts.add(draft(challenger=3))

    with versions.metadata.reading() as tx:
        ended, running = tx.rollouts.of("pd-decisions")
    assert (ended.status, ended.outcome, ended.revision) == (
        RolloutStatus.ROLLED_BACK, {"guardrail": "score_psi"}, 2)
    assert running.is_active


def test_a_stale_revision_changes_nothing(versions: Platform) -> None:
    """Two writers holding revision 1: the second is refused and the first's change stays."""
    with versions.metadata.transaction() as tx:
        stale = tx.rollouts.add(draft())
    with versions.metadata.transaction() as tx:
        tx.rollouts.save(stale.advanced(at=LATER), was=stale)

    with pytest.raises(ConflictError) as refused, versions.metadata.transaction() as tx:
        tx.rollouts.save(stale.moved_to(RolloutStatus.PAUSED, at=LATER), was=stale)

    assert refused.value.rule == "store.changed_meanwhile"
    with versions.metadata.reading() as tx:
        now = tx.rollouts.get(stale.rollout_id)
    assert (now.step, now.status, now.revision) == (1, RolloutStatus.RUNNING, 2)


def test_a_lease_has_one_holder_until_it_expires(platform: Platform) -> None:
    with platform.metadata.transaction() as tx:
        assert tx.leases.take("controller", "a", now=AT, until=LATER)
        assert not tx.leases.take("controller", "b", now=AT, until=LATER)
        assert tx.leases.take("controller", "a", now=AT, until=LATER)  # renewing
        assert tx.leases.take("controller", "b", now=LATER, until="2026-03-01T09:01:00Z")
        assert not tx.leases.take("controller", "a", now=LATER, until=LATER)
        tx.leases.release("controller", "b")
        assert tx.leases.take("controller", "a", now=AT, until=LATER)
        lease = tx.leases.get("controller")
    assert lease is not None
    assert lease.holder == "a"


def test_a_plan_reads_back_as_stored(versions: Platform) -> None:
    custom = replace(draft(), plan=plan_for("canary", min_decisions=7, min_duration_s=1.5))
    with versions.metadata.transaction() as tx:
        stored = tx.rollouts.add(custom)

    assert stored.plan == custom.plan
    assert stored == replace(custom, rollout_id=stored.rollout_id)


RACERS = 4


@pytest.mark.slow
def test_racing_adds_leave_one_active_rollout(tmp_path: Path, postgres_url: str) -> None:
    """Four processes, each having found no active rollout on the endpoint, add one at once:
    one is stored, the others meet the index as a field+rule conflict."""
    home = str(tmp_path / "home")
    with Platform.open(home, metadata_url=postgres_url) as platform:
        dev = staff(platform, "dev")
        for _ in range(RACERS + 1):
            register_tiny(platform, dev)
    context = multiprocessing.get_context("spawn")
    barrier, outcomes = context.Barrier(RACERS), context.Queue()
    racers = [context.Process(target=races.report, args=(
        races.add_rollout, outcomes, home, postgres_url, challenger, barrier))
        for challenger in range(2, RACERS + 2)]
    for racer in racers:
        racer.start()
    counted = Counter(outcomes.get(timeout=races.BARRIER_TIMEOUT_S * 2) for _ in racers)
    for racer in racers:
        racer.join()

    assert counted == {"added": 1, "endpoint rollout.one_active": RACERS - 1}
    with Platform.open(home, metadata_url=postgres_url) as platform, \
            platform.metadata.reading() as tx:
        assert len(tx.rollouts.all_active()) == 1


@pytest.mark.slow
def test_racing_deploys_leave_one_rollout(tmp_path: Path, postgres_url: str) -> None:
    """Four processes deploy four staged challengers on one endpoint at once, each inside its
    transaction having passed its gates: one rollout runs, three are refused with the field
    and the rule, and each refusal is audited."""
    home = str(tmp_path / "home")
    with Platform.open(home, metadata_url=postgres_url) as platform:
        tiny_endpoint(platform)
        refs = []
        for _ in range(RACERS):
            version = register_tiny(platform, staff(platform, "dev"))
            signed_off(platform, staff(platform, "vera"), version.ref, summary="sound")
            move_to(platform, version.ref, Stage.STAGING)
            refs.append(version.ref)
        staff(platform, "ops")
    context = multiprocessing.get_context("spawn")
    barrier, outcomes = context.Barrier(RACERS), context.Queue()
    racers = [context.Process(target=races.report, args=(
        races.deploy, outcomes, home, postgres_url, ref, barrier)) for ref in refs]
    for racer in racers:
        racer.start()
    counted = Counter(outcomes.get(timeout=races.BARRIER_TIMEOUT_S * 2) for _ in racers)
    for racer in racers:
        racer.join()

    assert counted == {"deployed": 1, "endpoint rollout.one_active": RACERS - 1}
    with Platform.open(home, metadata_url=postgres_url) as platform:
        with platform.metadata.reading() as tx:
            assert len(tx.rollouts.of("pd-decisions")) == 1
        actions = [e.action for e in audit_events(platform)]
    assert actions.count("rollout.deployed") == 1
    assert actions.count("governance.refused") == RACERS - 1
