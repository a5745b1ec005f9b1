"""The shadow queue: work runs off the caller's thread; a full queue drops, never waits."""

from __future__ import annotations

import threading
import time

from bankml.serving.shadow import ShadowQueue


def test_a_full_queue_drops_and_counts_without_waiting() -> None:
    """With the worker busy and one slot taken, further offers return at once, dropped."""
    queue = ShadowQueue(max_pending=1)
    started, release = threading.Event(), threading.Event()

    def busy() -> None:
        started.set()
        release.wait()

    queue.offer(busy)
    started.wait()
    queue.offer(lambda: None)  # fills the one slot
    began = time.perf_counter()
    accepted = [queue.offer(lambda: None) for _ in range(100)]
    spent = time.perf_counter() - began
    release.set()
    queue.drain()
    queue.close()

    assert accepted == [False] * 100
    assert (queue.counts.offered, queue.counts.dropped, queue.counts.done) == (102, 100, 2)
    assert spent < 0.05


def test_a_failing_job_is_counted_and_the_worker_goes_on() -> None:
    queue = ShadowQueue()
    ran: list[int] = []

    def fail() -> None:
        raise RuntimeError("challenger broke")

    queue.offer(fail)
    queue.offer(lambda: ran.append(1))
    queue.drain()
    queue.close()

    assert (queue.counts.failed, queue.counts.done, ran) == (1, 1, [1])
