"""Invariants the database holds against many processes racing on PostgreSQL: one prod
version per model, one open request per version and target, no role grant lost.

SQLite takes its write lock at BEGIN, so writers there never interleave; PostgreSQL lets
them, which is where the constraints and compare-and-set must hold on their own.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from bankml import Platform
from bankml.core.identity import GrantStatus, Principal, Role
from bankml.core.registry import Stage
from support import races
from support.evidence import stored_run
from support.lifecycle import move_to
from support.models import register_tiny
from support.people import admins, staff

RACERS = 4

pytestmark = pytest.mark.slow


def staff_admin(platform: Platform, first: Principal, name: str) -> str:
    platform.identity.add_user(first, name, roles=frozenset({Role.ADMIN}))
    return name


@pytest.fixture
def pg_platform(tmp_path: Path, postgres_url: str) -> Platform:
    platform = Platform.open(tmp_path / "home", metadata_url=postgres_url)
    yield platform  # type: ignore[misc]
    platform.close()


def _race(target: Callable[..., str], *argument_lists: tuple[object, ...]) -> Counter[str]:
    """Run `target` in one fresh process per argument list, all meeting at one barrier;
    the outcome each returns, counted."""
    context = multiprocessing.get_context("spawn")  # fresh interpreters, no shared pool
    barrier, outcomes = context.Barrier(len(argument_lists)), context.Queue()
    racers = [context.Process(target=races.report, args=(target, outcomes, *arguments,
                                                         barrier))
              for arguments in argument_lists]
    for racer in racers:
        racer.start()
    counted = Counter(outcomes.get(timeout=races.BARRIER_TIMEOUT_S * 2) for _ in racers)
    for racer in racers:
        racer.join()
    return counted


@pytest.mark.parametrize("already_in_prod", [False, True], ids=["first-prod", "replacing"])
def test_racing_promotions_leave_one_prod_version(pg_platform: Platform, postgres_url: str,
                                                  tmp_path: Path, already_in_prod: bool) -> None:
    """Four processes promote four staged versions of one model at once, each having read the
    same prod version (or none): one moves, the others are refused; one version is in prod."""
    dev = staff(pg_platform, "dev")
    refs = [register_tiny(pg_platform, dev).ref for _ in range(RACERS + 1)]
    if already_in_prod:
        move_to(pg_platform, refs[0], Stage.STAGING, Stage.PROD)
    racing = refs[1:]
    for ref in racing:
        move_to(pg_platform, ref, Stage.STAGING)

    outcomes = _race(races.promote, *[(str(tmp_path / "home"), postgres_url, ref)
                                      for ref in racing])

    assert outcomes["moved"] == 1
    assert set(outcomes) - {"moved"} <= {"lifecycle.stage_unchanged", "registry.one_prod_version"}
    in_prod = [v.ref for v in pg_platform.registry.versions("pd") if v.stage == Stage.PROD]
    assert len(in_prod) == 1


def test_racing_baselines_record_one(pg_platform: Platform, postgres_url: str,
                                     tmp_path: Path) -> None:
    """Four processes record four runs as one model's initial validation at once, each
    having read that it has none: one is recorded, the others are refused."""
    version = register_tiny(pg_platform, staff(pg_platform, "dev"))
    vera = staff(pg_platform, "vera")
    runs = [stored_run(pg_platform, vera, version.ref).run_id for _ in range(RACERS)]

    outcomes = _race(races.set_baseline, *[(str(tmp_path / "home"), postgres_url, "pd", run)
                                           for run in runs])

    assert outcomes["recorded"] == 1
    assert set(outcomes) - {"recorded"} <= {"identity.unique", "store.constraint"}
    with pg_platform.metadata.reading() as tx:
        baseline = tx.validation_runs.baseline("pd")
    assert baseline is not None
    assert baseline.run_id in runs


def test_racing_requests_open_one(pg_platform: Platform, postgres_url: str,
                                  tmp_path: Path) -> None:
    """Four people ask for the same move at the same moment: one request opens."""
    dev = staff(pg_platform, "dev")
    version = register_tiny(pg_platform, dev, tier=1)
    requesters = [staff(pg_platform, name).name for name in ("dev", "dana")]
    names = [requesters[i % 2] for i in range(RACERS)]

    outcomes = _race(races.request, *[(str(tmp_path / "home"), postgres_url, version.ref, name)
                                      for name in names])

    assert outcomes["requested"] == 1
    assert set(outcomes) - {"requested"} == {"store.constraint"}
    with pg_platform.metadata.reading() as tx:
        assert len(tx.oversight.requests(model="pd")) == 1


def test_racing_confirmations_lose_no_role(pg_platform: Platform, postgres_url: str,
                                           tmp_path: Path) -> None:
    """Three admins confirm three grants to one person at once, and a fourth confirms the
    first grant again, all having read her roles at the same moment: no confirmed role is
    lost, no grant is confirmed twice, and what was refused changed nothing."""
    first, _ = admins(pg_platform)
    confirmers = [staff_admin(pg_platform, first, name) for name in ("ivy", "max", "noa", "pia")]
    pg_platform.identity.add_user(first, "mira", roles=frozenset())
    grants = [pg_platform.identity.grant(first, "mira", role).grant_id
              for role in (Role.VALIDATOR, Role.MODEL_RISK, Role.BUSINESS_OWNER)]

    outcomes = _race(races.confirm, *[(str(tmp_path / "home"), postgres_url, admin, grant)
                                      for admin, grant in zip(confirmers, [*grants, grants[0]],
                                                              strict=True)])

    assert outcomes["confirmed"] >= 1, outcomes
    assert set(outcomes) <= {"confirmed", "store.changed_meanwhile", "access.grant_pending"}
    effective = {g.role for g in pg_platform.identity.grants(first, username="mira")
                 if g.status == GrantStatus.EFFECTIVE}
    assert len(effective) == outcomes["confirmed"]
    assert pg_platform.identity.user("mira").roles == effective
