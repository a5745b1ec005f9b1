"""Stand-in children for the shadow process's own tests: top-level, so a spawned process
can import them; what a real child does is tested through the platform."""

from __future__ import annotations

from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any

from bankml.serving.shadow import ShadowCounts


def held_until(release: Event, work: Queue[Any], acks: Queue[Any], _parent: int) -> None:
    """Reads nothing until `release` is set, then runs every item, answering drains."""
    release.wait()
    done = 0
    while True:
        item = work.get()
        if item is None:
            return
        if isinstance(item, tuple) and item[:1] == ("drain",):
            acks.put((item[1], ShadowCounts(done=done)))
        else:
            done += 1


def gone(_settings: Any, _work: Queue[Any], _acks: Queue[Any], _parent: int) -> None:
    """Leaves at once, as a child that crashed."""


class Runner:
    """A runner for `serve_shadow` that records what it was given."""

    def __init__(self) -> None:
        self.given: list[Any] = []
        self.shadow = self

    def shadow_locally(self, work: Any) -> None:
        self.given.append(work)

    def drain(self) -> None:
        return None

    @property
    def counts(self) -> ShadowCounts:
        return ShadowCounts(done=len(self.given))
