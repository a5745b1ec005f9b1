"""`bankml serve` as a real process: two endpoints, an application's token, decisions over
HTTP and through a standard Open Inference Protocol client, replays, and bad requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import triton_to_np_dtype

from bankml import Platform
from bankml.core.identity import Role
from support.people import admins, person
from support.served import EXAMPLES, applications, credit_in_prod, payments
from support.server import Server, serving

FRAUD_SPEC = EXAMPLES / "card_fraud.yaml"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Credit and fraud champions in prod behind their endpoints, and the tokens of an
    application scoped to both, of one scoped to fraud only, and of an auditor."""
    home = tmp_path_factory.mktemp("served") / ".bankml"
    with Platform.open(home) as platform:
        credit_in_prod(platform)
        credit_in_prod(platform, FRAUD_SPEC)
        ops = platform.identity.user("ops")
        for endpoint in ("german_credit_pd_endpoint.yaml", "card_fraud_endpoint.yaml"):
            platform.endpoints.apply(ops, EXAMPLES / endpoint)
        first, _ = admins(platform)
        tokens = {}
        for name, scopes in (("loans-app", {"credit-pd", "card-fraud"}),
                             ("cards-app", {"card-fraud"})):
            platform.identity.add_service_account(first, name, scopes=frozenset(scopes))
            tokens[name] = platform.identity.create_token(first, name).plaintext
        person(platform, "aude", Role.AUDITOR)
        for name in ("aude", "ops"):
            tokens[name] = platform.identity.create_token(first, name).plaintext
    for name, token in tokens.items():
        (home / f"{name}.token").write_text(token)
    return home


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[Server]:
    with serving(home) as running:
        yield running


def token(home: Path, name: str) -> str:
    return (home / f"{name}.token").read_text()


def credit_request(home: Path, start: int = 800) -> dict[str, Any]:
    with Platform.open(home) as platform:
        version = platform.registry.get("german-credit-pd@champion")
    [request] = applications(version, 1, start=start)
    return request


def fraud_requests(home: Path, count: int = 1) -> list[dict[str, Any]]:
    with Platform.open(home) as platform:
        version = platform.registry.get("card-fraud@champion")
    return payments(version, count)


def test_an_application_decides_and_an_auditor_replays_bit_for_bit(
        server: Server, home: Path) -> None:
    """A credit decision over HTTP with a service account's token, replayed identically."""
    with server.client(token(home, "loans-app")) as app, \
            server.client(token(home, "aude")) as auditor:
        answer = app.post("/v1/endpoints/credit-pd/decisions", json=credit_request(home))
        assert answer.status_code == 200, answer.text
        decided = answer.json()
        replay = auditor.post(f"/v1/decisions/{decided['decision_id']}/replay")

    assert decided["decision"] in ("approve", "refer", "decline")
    assert decided["model_version"] == "german-credit-pd@1"
    assert replay.json()["bitwise"] is True, replay.text


def test_the_fraud_endpoint_decides_too(server: Server, home: Path) -> None:
    """One process hosts both endpoints; fraud answers allow, challenge or block."""
    with server.client(token(home, "cards-app")) as app:
        answer = app.post("/v1/endpoints/card-fraud/decisions", json=fraud_requests(home)[0])

    assert answer.status_code == 200, answer.text
    assert answer.json()["decision"] in ("allow", "challenge", "block")


def test_a_standard_inference_client_decides(server: Server, home: Path) -> None:
    """tritonclient's HTTP client, unchanged, infers through /v2: one logged decision per
    row, with the score the /v1 path gives for the same application."""
    rows = fraud_requests(home, 3)
    client = triton.InferenceServerClient(server.url.removeprefix("http://"))
    headers = {"Authorization": f"Bearer {token(home, 'cards-app')}"}
    assert client.is_server_live()
    metadata = client.get_model_metadata("card-fraud", headers=headers)
    inputs = []
    for spec in metadata["inputs"]:
        column = [row[spec["name"]] for row in rows]
        tensor = triton.InferInput(spec["name"], [len(rows)], spec["datatype"])
        tensor.set_data_from_numpy(np.array(column, dtype=triton_to_np_dtype(spec["datatype"])),
                                   binary_data=False)
        inputs.append(tensor)
    outputs = [triton.InferRequestedOutput(name, binary_data=False)
               for name in ("score", "decision")]

    result = client.infer("card-fraud", inputs, outputs=outputs, headers=headers)

    with server.client(token(home, "cards-app")) as app:
        single = app.post("/v1/endpoints/card-fraud/decisions", json=rows[1]).json()
    assert len(result.as_numpy("score")) == 3
    assert result.as_numpy("score")[1] == single["score"]
    assert set(result.as_numpy("decision").astype(str)) <= {"allow", "challenge", "block"}


@pytest.mark.parametrize(("call", "status", "rule"), [
    ("unknown endpoint", 404, "reference.exists"),
    ("missing field", 422, "decision.field_required"),
    ("malformed json", 400, "request.json"),
    ("too large", 413, "request.size"),
    ("too large, streamed", 413, "request.size"),
    ("not an object", 422, "decision.body_object"),
    ("key too long", 422, "decision.idempotency_key"),
    ("no token", 401, "auth.token_valid"),
    ("wrong scope", 403, "auth.scope_grants"),
])
def test_bad_requests_are_problems_and_decide_nothing(server: Server, home: Path, call: str,
                                                      status: int, rule: str) -> None:
    """Each bad request is RFC 9457 problem+json naming its rule (and field where one is at
    fault), is counted in /metrics, and logs no decision."""
    request = credit_request(home)
    with server.client(token(home, "loans-app")) as app, server.client() as anonymous, \
            server.client(token(home, "cards-app")) as cards, \
            server.client(token(home, "ops")) as engineer, \
            server.client(token(home, "aude")) as auditor:
        before = _decisions(auditor)
        answer = {
            "unknown endpoint": lambda: engineer.post("/v1/endpoints/nope/decisions", json={}),
            "missing field": lambda: app.post("/v1/endpoints/credit-pd/decisions",
                                              json={k: v for k, v in request.items()
                                                    if k != "purpose"}),
            "malformed json": lambda: app.post("/v1/endpoints/credit-pd/decisions",
                                               content=b"{not json"),
            "too large": lambda: app.post("/v1/endpoints/credit-pd/decisions",
                                          content=b"{" + b" " * 2_000_000 + b"}"),
            # chunked, so no Content-Length announces it: counted as it arrives
            "too large, streamed": lambda: app.post(
                "/v1/endpoints/credit-pd/decisions",
                content=iter([b"{", b" " * 1_000_000, b" " * 1_000_000, b"}"])),
            "not an object": lambda: app.post("/v1/endpoints/credit-pd/decisions",
                                              json=[request]),
            "key too long": lambda: app.post("/v1/endpoints/credit-pd/decisions",
                                             json=request,
                                             headers={"Idempotency-Key": "k" * 201}),
            "no token": lambda: anonymous.post("/v1/endpoints/credit-pd/decisions",
                                               json=request),
            "wrong scope": lambda: cards.post("/v1/endpoints/credit-pd/decisions",
                                              json=request),
        }[call]()
        metrics = anonymous.get("/metrics").text
        after = _decisions(auditor)

    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert (body["status"], body["rule"]) == (status, rule)
    if call == "missing field":
        assert body["field"] == "purpose"
    if call == "key too long":
        assert body["field"] == "Idempotency-Key"
    if status == 401:
        assert answer.headers["www-authenticate"] == "Bearer"
    assert f'bankml_errors_total{{rule="{rule}",status="{status}"}}' in metrics
    assert after == before


def _decisions(auditor: Any) -> int:
    events = auditor.get("/v1/models")  # the service answers; count via the log below
    assert events.status_code == 200
    return int(_metric(auditor.get("/metrics").text, "bankml_decisions_total"))


def _metric(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name + "{"))


def test_credentials_of_another_scheme_are_refused_and_audited(server: Server,
                                                               home: Path) -> None:
    """`Authorization: Basic ...` is no token: 401 naming the scheme, and an audit event."""
    with server.client() as anonymous, server.client(token(home, "aude")) as auditor:
        before = auditor.get("/v1/audit/events", params={"limit": 1}).json()
        answer = anonymous.post("/v1/endpoints/credit-pd/decisions", json={},
                                headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"})
        after = auditor.get("/v1/audit/events", params={"limit": 5}).json()

    assert answer.status_code == 401
    assert "Bearer" in answer.json()["detail"]
    newer = [(e["action"], e["subject"]) for e in after["events"]
             if e["sequence"] > before["events"][0]["sequence"] and e["actor"] != "aude"]
    assert newer == [("auth.refused", "token:scheme")]
