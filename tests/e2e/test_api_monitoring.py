"""Monitoring over HTTP, against a real `bankml serve`: labels in (all or none), the
status the web UI draws, and alerts moved open -> acknowledged -> resolved."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bankml import Platform
from bankml.core.identity import Role
from support.cli import bankml
from support.people import with_tokens
from support.served import tiny_endpoint
from support.server import Server, serving

ENDPOINT = "pd-decisions"
PROBLEM = "application/problem+json"
LATER = (datetime.now(UTC) + timedelta(hours=1)).isoformat()


@dataclass(frozen=True)
class Served:
    home: Path
    server: Server
    tokens: dict[str, str]
    decisions: list[str]

    def client(self, name: str) -> httpx.Client:
        return self.server.client(self.tokens[name])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Three decisions on a tiny endpoint, a window measured, eli (ML engineer) and mira
    (model risk) with tokens."""
    home: Path = tmp_path_factory.mktemp("api-monitoring") / "home"
    with Platform.open(home) as platform:
        tokens = with_tokens(platform, {"eli": (Role.ML_ENGINEER,),
                                        "mira": (Role.MODEL_RISK,)})
        tiny_endpoint(platform, ENDPOINT)
        eli = platform.identity.user("eli")
        records = platform.decisions.decide(eli, ENDPOINT, [
            {"customer_id": f"c-{i}", "x0": x} for i, x in enumerate((-2.0, 0.0, 2.0))])
        platform.monitor.run(platform.identity.user("mira"), endpoint=ENDPOINT,
                             as_of=datetime.now(UTC) + timedelta(days=1))
    with serving(home) as server:
        yield Served(home, server, tokens, [r.decision_id for r in records])


def test_a_bad_label_row_refuses_the_call_and_stores_nothing(served: Served) -> None:
    """One row with outcome 2 is a 422 naming the field and the rule; the good rows sent
    again afterwards are all new, so none of the refused call landed."""
    first, second, _ = served.decisions
    good = {"decision_id": first, "outcome": 1, "observed_at": LATER}
    with served.client("eli") as eli:
        refused = eli.post("/v1/labels", json={"endpoint": ENDPOINT, "labels": [
            good, {"decision_id": second, "outcome": 2, "observed_at": LATER}]})
        stored = eli.post("/v1/labels", json={"endpoint": ENDPOINT, "labels": [good]})
        again = eli.post("/v1/labels", json={"endpoint": ENDPOINT, "labels": [good]})

    assert refused.status_code == 422
    assert refused.headers["content-type"] == PROBLEM
    assert (refused.json()["field"], refused.json()["rule"]) == ("outcome", "labels.file_valid")
    assert "row 2: outcome" in refused.json()["detail"]
    assert stored.status_code == 201
    assert (stored.json()["new"], again.json()["new"], again.json()["duplicates"]) == (1, 0, 1)


def test_the_status_has_each_metric_with_its_windows(served: Served) -> None:
    """The status lists each metric of the measured window with its history, and the
    run's points are readable by the run's id."""
    with served.client("mira") as mira:
        status = mira.get("/v1/monitoring/status", params={"endpoint": ENDPOINT}).json()
        [run] = mira.get("/v1/monitoring/runs", params={"endpoint": ENDPOINT}).json()["runs"]
        shown = mira.get(f"/v1/monitoring/runs/{run['run_id']}").json()

    decisions = next(m for m in status["metrics"] if m["metric"] == "decisions")
    assert (decisions["value"], decisions["status"]) == (3.0, "info")
    assert [w["value"] for w in decisions["history"]] == [3.0]
    assert run["decisions"] == 3
    assert {p["metric"] for p in shown["points"]} == {m["metric"] for m in status["metrics"]}


def test_an_alert_moves_open_acknowledged_resolved_once(served: Served) -> None:
    """Acknowledged then resolved, with who and why; resolving it again is a 409 naming
    the transition rule, and it no longer counts as unresolved."""
    with served.client("mira") as mira, served.client("eli") as eli:
        opened = mira.post("/v1/alerts", json={"model": "pd", "severity": "red",
                                              "title": "score drift"})
        alert_id = opened.json()["alert_id"]
        acknowledged = eli.post(f"/v1/alerts/{alert_id}/acknowledge",
                                json={"comment": "looking"})
        resolved = mira.post(f"/v1/alerts/{alert_id}/resolve", json={"comment": "retrained"})
        twice = mira.post(f"/v1/alerts/{alert_id}/resolve", json={"comment": "again"})
        unresolved = mira.get("/v1/alerts", params={"unresolved": True}).json()["alerts"]
        shown = mira.get(f"/v1/alerts/{alert_id}").json()

    assert opened.status_code == 201
    assert (acknowledged.json()["status"], acknowledged.json()["acknowledged_by"]) == (
        "acknowledged", "eli")
    assert (resolved.json()["status"], resolved.json()["closed_by"],
            resolved.json()["comment"]) == ("resolved", "mira", "retrained")
    assert (twice.status_code, twice.json()["rule"]) == (409, "alert.transition")
    assert alert_id not in {a["alert_id"] for a in unresolved}
    assert shown["deliveries"] == []


def test_a_move_without_a_comment_is_refused_by_field(served: Served) -> None:
    """The comment is required: 422 naming it."""
    with served.client("mira") as mira:
        answered = mira.post("/v1/alerts/1/resolve", json={"comment": ""})

    assert (answered.status_code, answered.json()["field"]) == (422, "comment")


def test_the_cli_lists_acknowledges_and_resolves_with_a_comment(served: Served) -> None:
    """`bankml alerts list|ack|resolve` on the same store: each move names who made it;
    a second resolve exits 1 naming the transition rule."""
    with served.client("mira") as mira:
        alert_id = mira.post("/v1/alerts", json={"model": "pd", "severity": "amber",
                                                 "title": "missing rate up"}).json()["alert_id"]
    home, token = str(served.home), served.tokens["mira"]

    listed = bankml("alerts", "list", "--home", home, token=token)
    acked = bankml("alerts", "ack", str(alert_id), "-m", "on it", "--home", home, token=token)
    resolved = bankml("alerts", "resolve", str(alert_id), "-m", "feed fixed", "--home", home,
                      token=token)
    again = bankml("alerts", "resolve", str(alert_id), "-m", "twice", "--home", home,
                   token=token)

    assert listed.returncode == 0, listed.stderr
    assert "missing rate up" in listed.stdout
    assert "amber" in listed.stdout
    assert f"Alert #{alert_id} acknowledged by mira." in acked.stdout
    assert f"Alert #{alert_id} resolved by mira." in resolved.stdout
    assert again.returncode == 1
    assert "alert.transition" in again.stdout + again.stderr
