"""The management API over HTTP, against a real `bankml serve`: the CLI's JSON, problems
for bad input, tokens, cards, aliases, reproduction and endpoint definitions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bankml import Platform
from bankml.core.identity import Role
from support.cli import bankml
from support.people import FIRST_ADMIN, SECOND_ADMIN, with_tokens
from support.server import Server, serving

EXAMPLES = Path(__file__).parents[2] / "examples"
MODEL, REF = "german-credit-pd", "german-credit-pd@1"
VERSION = f"/v1/models/{MODEL}/versions/1"
CAST = {"dana": (Role.DATA_SCIENTIST,), "eli": (Role.ML_ENGINEER,),
        "aude": (Role.AUDITOR,)}
PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Served:
    home: Path
    server: Server
    tokens: dict[str, str]

    def client(self, name: str) -> httpx.Client:
        return self.server.client(self.tokens[name])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """German credit trained by dana (in dev), everyone with a token."""
    home = tmp_path_factory.mktemp("api") / "home"
    with Platform.open(home) as platform:
        tokens = with_tokens(platform, CAST)
        platform.training.train(platform.identity.user("dana"), EXAMPLES / "german_credit_pd.yaml")
    with serving(home) as server:
        yield Served(home, server, tokens)


def test_a_version_is_what_models_show_prints(served: Served) -> None:
    """The API's view of a version is the CLI's, key for key."""
    printed = bankml("models", "show", REF, "--home", str(served.home))
    assert printed.returncode == 0, printed.stderr

    with served.client("dana") as dana:
        answered = dana.get(VERSION)

    assert answered.status_code == 200
    assert answered.json() == json.loads(printed.stdout)


def test_inventory_rows_are_what_the_cli_prints(served: Served) -> None:
    """GET /v1/inventory answers the rows `bankml inventory --format json` prints."""
    printed = bankml("inventory", "--format", "json", "--home", str(served.home),
                     token=served.tokens["aude"])
    assert printed.returncode == 0, printed.stderr

    with served.client("aude") as aude:
        answered = aude.get("/v1/inventory")

    assert answered.json()["models"] == json.loads(printed.stdout)
    assert [row["model"] for row in answered.json()["models"]] == [MODEL]


@pytest.mark.parametrize("path", ["/v1/models/nobody", "/v1/models/nobody/versions",
                                  f"/v1/models/{MODEL}/versions/9",
                                  "/v1/governance/requests/999", "/v1/validation/runs/abc"])
def test_unknown_names_are_not_found(served: Served, path: str) -> None:
    """Whatever is named and does not exist is a 404 problem saying which."""
    with served.client("aude") as aude:
        answered = aude.get(path)

    assert answered.status_code == 404
    assert answered.headers["content-type"] == PROBLEM
    assert answered.json()["rule"] == "reference.exists"


@pytest.mark.parametrize(("body", "field", "rule"), [
    ({"ref": REF, "target": "heaven"}, "target", "input.valid"),
    ({"ref": REF, "target": "staging", "colour": "blue"}, "colour", "input.valid"),
    ({"target": "staging"}, "ref", "input.valid"),
])
def test_invalid_fields_are_named_with_their_rule(served: Served, body: dict[str, str],
                                                  field: str, rule: str) -> None:
    """A body that breaks its schema is a 422 naming the field; nothing is requested."""
    with served.client("dana") as dana:
        answered = dana.post("/v1/governance/requests", json=body)
        requests = dana.get("/v1/governance/requests").json()["requests"]

    assert answered.status_code == 422
    assert (answered.json()["field"], answered.json()["rule"]) == (field, rule)
    assert requests == []


def test_a_service_rule_is_named_too(served: Served) -> None:
    """Rules the service holds come back with their own name and field."""
    with served.client("dana") as dana:
        answered = dana.post("/v1/tokens", json={"days": 400})

    assert answered.status_code == 422
    assert (answered.json()["field"], answered.json()["rule"]) == ("days", "tokens.lifetime")


def test_a_token_is_shown_once_and_works(served: Served) -> None:
    """The created token's plaintext is in the creating answer alone, and it acts."""
    with served.client("dana") as dana:
        created = dana.post("/v1/tokens", json={"days": 1, "description": "laptop"})
        listed = dana.get("/v1/tokens").json()["tokens"]

    assert created.status_code == 201
    plaintext = created.json()["token"]
    [mine] = [t for t in listed if t["token_id"] == created.json()["token_id"]]
    assert "token" not in mine
    assert plaintext not in json.dumps(listed)
    with served.server.client(plaintext) as again:
        assert again.get("/v1/tokens").status_code == 200


def test_a_grant_of_an_approving_role_waits_for_a_second_admin(served: Served) -> None:
    """A validator added by one admin holds no role until another confirms it; the first
    admin cannot confirm their own grant (403, four eyes), and nothing changes by trying."""
    with served.client(FIRST_ADMIN) as first, served.client(SECOND_ADMIN) as second:
        added = first.post("/v1/users", json={"username": "val", "roles": ["validator"],
                                               "display_name": "Val Idator"}).json()
        [pending] = added["pending"]
        refused = first.post(f"/v1/grants/{pending['grant_id']}/confirm")
        still = first.get("/v1/grants", params={"username": "val"}).json()["grants"]
        confirmed = second.post(f"/v1/grants/{pending['grant_id']}/confirm")
        users = {u["username"]: u for u in second.get("/v1/users").json()["users"]}

    assert added["roles"] == []
    assert (refused.status_code, refused.json()["rule"]) == (403, "access.second_admin")
    assert [g["status"] for g in still] == ["pending"]
    assert confirmed.json()["status"] == "effective"
    assert users["val"]["roles"] == ["validator"]


def test_the_model_card_comes_as_markdown_or_html(served: Served) -> None:
    """The card is Markdown unless HTML is asked for; both name the version."""
    with served.client("dana") as dana:
        markdown = dana.get(f"{VERSION}/card")
        page = dana.get(f"{VERSION}/card", params={"format": "html"})
        odd = dana.get(f"{VERSION}/card", params={"format": "pdf"})

    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.text.startswith(f"# Model card: {REF}")
    assert page.headers["content-type"].startswith("text/html")
    assert f"Model card: {REF}" in page.text
    assert (odd.status_code, odd.json()["field"]) == (422, "query.format")


def test_an_alias_is_set_and_removed(served: Served) -> None:
    """An ML engineer points an alias and takes it away; each answer names the previous
    target."""
    with served.client("eli") as eli:
        pointed = eli.put(f"/v1/models/{MODEL}/aliases/challenger",
                          json={"version": 1, "reason": "try it"})
        held = eli.get(f"/v1/models/{MODEL}").json()["aliases"]
        removed = eli.delete(f"/v1/models/{MODEL}/aliases/challenger")
        again = eli.delete(f"/v1/models/{MODEL}/aliases/challenger")

    assert pointed.json()["previous"] is None
    assert held == {"challenger": 1}
    assert removed.json()["previous"] == 1
    assert again.status_code == 404


def test_a_version_reproduces_identically_over_http(served: Served) -> None:
    """Rebuilt from its manifest, the version's artifact is byte for byte the same."""
    with served.client("aude") as aude:
        answered = aude.post(f"{VERSION}/reproduce")

    assert answered.status_code == 200
    assert answered.json()["identical"] is True
    assert answered.json()["rebuilt_sha256"] == answered.json()["artifact_sha256"]


@pytest.mark.parametrize(("definition", "field", "rule"), [
    ("name: credit-pd\nmodel: german-credit-pd\nentity: [customer_id]\n"
     "policy: {kind: approve_refer_decline, approve_below: 0.1, decline_from: 0.5}\n"
     "reasons: {catalogue: /etc/hostname}\n", "reasons.catalogue",
     "endpoint.catalogue_builtin"),
    ("name: credit-pd\nentity: [customer_id]\n", "body", "endpoint.file"),
    ("name: [unclosed\n", "body", "endpoint.file"),
])
def test_a_definition_that_cannot_be_applied_changes_nothing(
        served: Served, definition: str, field: str, rule: str) -> None:
    """A definition naming a file catalogue, missing a field or not YAML at all is a 422
    with its rule; no endpoint appears."""
    with served.client("eli") as eli:
        answered = eli.post("/v1/endpoints", content=definition,
                            headers={"Content-Type": "application/yaml"})
        endpoints = eli.get("/v1/endpoints").json()["endpoints"]

    assert answered.status_code == 422, answered.text
    assert (answered.json()["field"], answered.json()["rule"]) == (field, rule)
    assert endpoints == []


def test_a_weekly_review_written_over_http_is_served_byte_for_byte(served: Served) -> None:
    """POST writes the week's review; GET returns those bytes with their sha256 as ETag;
    a week that is no ISO week is a 422 naming `week` and the rule."""
    with served.client("aude") as aude:
        written = aude.post("/v1/reports/weekly", json={"week": "2026-W49", "format": "pdf"})
        fetched = aude.get(written.json()["href"])
        refused = aude.get("/v1/reports/weekly/2026-W54")

    assert written.status_code == 201, written.text
    assert fetched.content.startswith(b"%PDF")
    assert fetched.headers["etag"] == f'"{written.json()["sha256"]}"'
    assert hashlib.sha256(fetched.content).hexdigest() == written.json()["sha256"]
    assert refused.status_code == 422
    assert (refused.json()["field"], refused.json()["rule"]) == ("week", "week.exists")
