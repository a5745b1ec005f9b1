"""Bounded caches, and the latest version of each view as the metadata database says.

A view version `name@N` never changes, so whatever is derived from it (the rebuilt
definition, a retrieval plan over pinned versions) may be kept, in a bounded LRU. Which
version is *latest* changes whenever any process applies a definition, so it is read
from the metadata database; only the online lookup path, which runs on every request,
reuses an answer, for at most a few seconds.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

from bankml.core.ports import MetadataStore

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

LATEST_NAMES = 4_096  # views whose latest number is remembered; more are read again


class LruCache(Generic[K, V]):
    """At most `size` entries; adding one more drops the least recently used. Thread-safe."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"a cache holds at least one entry, not {size}")
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class LatestVersions:
    """The latest version number of each view, read from the metadata database.

    `numbers(names, max_age_s=0)` reads the database; with `max_age_s` > 0 it reuses an
    answer read at most that many seconds ago on the `monotonic` clock, which tests
    replace to move time on.
    """

    def __init__(self, metadata: MetadataStore, *,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._metadata = metadata
        self._monotonic = monotonic
        self._read: LruCache[str, tuple[int, float]] = LruCache(LATEST_NAMES)

    def numbers(self, names: Iterable[str], *, max_age_s: float = 0.0) -> dict[str, int]:
        """name -> its latest number. Raises NotFoundError naming the known views."""
        now = self._monotonic()
        found: dict[str, int] = {}
        stale: list[str] = []
        for name in dict.fromkeys(names):
            seen = self._read.get(name) if max_age_s > 0 else None
            if seen is not None and now - seen[1] <= max_age_s:
                found[name] = seen[0]
            else:
                stale.append(name)
        if stale:
            with self._metadata.reading() as tx:
                read = {name: tx.features.latest(name).number for name in stale}
            for name, number in read.items():
                self._read.put(name, (number, now))
            found.update(read)
        return found

    def number(self, name: str, *, max_age_s: float = 0.0) -> int:
        if max_age_s > 0:  # the lookup path: one probe, no lists
            seen = self._read.get(name)
            if seen is not None and self._monotonic() - seen[1] <= max_age_s:
                return seen[0]
        return self.numbers([name])[name]

    def forget(self) -> None:
        """Read every view's latest number from the database next time."""
        self._read.clear()
