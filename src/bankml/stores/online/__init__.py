"""Online feature values: SQLite embedded, Redis shared; the same contract."""

from bankml.stores.online.redis_store import RedisOnlineStore
from bankml.stores.online.sqlite import SqliteOnlineStore

__all__ = ["RedisOnlineStore", "SqliteOnlineStore"]
