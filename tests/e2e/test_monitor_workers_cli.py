"""`bankml monitor run --workers N` as a user runs it: every endpoint measured in worker
processes, BANKML_MONITOR_WORKERS as the default, and a count out of range refused with
its rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bankml import Platform
from bankml.core.canonical import utc_timestamp
from bankml.core.identity import Role
from support.cli import bankml
from support.people import staff, with_tokens
from support.served import tiny_endpoint

ENDPOINTS = ("pd-a", "pd-b")
TOMORROW = utc_timestamp(datetime.now(UTC) + timedelta(days=1))  # the window holds today


def _home(tmp_path: Path) -> tuple[Path, str]:
    """Two endpoints with a few decisions each, and a model risk officer's token."""
    home = tmp_path / "home"
    with Platform.open(home) as platform:
        first = tiny_endpoint(platform, ENDPOINTS[0])
        platform.endpoints.apply(staff(platform, "ops"), replace(first, name=ENDPOINTS[1]))
        for name in ENDPOINTS:
            platform.decisions.decide(staff(platform, "ops"), name, [
                {"customer_id": f"c-{i}", "x0": i / 10} for i in range(10)])
        token = with_tokens(platform, {"mira": (Role.MODEL_RISK,)})["mira"]
    return home, token


def test_monitor_run_with_workers_measures_every_endpoint(tmp_path: Path) -> None:
    """Two workers: one run per endpoint, printed in endpoint order."""
    home, token = _home(tmp_path)

    ran = bankml("monitor", "run", "--workers", "2", "--as-of", TOMORROW, "--home", str(home),
                 token=token)

    assert ran.returncode == 0, ran.stderr
    printed = [line.split()[0] for line in ran.stdout.splitlines() if "10 decisions" in line]
    assert printed == list(ENDPOINTS)


def test_a_worker_count_out_of_range_is_refused_with_its_rule(tmp_path: Path) -> None:
    """`--workers 0` and a setting of 0 both stop before measuring, saying why."""
    home, token = _home(tmp_path)

    flagged = bankml("monitor", "run", "--workers", "0", "--home", str(home), token=token)
    set_so = bankml("monitor", "run", "--home", str(home), token=token,
                    env={"BANKML_MONITOR_WORKERS": "0"})

    assert flagged.returncode == 1
    assert "monitoring.workers" in flagged.stdout + flagged.stderr
    assert set_so.returncode == 1
    assert "BANKML_MONITOR_WORKERS" in set_so.stdout + set_so.stderr
    with Platform.open(home) as platform:
        assert platform.monitor.runs(staff(platform, "mira")) == []
