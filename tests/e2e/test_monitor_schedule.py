"""`bankml monitor schedule` as a real process: it measures the due window, waits, and
stops cleanly on SIGTERM; started again it reads the same window back, not twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from bankml import Platform
from bankml.core.identity import Role
from support.people import with_tokens
from support.served import tiny_endpoint

CRON = "0 2 * * 1"
TIMEOUT_S = 120


def _schedule_until_stopped(home: Path, token: str) -> tuple[int, str]:
    """Start the schedule, read until the first window is done, SIGTERM it; its code and
    everything it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANKML_")}
    env |= {"BANKML_TOKEN": token, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bankml", "monitor", "schedule", "--cron", CRON,
         "--endpoint", "pd-decisions", "--home", str(home)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert process.stdout is not None
    seen: list[str] = []
    try:
        for line in process.stdout:  # the process says when it is waiting: no sleep
            seen.append(line)
            if line.startswith("next window at"):
                break
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=TIMEOUT_S)
    finally:  # a hung process is killed, and its pipe closed (else a ResourceWarning
        # fails whichever test runs next on this worker)
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
    return process.returncode, "".join(seen) + rest


def test_sigterm_stops_the_schedule_and_a_restart_measures_no_window_twice(
        tmp_path: Path) -> None:
    """Exit code 0 with 'Stopped.' after the due window's run; a second process on the
    same schedule finds that window stored: one run in all."""
    home = tmp_path / "home"
    with Platform.open(home) as platform:
        tokens = with_tokens(platform, {"mira": (Role.MODEL_RISK,)})
        tiny_endpoint(platform)

    first_code, first = _schedule_until_stopped(home, tokens["mira"])
    second_code, second = _schedule_until_stopped(home, tokens["mira"])

    assert (first_code, second_code) == (0, 0), first + second
    assert "Stopped." in first
    assert "pd-decisions window to" in first
    with Platform.open(home) as platform:
        runs = platform.monitor.runs(platform.identity.user("mira"), "pd-decisions")
    assert len(runs) == 1
    assert f"(run {runs[0].run_id})" in first
    assert f"(run {runs[0].run_id})" in second
