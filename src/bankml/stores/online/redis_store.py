"""The shared online store on Redis: one string per (namespace, entity key)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bankml.core.errors import StoreUnavailableError

PIPELINE_ROWS = 10_000


class RedisOnlineStore:
    """Payloads under `{prefix}{namespace}|{key}`; MGET reads many entities in one trip."""

    def __init__(self, url: str, *, prefix: str = "bankml:") -> None:
        import redis  # noqa: PLC0415 - loads when a Redis store is opened, not with bankml

        self._url = url
        self._prefix = prefix
        self._client = redis.Redis.from_url(url, decode_responses=True)
        self._errors: type[Exception] = redis.RedisError

    def describe(self) -> str:
        return f"{self._url.split('@')[-1]} (prefix {self._prefix})"

    def write(self, namespace: str, items: Iterable[tuple[str, str]]) -> int:
        written = 0
        try:
            pipeline = self._client.pipeline(transaction=False)
            for key, payload in items:
                pipeline.set(self._key(namespace, key), payload)
                written += 1
                if written % PIPELINE_ROWS == 0:
                    pipeline.execute()
            pipeline.execute()
        except self._errors as exc:
            raise self._unavailable(exc) from exc
        return written

    def read(self, namespace: str, keys: Sequence[str]) -> list[str | None]:
        try:
            if len(keys) == 1:
                value = self._client.get(self._key(namespace, keys[0]))
                return [None if value is None else str(value)]
            values = self._client.mget([self._key(namespace, key) for key in keys])
        except self._errors as exc:
            raise self._unavailable(exc) from exc
        return [None if value is None else str(value) for value in values]

    def close(self) -> None:
        self._client.close()

    def _key(self, namespace: str, key: str) -> str:
        return f"{self._prefix}{namespace}|{key}"

    def _unavailable(self, error: Exception) -> StoreUnavailableError:
        return StoreUnavailableError(f"Cannot reach the online store {self.describe()} "
                                     f"({error}). Check BANKML_ONLINE_URL and that Redis runs.")
