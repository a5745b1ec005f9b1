"""Alerts reach people: a real local HTTP server receives the alert, after a first
failure and one retry, and every attempt is in the delivery log."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bankml import Platform
from bankml.core.monitoring import Alert, AlertStatus
from bankml.monitoring.webhooks import Webhooks


class Receiver:
    """An HTTP server on a free loopback port that answers 500 to its first POST and 200
    after, keeping every body it was sent."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(500 if len(received) == 1 else 200)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as started:
        yield started


def test_a_failed_delivery_is_retried_with_backoff(receiver: Receiver) -> None:
    """First answer 500, then 200: two attempts, the wait before the second is backoff_s."""
    waits: list[float] = []
    hooks = Webhooks([receiver.url], attempts=4, backoff_s=0.25, sleep=waits.append)
    alert = Alert(alert_id=7, model="pd", severity="red", title="pd: score.psi is red",
                  status=AlertStatus.OPEN, opened_by="system", opened_at="2026-12-01T00:00:00Z",
                  endpoint="pd-decisions", metric="score.psi")

    attempts = hooks.deliver(alert)

    assert [(a.attempt, a.delivered, a.http_status) for a in attempts] == [
        (1, False, 500), (2, True, 200)]
    assert waits == [0.25]
    assert [body["metric"] for body in receiver.bodies] == ["score.psi", "score.psi"]


def test_a_monitoring_red_reaches_the_webhook_and_the_delivery_log(
        receiver: Receiver, tmp_path: Path) -> None:
    """A run whose window is red POSTs its alert to the configured webhook; the log keeps
    the failed attempt and the delivered one."""
    from integration.monitoring.test_monitor_runs import (  # noqa: PLC0415
        decide,
        label,
        mature_now,
        traffic,
    )
    from support.people import staff  # noqa: PLC0415
    from support.served import credit_endpoint, credit_in_prod  # noqa: PLC0415

    with Platform.open(tmp_path / "home", alert_webhooks=[receiver.url],
                       alert_webhook_backoff_s=0.01) as platform:
        version = credit_in_prod(platform)
        credit_endpoint(platform)
        label(platform, decide(platform, traffic(version, drifted=False)), decayed=True)
        mira = staff(platform, "mira")

        platform.monitor.run(mira, endpoint="credit-pd", policy=mature_now(),
                             as_of=datetime.now(UTC) + timedelta(days=1))

        [alert] = [a for a in platform.alerts.alerts(mira, unresolved=True)
                   if a.metric == "performance.auc_drop"]
        with platform.metadata.reading() as tx:
            log = tx.alerts.deliveries(alert.alert_id)
    assert [(d.attempt, d.delivered) for d in log] == [(1, False), (2, True)]
    assert [b["alert_id"] for b in receiver.bodies].count(alert.alert_id) == 2
