"""Shadow scoring off the response path: a bounded queue and one worker thread.

The decision path hands the challenger's work over with `offer`, which never blocks: when
the queue is full the work is dropped and counted, so a slow challenger can never slow
the champion. The worker runs each job (score, build the shadow records) and counts the
ones that failed; a job offered with `on_error` turns its failure into an item for the
sink too, so that a challenger's failures are recorded where its guardrails read them.

What a job makes is held back and handed to the sink (the decision log) in bulk, every
`FLUSH_ITEMS` items or `FLUSH_SECONDS` after the first one waiting, so that the
champion's own commits do not carry the shadow's records. A crash loses at most that
much shadow work, which nobody was answered with.

While the worker runs, the interpreter switches threads every `SWITCH_SECONDS` rather
than every 5 ms: a champion thread back from a C call waits at most that long for the
shadow worker to give up the interpreter.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

MAX_PENDING = 1_000  # shadow jobs waiting; more are dropped
FLUSH_ITEMS = 1_024  # rarer, larger commits: fewer of the champion's commits wait behind one
FLUSH_SECONDS = 2.0
SWITCH_SECONDS = 0.0005

Job = Callable[[], Sequence[Any]]  # what it made, for the sink
OnError = Callable[[Exception], Any]  # a failed job's item for the sink
Sink = Callable[[list[Any]], Any]  # may return a future; `drain` waits for it


@dataclass(slots=True)
class ShadowCounts:
    offered: int = 0
    dropped: int = 0  # the queue was full
    failed: int = 0  # the challenger raised
    done: int = 0
    last_error: str = ""  # what the last failure was, for the operator


def _no_sink(_items: list[Any]) -> None:
    return None


class ShadowQueue:
    """Runs shadow jobs on a thread of its own; `offer` drops rather than waits."""

    def __init__(self, *, sink: Sink = _no_sink, max_pending: int = MAX_PENDING,
                 flush_items: int = FLUSH_ITEMS, flush_seconds: float = FLUSH_SECONDS) -> None:
        self._queue: queue.Queue[tuple[Job, OnError | None] | None] = queue.Queue(
            maxsize=max_pending)
        self._sink, self._flush_items, self._flush_seconds = sink, flush_items, flush_seconds
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._held: list[Any] = []
        self._held_since = 0.0
        self._last: Any = None  # what the sink returned last time
        self.counts = ShadowCounts()

    def offer(self, job: Job, *, on_error: OnError | None = None) -> bool:
        """Queue `job`; False (and counted) if the queue is full."""
        self._start()
        self.counts.offered += 1
        try:
            self._queue.put_nowait((job, on_error))
        except queue.Full:
            self.counts.dropped += 1
            return False
        return True

    def drain(self) -> None:
        """Wait until every queued job ran and what it made reached the sink (and, when
        the sink returns a future, until that resolved): tests and shutdown."""
        self._queue.join()
        self._flush()
        last = self._last
        if last is not None and hasattr(last, "result"):
            last.result()

    def close(self) -> None:
        with self._lock:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join()
                self._thread = None
        self._flush()

    def _start(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_SECONDS))
                self._thread = threading.Thread(target=self._run, name="shadow", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                offered = self._queue.get(timeout=self._wait())
            except queue.Empty:  # nothing new: what is held has waited long enough
                self._flush()
                continue
            try:
                if offered is None:
                    return
                self._run_one(*offered)
            finally:
                self._queue.task_done()

    def _run_one(self, job: Job, on_error: OnError | None) -> None:
        try:
            made = job()
        except Exception as error:  # a failing challenger must not stop the worker
            self.counts.failed += 1
            self.counts.last_error = repr(error)
            if on_error is not None:
                self._hold([on_error(error)])
            return
        self._hold(made)
        self.counts.done += 1

    def _wait(self) -> float | None:
        with self._lock:
            if not self._held:
                return None
            return max(0.0, self._held_since + self._flush_seconds - time.monotonic())

    def _hold(self, items: Sequence[Any]) -> None:
        with self._lock:
            if not self._held:
                self._held_since = time.monotonic()
            self._held.extend(items)
            due = (len(self._held) >= self._flush_items
                   or time.monotonic() - self._held_since >= self._flush_seconds)
        if due:
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            items, self._held = self._held, []
            if items:
                self._last = self._sink(items)
