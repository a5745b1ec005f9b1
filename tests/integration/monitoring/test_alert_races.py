"""Alerts racing on PostgreSQL: runs raising the same alert at once open exactly one (the
partial unique index on unresolved endpoint and metric), and of two people resolving one
alert at once exactly one wins (compare-and-set on its status)."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bankml import Platform
from bankml.core.identity import SYSTEM
from bankml.core.monitoring import AlertStatus
from support import races
from support.people import staff
from support.served import tiny_endpoint
from support.trail import audit_events

RACERS = 4

pytestmark = pytest.mark.slow


def _race(target: Callable[..., str], arguments: list[tuple[Any, ...]]) -> Counter[str]:
    """Each racer runs `target(*its arguments, barrier)` in a process of its own."""
    context = multiprocessing.get_context("spawn")
    barrier, outcomes = context.Barrier(len(arguments)), context.Queue()
    racers = [context.Process(target=races.report, args=(target, outcomes, *args, barrier))
              for args in arguments]
    for racer in racers:
        racer.start()
    counted = Counter(outcomes.get(timeout=races.BARRIER_TIMEOUT_S * 2) for _ in racers)
    for racer in racers:
        racer.join()
    return counted


def test_racing_runs_open_one_alert_per_endpoint_and_metric(tmp_path: Path,
                                                            postgres_url: str) -> None:
    """Four processes, each having found no unresolved alert on score.psi, raise it at
    once: one opens it, the other three refresh that one; their transactions all commit."""
    home = tmp_path / "home"
    with Platform.open(home, metadata_url=postgres_url) as platform:
        tiny_endpoint(platform)

    counted = _race(races.raise_alert,
                    [(str(home), postgres_url, "pd-decisions", "score.psi")] * RACERS)

    assert counted == Counter({"opened": 1, "refreshed": RACERS - 1})
    with Platform.open(home, metadata_url=postgres_url) as platform:
        found = platform.alerts.alerts(staff(platform, "mira"), endpoint="pd-decisions")
    assert [(a.metric, a.status, a.severity) for a in found] == [
        ("score.psi", AlertStatus.OPEN, "red")]


def test_two_resolving_at_once_one_wins(tmp_path: Path, postgres_url: str) -> None:
    """Both read the alert open; one resolves it, the other is refused by the
    compare-and-set, and the alert records the winner."""
    home = tmp_path / "home"
    with Platform.open(home, metadata_url=postgres_url) as platform:
        tiny_endpoint(platform)
        staff(platform, "ops")
        alert_id = platform.oversight.open_alert(staff(platform, "mira"), "pd", severity="red",
                                                 title="score drift")

    counted = _race(races.resolve_alert,
                    [(str(home), postgres_url, alert_id, by) for by in ("mira", "ops")])

    assert counted == Counter({"resolved": 1, "alert.status_unchanged": 1})
    with Platform.open(home, metadata_url=postgres_url) as platform:
        alert, _ = platform.alerts.alert(staff(platform, "mira"), alert_id)
        events = [e for e in platform.audit.events(staff(platform, "aude"), limit=50)
                  if e.subject == f"alert:{alert_id}"]
    assert alert.status == AlertStatus.RESOLVED
    assert alert.comment == f"by {alert.closed_by}"
    assert [e.action for e in events].count("alert.resolved") == 1


def test_racing_runs_start_one_retraining_per_red_alert(tmp_path: Path,
                                                        postgres_url: str) -> None:
    """Four processes close the loop on two red drift alerts of one model at once, each
    having seen no retraining: the first alert's unique key lets one claim it, and the
    others, reading the winner's back, start nothing for the second either."""
    home = tmp_path / "home"
    with Platform.open(home, metadata_url=postgres_url) as platform:
        tiny_endpoint(platform)
        with platform.metadata.transaction() as tx:
            alert_id, _ = (platform.alerts.raise_one(
                tx, SYSTEM, endpoint="pd-decisions", model="pd", metric=metric,
                title=f"{metric} is red", detail={})
                for metric in ("score.psi", "feature.psi[x0]"))

    counted = _race(races.retrain, [(str(home), postgres_url, "pd-decisions")] * RACERS)

    assert counted == Counter({"started": 1, "none": RACERS - 1})
    with Platform.open(home, metadata_url=postgres_url) as platform:
        [retraining] = platform.retraining.retrainings(staff(platform, "mira"))
        started = [e for e in audit_events(platform, subject=f"alert:{alert_id}")
                   if e.action == "retraining.started"]
    # pd@1 is no build of `bankml train`: the one retraining stops, saying so
    assert (retraining.alert_id, retraining.outcome["rule"]) == (alert_id,
                                                                 "retraining.manifest")
    assert len(started) == 1
