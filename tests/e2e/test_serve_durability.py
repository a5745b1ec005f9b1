"""What `bankml serve` answers survives a crash; a retry with a key is one decision across
workers; a log that cannot be written is a 503, never a silent decision."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from bankml import Platform
from bankml.core.identity import Role
from support.people import admins, person
from support.served import EXAMPLES, applications, credit_in_prod
from support.server import Server, kill, serving

pytestmark = pytest.mark.slow
LOAD_THREADS = 6
ACKNOWLEDGED_BEFORE_KILL = 60


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("durable") / ".bankml"
    with Platform.open(home) as platform:
        credit_in_prod(platform)
        platform.endpoints.apply(platform.identity.user("ops"),
                                 EXAMPLES / "german_credit_pd_endpoint.yaml")
        first, _ = admins(platform)
        platform.identity.add_service_account(first, "loans-app",
                                              scopes=frozenset({"credit-pd"}))
        person(platform, "aude", Role.AUDITOR)
        version = platform.registry.get("german-credit-pd@champion")
        (home / "app.token").write_text(platform.identity.create_token(
            first, "loans-app").plaintext)
        (home / "requests.json").write_text(
            __import__("json").dumps(applications(version, 40, start=0)))
    return home


def requests_of(home: Path) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = __import__("json").loads((home / "requests.json").read_text())
    return loaded


@pytest.fixture
def two_workers(home: Path) -> Iterator[Server]:
    with serving(home, workers=2) as running:
        yield running


def test_every_acknowledged_decision_survives_a_kill(home: Path) -> None:
    """Under load from several clients, SIGKILL the server and its workers: every decision
    a client was told about is in the log, and every logged decision has its batch proof."""
    acknowledged: list[str] = []
    enough, lock = threading.Event(), threading.Lock()
    requests = requests_of(home)
    token = (home / "app.token").read_text()

    def load(server: Server, worker: int) -> None:
        with server.client(token) as client:
            for n in range(10_000):
                try:
                    answer = client.post("/v1/endpoints/credit-pd/decisions",
                                         json=requests[(worker + n) % len(requests)])
                except httpx.TransportError:
                    return  # the server is gone
                if answer.status_code == 200:
                    with lock:
                        acknowledged.append(answer.json()["decision_id"])
                        if len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL:
                            enough.set()

    with serving(home, workers=2) as server, ThreadPoolExecutor(LOAD_THREADS) as pool:
        running = [pool.submit(load, server, worker) for worker in range(LOAD_THREADS)]
        assert enough.wait(120), "the server acknowledged too few decisions"
        kill(server.process)
        [future.result() for future in running]

    with Platform.open(home) as platform:
        with platform.metadata.reading() as tx:
            logged = {tx.decisions.get(decision_id).decision_id for decision_id in acknowledged}
        report = platform.decisions.verify(platform.identity.user("aude"))
    assert logged == set(acknowledged)
    assert report.proof_problems == []


def test_a_retried_key_is_one_decision_across_workers(two_workers: Server, home: Path) -> None:
    """Eight retries of one request with one Idempotency-Key, sent at once to a server with
    two workers, all get the same decision; the log holds one."""
    token = (home / "app.token").read_text()
    request = requests_of(home)[0]

    def send(_: int) -> str:
        with two_workers.client(token) as client:
            answer = client.post("/v1/endpoints/credit-pd/decisions", json=request,
                                 headers={"Idempotency-Key": "loan-application-7731"})
            assert answer.status_code == 200, answer.text
            decision_id: str = answer.json()["decision_id"]
            return decision_id

    with ThreadPoolExecutor(8) as pool:
        answers = set(pool.map(send, range(8)))

    assert len(answers) == 1
    with sqlite3.connect(home / "metadata.db") as database:
        [(count,)] = database.execute("SELECT COUNT(*) FROM decisions WHERE idempotency_key "
                                      "LIKE '%:loan-application-7731'").fetchall()
    assert count == 1


def test_an_unwritable_log_answers_503_and_decides_nothing(two_workers: Server,
                                                           home: Path) -> None:
    """When the store refuses the log's writes, callers get 503 problem+json, and once the
    store writes again, so does the log."""
    token = (home / "app.token").read_text()
    request = requests_of(home)[1]
    with sqlite3.connect(home / "metadata.db") as database:
        before = database.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]
        database.execute("CREATE TRIGGER full_disk BEFORE INSERT ON decisions "
                         "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
    try:
        with two_workers.client(token) as client:
            refused = client.post("/v1/endpoints/credit-pd/decisions", json=request)
    finally:
        with sqlite3.connect(home / "metadata.db") as database:
            database.execute("DROP TRIGGER full_disk")
            after = database.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]
    with two_workers.client(token) as client:
        again = client.post("/v1/endpoints/credit-pd/decisions", json=request)

    assert refused.status_code == 503, refused.text
    assert refused.json()["rule"] == "decision.log_writable"
    assert after == before
    assert again.status_code == 200
