"""The bounded LRU behind the feature store's caches."""

from __future__ import annotations

import pytest

from bankml.features.caches import LruCache


def test_holds_at_most_its_size() -> None:
    """Adding past the size drops entries, never growing beyond it."""
    cache: LruCache[int, str] = LruCache(3)

    for key in range(100):
        cache.put(key, str(key))

    assert len(cache) == 3
    assert [cache.get(k) for k in (96, 97, 98, 99)] == [None, "97", "98", "99"]


def test_the_least_recently_used_goes_first() -> None:
    """An entry read recently outlives one read longer ago."""
    cache: LruCache[str, int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)

    cache.get("a")
    cache.put("c", 3)

    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_an_empty_cache_is_refused() -> None:
    """A cache of no entries is a configuration mistake, named as such."""
    with pytest.raises(ValueError, match="at least one entry, not 0"):
        LruCache(0)
