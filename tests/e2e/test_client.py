"""The Python client against a real `bankml serve`: a version validated, approved and
served, decisions made, replayed and overridden, the trail exported; and problems raised
as errors of their kind."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bankml import Platform
from bankml.client import ApiError, BankmlClient
from bankml.core.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from bankml.core.identity import Role
from support.people import with_tokens
from support.server import Server, serving

EXAMPLES = Path(__file__).parents[2] / "examples"
DOC = Path(__file__).parents[2] / "docs" / "api.md"
MODEL, REF, ENDPOINT = "german-credit-pd", "german-credit-pd@1", "credit-pd"
CAST = {"dana": (Role.DATA_SCIENTIST,), "eli": (Role.ML_ENGINEER,), "vera": (Role.VALIDATOR,),
        "mira": (Role.MODEL_RISK,), "bob": (Role.BUSINESS_OWNER,), "aude": (Role.AUDITOR,)}


@dataclass(frozen=True)
class Served:
    server: Server
    tokens: dict[str, str]

    def client(self, name: str) -> BankmlClient:
        return BankmlClient(self.server.url, self.tokens[name])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """German credit trained by dana (a tier-2 model in dev), everyone with a token."""
    home = tmp_path_factory.mktemp("client") / "home"
    with Platform.open(home) as platform:
        tokens = with_tokens(platform, CAST)
        platform.training.train(platform.identity.user("dana"), EXAMPLES / "german_credit_pd.yaml")
    with serving(home) as server:
        yield Served(server, tokens)


@pytest.fixture(scope="module")
def promoted(served: Served) -> dict[str, Any]:
    """The version taken to prod over HTTP: requested, validated, signed off, approved."""
    with served.client("dana") as dana, served.client("vera") as vera, \
            served.client("mira") as mira:
        to_staging = dana.request_transition(REF, "staging", reason="ready for validation")
        run = vera.validate(REF)
        signoff = vera.sign_off(REF, passed=True, summary="fit for use", run_id=run["run_id"])
        staged = dana.request(to_staging["request_id"])
        to_prod = dana.request_transition(REF, "prod", reason="validated")
        approved = mira.approve(to_prod["request_id"], role="model_risk", comment="agreed")
    return {"to_staging": to_staging, "run": run, "signoff": signoff, "staged": staged,
            "to_prod": to_prod, "approved": approved}


@pytest.fixture(scope="module")
def endpoint(served: Served, promoted: dict[str, Any]) -> dict[str, Any]:
    """The champion alias set and the shipped endpoint definition applied, twice."""
    definition = (EXAMPLES / "german_credit_pd_endpoint.yaml").read_text()
    with served.client("eli") as eli:
        eli.set_alias(MODEL, "champion", 1, reason="first in prod")
        return {"applied": eli.apply_endpoint(definition),
                "again": eli.apply_endpoint(definition)}


@pytest.fixture(scope="module")
def applicant(served: Served) -> dict[str, Any]:
    """An application the model's signature accepts: each input's first category or the
    lowest value seen in training."""
    with served.client("dana") as dana:
        inputs = dana.version(MODEL, 1)["signature"]["inputs"]
    return {"customer_id": "c-17",
            **{i["name"]: i["categories"][0] if "categories" in i else i["range"][0]
               for i in inputs}}


def test_a_request_waits_for_its_gates(promoted: dict[str, Any]) -> None:
    """A request to staging stays open while no validation has passed, and says so."""
    request = promoted["to_staging"]

    assert request["status"] == "open"
    failing = {gate["rule"] for gate in request["gates"] if not gate["passed"]}
    assert "gate.validation_passed" in failing


def test_a_sign_off_on_a_run_completes_the_request(promoted: dict[str, Any]) -> None:
    """The validator's sign-off rests on the run, takes its fairness verdict, and the
    waiting request executes."""
    run, signoff = promoted["run"], promoted["signoff"]

    assert run["model"] == REF
    assert run["opinion"]["level"] in (1, 2)
    assert (signoff["run_id"], signoff["fairness_passed"]) == (run["run_id"],
                                                               run["fairness_passed"])
    assert promoted["staged"]["status"] == "executed"


def test_an_approval_takes_the_version_to_prod(served: Served,
                                               promoted: dict[str, Any]) -> None:
    """Model risk's approval is the last gate of a tier-2 move to prod."""
    assert promoted["to_prod"]["status"] == "open"
    assert promoted["approved"]["status"] == "executed"
    with served.client("aude") as aude:
        assert aude.version(MODEL, 1)["stage"] == "prod"
        assert [c["to"] for c in aude.history(MODEL)] == ["dev", "staging", "prod"]


def test_a_validation_run_keeps_its_result(served: Served, promoted: dict[str, Any]) -> None:
    """A run is listed under its version and read back with its stored result and the
    summary the CLI shows of it."""
    run_id = promoted["run"]["run_id"]
    with served.client("aude") as aude:
        listed = aude.runs(MODEL, 1)
        found = aude.run(run_id)

    assert [r["run_id"] for r in listed] == [run_id]
    assert found["stored_result"]["run_id"] == run_id
    assert found["result"]["opinion"] == promoted["run"]["opinion"]
    assert any(t["test"].startswith("fairness.") for t in found["result"]["tests"])


def test_an_unchanged_definition_makes_no_new_version(endpoint: dict[str, Any]) -> None:
    """The first apply makes version 1; the same text again makes none."""
    applied, again = endpoint["applied"], endpoint["again"]

    assert (applied["ref"], applied["created"]) == (f"{ENDPOINT}@1", True)
    assert (again["ref"], again["created"], again["digest"]) == (
        applied["ref"], False, applied["digest"])


def test_a_retry_returns_the_same_decision(served: Served, endpoint: dict[str, Any],
                                           applicant: dict[str, Any]) -> None:
    """The same Idempotency-Key answers the decision made under it, not a second one."""
    with served.client("eli") as eli:
        first = eli.decide(ENDPOINT, applicant, idempotency_key="application-17")
        retried = eli.decide(ENDPOINT, applicant, idempotency_key="application-17")
        fresh = eli.decide(ENDPOINT, applicant)

    assert retried == first
    assert fresh["decision_id"] != first["decision_id"]
    assert first["model_version"] == REF
    assert first["decision"] in ("approve", "refer", "decline")


def test_a_batch_decides_each_application(served: Served, endpoint: dict[str, Any],
                                          applicant: dict[str, Any]) -> None:
    """One decision per application, in order, each with its own id."""
    others = [{**applicant, "customer_id": f"c-{n}"} for n in range(3)]
    with served.client("eli") as eli:
        decided = eli.decide_batch(ENDPOINT, others)

    assert len({d["decision_id"] for d in decided}) == 3
    assert all(d["endpoint"] == ENDPOINT for d in decided)


def test_a_decision_replays_and_keeps_its_override(served: Served, endpoint: dict[str, Any],
                                                   applicant: dict[str, Any]) -> None:
    """Replayed from its record it is identical; a business owner's override is kept beside
    it, never in its place."""
    with served.client("eli") as eli, served.client("aude") as aude, \
            served.client("bob") as bob:
        made = eli.decide(ENDPOINT, applicant)
        replayed = aude.replay(made["decision_id"])
        other = next(o for o in ("approve", "refer", "decline") if o != made["decision"])
        bob.override(made["decision_id"], outcome=other, reason_code="MANUAL-REVIEW",
                     comment="income verified by phone")
        record = aude.decision(made["decision_id"])

    assert replayed["identical"] is True
    assert record["decision"] == made["decision"]
    assert [o["decision"] for o in record["overrides"]] == [other]
    assert record["inputs"]["duration_months"] == applicant["duration_months"]


def test_problems_are_errors_of_their_kind(served: Served, endpoint: dict[str, Any],
                                           applicant: dict[str, Any]) -> None:
    """403, 404 and 422 arrive as PermissionDeniedError, NotFoundError and
    InvalidInputError, each with its status, rule and field."""
    with served.client("dana") as dana, served.client("eli") as eli:
        with pytest.raises(PermissionDeniedError, match="may not decision.make") as denied:
            dana.decide(ENDPOINT, applicant)
        with pytest.raises(NotFoundError, match="'nobody'") as unknown:
            dana.model("nobody")
        with pytest.raises(InvalidInputError, match="colour") as invalid:
            eli.decide(ENDPOINT, {**applicant, "colour": "blue"})

    raised = [denied.value, unknown.value, invalid.value]
    assert [(e.status, e.rule, e.field) for e in raised if isinstance(e, ApiError)] == [
        (403, "auth.role_grants", None), (404, "reference.exists", None),
        (422, "decision.field_known", "colour")]


def test_the_exported_trail_verifies_on_its_own(served: Served,
                                                endpoint: dict[str, Any]) -> None:
    """Each exported event hashes, with the line before it, to its own hash; the export
    is itself on the record."""
    with served.client("aude") as aude:
        header, *lines = [json.loads(line) for line in aude.export_audit()]
        recent = aude.audit_events(subject="audit:trail", limit=1)
        hers = aude.audit_events(action="audit.", actor="aude", limit=1000)

    previous = "0" * 64
    for event in lines:
        assert event["prev_hash"] == previous
        computed = hashlib.sha256((previous + event["hashed_text"]).encode()).hexdigest()
        assert computed == event["hash"], event["sequence"]
        previous = event["hash"]
    assert header["head_sequence"] == lines[-1]["sequence"]
    assert [e["action"] for e in recent] == ["audit.exported"]
    assert "audit.exported" in [e["action"] for e in hers]
    assert {(e["actor"], e["action"].split(".")[0]) for e in hers} == {("aude", "audit")}


def test_the_api_doc_example_runs(served: Served, endpoint: dict[str, Any],
                                  tmp_path: Path) -> None:
    """docs/api.md's client example runs as written against a server (its address
    replaced): an ML engineer decides, retries, replays, and may not override."""
    [block] = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    code = block.replace("http://127.0.0.1:8080", served.server.url)

    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, check=False,
                            env={**os.environ, "BANKML_TOKEN": served.tokens["eli"]})

    assert result.returncode == 0, result.stderr
    decided, refused = result.stdout.splitlines()
    assert decided.split()[1:] == ["identical"]
    assert refused == "403 auth.role_grants"
