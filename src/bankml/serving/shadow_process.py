"""Shadow scoring in a process of its own, so the challenger never holds the champion's
interpreter.

A shadow thread in the serving process shares its interpreter lock: every millisecond of
the challenger's Python work is one the champion's requests may wait for. Here the
serving process only hands each piece of shadow work (plain data: the requests, their
pseudonyms, the rollout and challenger it is for) to a bounded queue; a child process
opened on the same settings scores it with its own model cache and writes the shadow
records through its own decision log writer, in bulk, as the thread does. A shadow
record's latency counts from the champion's start as on the thread: `perf_counter` is
the system's monotonic clock, the same in both processes.

`offer` never blocks: a full queue drops the work and counts it. `drain` waits until the
child has run everything offered before it and its records are durable, and brings back
the child's counts. The child is started on the first offer, started again if it died,
and leaves when told to or when the serving process is gone; what it held unwritten is
then lost, as with the thread: shadow work that nobody was answered with.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from typing import Any, Protocol

from bankml.core.errors import UnavailableError
from bankml.serving.shadow import MAX_PENDING, ShadowCounts

STOP_TIMEOUT_S = 60.0
PARENT_CHECK_S = 1.0  # how often an idle child looks whether its parent is still there
SHADOW_NICENESS = 10  # added to the child's niceness: the champion's process goes first


class ShadowRunner(Protocol):
    """What the child runs the work on: its own platform's decision service."""

    def shadow_locally(self, work: Any) -> None: ...

    @property
    def shadow(self) -> Any: ...  # a ShadowQueue: drain(), counts


ChildMain = Callable[[Any, "Queue[Any]", "Queue[Any]", int], None]


@dataclass(frozen=True, slots=True)
class _Child:
    process: BaseProcess
    work: Queue[Any]
    acks: Queue[Any]


class ShadowProcess:
    """The serving process's side: a bounded queue to a child that scores shadow work."""

    def __init__(self, child_main: ChildMain, settings: Any, *,
                 max_pending: int = MAX_PENDING) -> None:
        self._main, self._settings, self._max_pending = child_main, settings, max_pending
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._child: _Child | None = None
        self._drains = 0
        self._child_counts = ShadowCounts()  # as of the last drain
        self._local = ShadowCounts()  # offered and dropped here
        self.restarts = 0

    @property
    def counts(self) -> ShadowCounts:
        child = self._child_counts
        return replace(child, offered=self._local.offered,
                       dropped=self._local.dropped + child.dropped)

    def offer(self, work: Any) -> bool:
        """Queue `work` for the child; False (and counted) if its queue is full."""
        child = self._running()
        self._local.offered += 1
        try:
            child.work.put_nowait(work)
        except queue.Full:
            self._local.dropped += 1
            return False
        return True

    def drain(self) -> None:
        """Wait until the child ran all work offered so far and its records are durable."""
        with self._lock:
            child = self._child
            self._drains += 1
            token = self._drains
        if child is None:
            return
        child.work.put(("drain", token))
        while True:
            try:
                answer, counts = child.acks.get(timeout=PARENT_CHECK_S)
            except queue.Empty:
                if not child.process.is_alive():
                    raise UnavailableError("The shadow worker process died before it had "
                                           "run its work; that shadow work is lost.",
                                           rule="shadow.worker_alive") from None
                continue
            if answer == token:
                self._child_counts = counts
                return

    def close(self) -> None:
        """Let the child finish what it holds and leave."""
        with self._lock:
            child, self._child = self._child, None
        if child is None:
            return
        if child.process.is_alive():
            child.work.put(None)
            child.process.join(STOP_TIMEOUT_S)
        if child.process.is_alive():
            child.process.terminate()
            child.process.join()

    def _running(self) -> _Child:
        with self._lock:
            if self._child is not None and self._child.process.is_alive():
                return self._child
            if self._child is not None:
                self.restarts += 1  # it died: its work in flight is lost
            work, acks = self._context.Queue(maxsize=self._max_pending), self._context.Queue()
            # not a daemon: a uvicorn worker may itself be one, and a daemon has no children;
            # the child watches for its parent instead
            process = self._context.Process(
                target=self._main, args=(self._settings, work, acks, os.getpid()),
                name="bankml-shadow", daemon=False)
            process.start()
            self._child = _Child(process, work, acks)
            return self._child


def serve_shadow(runner: ShadowRunner, work_queue: Queue[Any], acks: Queue[Any],
                 parent_pid: int) -> None:
    """The child's loop: queue each piece of work on `runner`'s own shadow worker; answer
    drains once everything before them is durable; leave on None or an orphaned parent."""
    while True:
        try:
            item = work_queue.get(timeout=PARENT_CHECK_S)
        except queue.Empty:
            if os.getppid() != parent_pid:
                return  # the serving process is gone: nobody waits for this work
            continue
        if item is None:
            return
        if isinstance(item, tuple) and item[:1] == ("drain",):
            runner.shadow.drain()
            acks.put((item[1], replace(runner.shadow.counts)))
            continue
        runner.shadow_locally(item)


def yield_to_the_champion() -> None:
    """Shadow work is best effort by definition: when the machine's cores are all busy,
    the scheduler gives the serving process (the champion's decisions, their log) the
    CPU first. Off Unix, or where the priority cannot be lowered, it runs as it is."""
    with contextlib.suppress(AttributeError, OSError):
        os.nice(SHADOW_NICENESS)
