"""Many processes opening one new home at once: one migrates, the others wait, all open."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from pathlib import Path

import pytest

from bankml import Platform
from support import races
from support.trail import verify

PROCESSES = 6

pytestmark = pytest.mark.slow


def test_six_processes_open_a_new_home_at_once(tmp_path: Path,
                                               empty_metadata_url: str) -> None:
    """Six fresh processes open the same unmigrated store at the same moment: every one
    opens, and the store ends migrated once, with one key of each kind."""
    home = str(tmp_path / "home")
    context = multiprocessing.get_context("spawn")
    barrier, outcomes = context.Barrier(PROCESSES), context.Queue()
    racers = [context.Process(target=races.report,
                              args=(races.open_home, outcomes, home, empty_metadata_url,
                                    barrier))
              for _ in range(PROCESSES)]
    for racer in racers:
        racer.start()
    counted = Counter(outcomes.get(timeout=races.BARRIER_TIMEOUT_S * 2) for _ in racers)
    for racer in racers:
        racer.join()

    assert counted == {"opened": PROCESSES}
    with Platform.open(home, metadata_url=empty_metadata_url, auto_migrate=False) as opened:
        assert verify(opened).is_intact
    assert sorted(p.name for p in (tmp_path / "home" / "secrets").iterdir()) == [
        "anchor.key", "pseudonym.key"]
