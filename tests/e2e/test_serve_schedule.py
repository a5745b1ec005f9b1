"""Monitoring's schedule inside a real `bankml serve`: among two workers the rollout
controller's lease holder fires the due window once, and the rounds after it fire nothing
more; between two replicas, the one taking over from a SIGKILLed holder re-reads that
window, never measures it twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bankml import Platform
from bankml.core.audit import AuditEvent
from bankml.core.canonical import utc_timestamp
from bankml.monitoring.schedule import Cron
from bankml.rollouts.controller import LEASE
from support.polling import until as polled
from support.served import tiny_endpoint
from support.server import kill, serving

CRON = "0 2 * * 1"
ENV = {"BANKML_ROLLOUT_INTERVAL_S": "0.2", "BANKML_ROLLOUT_LEASE_S": "2",
       "BANKML_SERVE_MONITOR_CRON": CRON, "BANKML_SERVE_MONITOR_WINDOW_DAYS": "7"}
DEADLINE_S = 90.0

pytestmark = [pytest.mark.slow, pytest.mark.heavy]


def until(check: Callable[[], Any], what: str) -> Any:
    """`check`'s first truthy answer (the controller runs on its own schedule)."""
    return polled(check, what, deadline_s=DEADLINE_S, poll_s=0.1)


def events(home: Path, action: str) -> list[AuditEvent]:
    with Platform.open(home) as platform, platform.metadata.reading() as tx:
        return [e for e in tx.audit.events() if e.action == action]


def lease(home: Path) -> tuple[str, int]:
    with Platform.open(home) as platform, platform.metadata.reading() as tx:
        found = tx.leases.get(LEASE)
    return ("", 0) if found is None else (found.holder, found.revision)


def test_the_schedule_in_serve_fires_each_window_once_among_workers(tmp_path: Path) -> None:
    """Two workers race for the lease every 0.2 s; one fires the latest due window (one
    run measured), and ten more rounds of renewals later nothing else has fired."""
    home = tmp_path / ".bankml"
    with Platform.open(home) as platform:
        tiny_endpoint(platform)
    due = Cron.parse(CRON).latest_at_or_before(datetime.now(UTC))

    with serving(home, workers=2, env=ENV) as server:
        until(lambda: events(home, "monitoring.scheduled"), "the leader to fire")
        _, revision = lease(home)
        until(lambda: lease(home)[1] >= revision + 10, "ten more rounds of the leader")
        holder, _ = lease(home)
        scheduled = events(home, "monitoring.scheduled")
        runs = events(home, "monitoring.run")
        assert server.process.poll() is None

    [fired] = scheduled
    [run] = runs
    assert fired.payload["holder"] == holder
    assert fired.payload["window_end"] == utc_timestamp(due)
    assert fired.payload["measured"] == [run.payload["run_id"]]
    assert run.payload["window_end"] == fired.payload["window_end"]


def test_a_replica_taking_over_the_lease_measures_no_window_twice(tmp_path: Path) -> None:
    """Two replicas; the lease holder fires the due window and is SIGKILLed; the other takes
    the lease once it expired and fires the latest due window again, which it only reads
    back: one run for the window in all."""
    home = tmp_path / ".bankml"
    with Platform.open(home) as platform:
        tiny_endpoint(platform)

    with serving(home, env=ENV) as first, serving(home, env=ENV) as second:
        [fired] = until(lambda: events(home, "monitoring.scheduled"), "the leader to fire")
        leader, survivor = ((first, second) if f":{first.process.pid}:" in fired.payload[
            "holder"] else (second, first))
        kill(leader.process)
        until(lambda: f":{survivor.process.pid}:" in lease(home)[0],
              "the other replica to take the lease")
        scheduled = until(lambda: (found := events(home, "monitoring.scheduled"))[1:]
                          and found, "the new leader to fire")
        runs = events(home, "monitoring.run")

    assert [e.payload["window_end"] for e in scheduled] == [fired.payload["window_end"]] * 2
    assert f":{survivor.process.pid}:" in scheduled[1].payload["holder"]
    assert [run.payload["run_id"] for run in runs] == fired.payload["measured"]
    assert scheduled[1].payload["measured"] == []
    assert scheduled[1].payload["runs"] == fired.payload["measured"]
