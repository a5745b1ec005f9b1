"""Feature store tests: a platform whose online store is SQLite or Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bankml import Platform
from bankml.core.ports import OnlineStore
from bankml.stores.online import RedisOnlineStore, SqliteOnlineStore


@pytest.fixture(params=["sqlite", "redis"])
def online_store(request: pytest.FixtureRequest, tmp_path: Path) -> OnlineStore:
    """Each online test runs on embedded SQLite and on Redis."""
    if request.param == "sqlite":
        return SqliteOnlineStore(tmp_path / "online.db")
    return RedisOnlineStore(request.getfixturevalue("redis_url"),
                            prefix=request.getfixturevalue("redis_prefix"))


@pytest.fixture
def features_platform(tmp_path: Path, online_store: OnlineStore) -> Iterator[Platform]:
    with Platform.open(tmp_path / "home", online=online_store) as opened:
        yield opened


@pytest.fixture
def sqlite_platform(tmp_path: Path) -> Iterator[Platform]:
    """Offline-only tests need one online store; SQLite is the embedded one."""
    with Platform.open(tmp_path / "home") as opened:
        yield opened
