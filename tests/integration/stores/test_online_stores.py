"""One contract for every online store: SQLite embedded and Redis."""

from __future__ import annotations

from pathlib import Path

import pytest

from bankml.core.ports import OnlineStore
from bankml.stores.online import RedisOnlineStore, SqliteOnlineStore


class OnlineStoreContract:
    def test_unknown_key_reads_as_none(self, store: OnlineStore) -> None:
        """A key never written reads as None, not an exception."""
        assert store.read("view@1", ["[1]"]) == [None]

    def test_written_payload_reads_back(self, store: OnlineStore) -> None:
        """A payload reads back byte for byte under its namespace and key."""
        store.write("view@1", [("[1]", '[5,1.5,"a"]')])

        assert store.read("view@1", ["[1]"]) == ['[5,1.5,"a"]']

    def test_many_keys_keep_their_order(self, store: OnlineStore) -> None:
        """A batch read returns one payload per key, in the order asked, None for gaps."""
        assert store.write("view@1", [(f"[{i}]", str(i)) for i in range(1000)]) == 1000

        assert store.read("view@1", ["[999]", "[x]", "[0]", "[999]"]) == ["999", None, "0",
                                                                           "999"]

    def test_writing_again_replaces(self, store: OnlineStore) -> None:
        """The newer payload of a key replaces the older one."""
        store.write("view@1", [("[1]", "old")])
        store.write("view@1", [("[1]", "new")])

        assert store.read("view@1", ["[1]"]) == ["new"]

    def test_last_of_a_repeated_key_in_one_write_wins(self, store: OnlineStore) -> None:
        """Within one write a key given twice keeps the later payload, whatever the order."""
        store.write("view@1", [("[2]", "b"), ("[1]", "new"), ("[0]", "a"), ("[1]", "old")])

        assert store.read("view@1", ["[0]", "[1]", "[2]"]) == ["a", "old", "b"]

    def test_namespaces_are_apart(self, store: OnlineStore) -> None:
        """Two versions of a view never see each other's values."""
        store.write("view@1", [("[1]", "one")])

        assert store.read("view@2", ["[1]"]) == [None]


class TestSqliteOnlineStore(OnlineStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> OnlineStore:
        return SqliteOnlineStore(tmp_path / "online.db")


class TestRedisOnlineStore(OnlineStoreContract):
    @pytest.fixture
    def store(self, redis_url: str, redis_prefix: str) -> OnlineStore:
        return RedisOnlineStore(redis_url, prefix=redis_prefix)
