"""Delivering alerts to the people who act on them: a JSON POST to each webhook.

A delivery that fails (no answer, or a status other than 2xx) is tried again after
`backoff_s`, then twice that, and so on, up to `attempts` times; every attempt is
returned for the delivery log, with its HTTP status or error.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from bankml.core.canonical import utc_timestamp
from bankml.core.monitoring import Alert, Delivery


class Webhooks:
    def __init__(self, urls: Sequence[str], *, attempts: int = 4, backoff_s: float = 1.0,
                 timeout_s: float = 5.0, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._urls, self._attempts, self._backoff_s = list(urls), attempts, backoff_s
        self._timeout_s, self._sleep, self._clock = timeout_s, sleep, clock

    def deliver(self, alert: Alert) -> list[Delivery]:
        """Every attempt made, for each URL in turn, until it answers 2xx or runs out."""
        import httpx  # noqa: PLC0415 - loaded only when there is something to deliver

        payload = payload_of(alert)
        attempts: list[Delivery] = []
        for url in self._urls:
            for attempt in range(1, self._attempts + 1):
                status, error = None, ""
                try:
                    response = httpx.post(url, json=payload, timeout=self._timeout_s)
                    status = response.status_code
                    if not 200 <= status < 300:
                        error = f"HTTP {status}"
                except httpx.HTTPError as failed:
                    error = f"{type(failed).__name__}: {failed}"
                attempts.append(Delivery(alert_id=alert.alert_id, url=url, attempt=attempt,
                                         delivered=not error, http_status=status,
                                         error=error[:2_000],
                                         attempted_at=utc_timestamp(self._clock())))
                if not error:
                    break
                if attempt < self._attempts:
                    self._sleep(self._backoff_s * 2 ** (attempt - 1))
        return attempts


def payload_of(alert: Alert) -> dict[str, Any]:
    return {"alert_id": alert.alert_id, "endpoint": alert.endpoint, "model": alert.model,
            "metric": alert.metric, "severity": alert.severity, "status": str(alert.status),
            "title": alert.title, "opened_at": alert.opened_at,
            "last_seen_at": alert.last_seen_at}
