"""Shadow scoring off the response path: a bounded queue and one worker thread.

The decision path hands the challenger's work over with `offer`, which never blocks: when
the queue is full the work is dropped and counted, so a slow challenger can never slow
the champion. The worker runs each job (score, build the shadow records, hand them to the
decision log) and counts the ones that failed.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

MAX_PENDING = 1_000  # shadow jobs waiting; more are dropped

Job = Callable[[], None]


@dataclass(slots=True)
class ShadowCounts:
    offered: int = 0
    dropped: int = 0  # the queue was full
    failed: int = 0  # the challenger raised
    done: int = 0
    last_error: str = ""  # what the last failure was, for the operator


class ShadowQueue:
    """Runs shadow jobs on a thread of its own; `offer` drops rather than waits."""

    def __init__(self, *, max_pending: int = MAX_PENDING) -> None:
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=max_pending)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.counts = ShadowCounts()

    def offer(self, job: Job) -> bool:
        """Queue `job`; False (and counted) if the queue is full."""
        self._start()
        self.counts.offered += 1
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self.counts.dropped += 1
            return False
        return True

    def drain(self) -> None:
        """Wait until every queued job ran (tests and shutdown)."""
        self._queue.join()

    def close(self) -> None:
        with self._lock:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join()
                self._thread = None

    def _start(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="shadow", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                job()
                self.counts.done += 1
            except Exception as error:  # a failing challenger must not stop the worker
                self.counts.failed += 1
                self.counts.last_error = repr(error)
            finally:
                self._queue.task_done()
