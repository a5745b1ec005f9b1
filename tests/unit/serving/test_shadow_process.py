"""The shadow process's side of the queue: a full queue drops, never waits; a child that
died is reported, not awaited; a child whose parent is gone leaves."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from bankml.core.errors import UnavailableError
from bankml.serving.shadow_process import ShadowProcess, serve_shadow
from support.shadow_children import Runner, gone, held_until

SPAWN = multiprocessing.get_context("spawn")


def test_a_full_queue_drops_and_counts_without_waiting() -> None:
    release = SPAWN.Event()
    shadow = ShadowProcess(held_until, release, max_pending=2)
    try:
        accepted = [shadow.offer(("work", i)) for i in range(2)]
        refused = [shadow.offer(("work", i)) for i in range(100)]  # the child reads nothing
        release.set()
        shadow.drain()
    finally:
        shadow.close()

    assert accepted == [True, True]
    assert refused == [False] * 100
    assert (shadow.counts.offered, shadow.counts.dropped, shadow.counts.done) == (102, 100, 2)


def test_a_drain_on_a_child_that_died_is_refused_naming_the_rule() -> None:
    shadow = ShadowProcess(gone, None)
    shadow.offer(("work", 1))

    with pytest.raises(UnavailableError) as refused:
        shadow.drain()
    shadow.close()

    assert refused.value.rule == "shadow.worker_alive"


def test_the_child_runs_its_work_and_leaves_when_its_parent_is_gone() -> None:
    work, acks = SPAWN.Queue(), SPAWN.Queue()
    work.put(("work", 1))
    work.put(("drain", 7))
    runner = Runner()

    serve_shadow(runner, work, acks, parent_pid=os.getppid() + 1)  # returns: no such parent

    assert runner.given == [("work", 1)]
    token, counts = acks.get(timeout=30)
    assert (token, counts.done) == (7, 1)
