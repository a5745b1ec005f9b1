"""The shadow queue: work runs off the caller's thread; a full queue drops, never waits."""

from __future__ import annotations

import threading

from bankml.serving.shadow import ShadowQueue


def test_a_full_queue_drops_and_counts_without_waiting() -> None:
    """With the worker busy and one slot taken, further offers return at once, dropped."""
    queue = ShadowQueue(max_pending=1)
    started, release = threading.Event(), threading.Event()

    def busy() -> list[int]:
        started.set()
        release.wait()
        return []

    queue.offer(busy)
    started.wait()
    queue.offer(list)  # fills the one slot
    accepted = [queue.offer(list) for _ in range(100)]  # the worker is held: none may wait
    release.set()
    queue.drain()
    queue.close()

    assert accepted == [False] * 100
    assert (queue.counts.offered, queue.counts.dropped, queue.counts.done) == (102, 100, 2)


def test_a_failing_job_is_counted_and_the_worker_goes_on() -> None:
    queue = ShadowQueue()
    ran: list[int] = []

    def fail() -> list[int]:
        raise RuntimeError("challenger broke")

    def run() -> list[int]:
        ran.append(1)
        return []

    queue.offer(fail)
    queue.offer(run)
    queue.drain()
    queue.close()

    assert (queue.counts.failed, queue.counts.done, ran) == (1, 1, [1])


def test_what_jobs_make_reaches_the_sink_in_bulk_and_all_of_it_on_drain() -> None:
    """Held back until `flush_items` are waiting; drain hands over the rest and waits for
    the sink's future."""
    handed: list[list[int]] = []
    resolved = threading.Event()

    class Done:
        def result(self) -> None:
            resolved.set()

    def sink(items: list[int]) -> Done:
        handed.append(items)
        return Done()

    queue = ShadowQueue(sink=sink, flush_items=3, flush_seconds=3600)
    for value in range(7):
        queue.offer(lambda value=value: [value])
    queue.drain()
    queue.close()

    assert handed == [[0, 1, 2], [3, 4, 5], [6]]
    assert resolved.is_set()


def test_what_is_held_reaches_the_sink_after_its_time_with_no_new_work() -> None:
    arrived = threading.Event()
    handed: list[list[int]] = []

    def sink(items: list[int]) -> None:
        handed.append(items)
        arrived.set()

    queue = ShadowQueue(sink=sink, flush_items=1_000, flush_seconds=0.05)
    queue.offer(lambda: [1])
    assert arrived.wait(timeout=30)  # no drain: the worker's own timer handed it over
    queue.close()
    assert handed == [[1]]


def test_a_failed_job_offered_with_on_error_hands_its_failure_to_the_sink() -> None:
    handed: list[list[object]] = []
    queue = ShadowQueue(sink=handed.append, flush_items=10, flush_seconds=3600)

    def fail() -> list[object]:
        raise RuntimeError("challenger broke")

    queue.offer(fail, on_error=lambda error: ("failed", str(error)))
    queue.offer(lambda: ["record"])
    queue.drain()
    queue.close()

    assert handed == [[("failed", "challenger broke"), "record"]]
    assert (queue.counts.failed, queue.counts.done) == (1, 1)
