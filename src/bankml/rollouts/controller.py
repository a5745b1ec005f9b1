"""The rollout controller: evaluates running rollouts on a schedule, in one process only.

Every worker of `bankml serve` (and every replica) runs a controller thread; each round,
it takes or renews the lease row `rollout-controller` by compare-and-set, and only the
holder evaluates. A holder that dies stops renewing, and once its lease expired another
takes it. All state lives in the rollouts table, so the new holder resumes each rollout at
its recorded step. With `BANKML_SERVE_MONITOR_CRON` set, the holder also fires monitoring's
schedule (the same lease: one leader for both).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bankml.core.canonical import utc_timestamp
from bankml.core.errors import BankmlError
from bankml.core.identity import SYSTEM, Principal
from bankml.core.ports import MetadataStore
from bankml.monitoring.schedule import LeaderSchedule
from bankml.rollouts.service import RolloutService

LEASE = "rollout-controller"
log = logging.getLogger(__name__)


def holder_name() -> str:
    """Which process holds the lease, readable by people (host, pid) and unique."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Controller:
    """Drives running rollouts while this process holds the controller's lease."""

    def __init__(self, metadata: MetadataStore, rollouts: RolloutService, *,
                 interval_s: float, lease_s: float, holder: str | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 actor: Principal = SYSTEM,
                 schedule: LeaderSchedule | None = None) -> None:
        """`schedule`: monitoring's cron, fired by whichever process holds the lease."""
        self._metadata, self._rollouts = metadata, rollouts
        self._schedule = schedule
        self._interval_s, self._lease_s = interval_s, lease_s
        self.holder = holder or holder_name()
        self._clock, self._actor = clock, actor
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def lead(self) -> bool:
        """Take or renew the lease; True while this process is the one that acts."""
        now = self._clock()
        with self._metadata.transaction() as tx:
            return tx.leases.take(LEASE, self.holder, now=utc_timestamp(now),
                                  until=utc_timestamp(now + timedelta(seconds=self._lease_s)))

    def tick(self) -> int:
        """One round: if leading, evaluate every running rollout and act; the number of
        rollouts moved."""
        if not self.lead():
            if self._schedule is not None:
                self._schedule.lost()
            return 0
        if self._schedule is not None:
            self._schedule.tick(self._clock(), holder=self.holder)
        with self._metadata.reading() as tx:
            active = tx.rollouts.all_active()
        moved = 0
        for rollout in active:
            try:
                evaluation = self._rollouts.evaluate(rollout)
                recorded = self._rollouts.record_comparison(self._actor, evaluation)
                if recorded is not None:  # the move acts on the revision just written
                    evaluation = self._rollouts.evaluate(recorded)
                if self._rollouts.act(self._actor, evaluation):
                    moved += 1
            except BankmlError as error:  # an operator moved it first, or a gate broke
                log.warning("rollout %s on %s not moved: %s", rollout.rollout_id,
                            rollout.endpoint, error)
        return moved

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="rollout-controller",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop and give the lease up, so another process need not wait for it to expire."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._schedule is not None:
            self._schedule.stop()  # a run in progress finishes first
        try:
            with self._metadata.transaction() as tx:
                tx.leases.release(LEASE, self.holder)
        except BankmlError:
            log.warning("could not release the controller lease; it expires on its own")

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.tick()
            except Exception:  # the next round tries again; a server keeps serving
                log.exception("rollout controller round failed")
