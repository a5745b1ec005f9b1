"""The web UI over HTTP against a real `bankml serve`: sign-in and sessions, CSRF, what each
role is offered and what the server refuses anyway, and every page on a platform with real
data."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from bankml import Platform
from bankml.core.audit import AuditEvent
from bankml.core.identity import Role
from bankml.core.oversight import RequestStatus
from bankml.core.registry import Stage
from bankml.monitoring.rag import model_rags
from support.people import staff
from support.server import Server, serving
from support.trail import audit_events
from support.ui import World, shared_world

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return shared_world(tmp_path_factory, "ui")


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[Server]:
    """One server for the module; tokens are read again on every request (no cache), so
    a revocation counts at once."""
    with serving(world.home, env={"BANKML_SERVE_TOKEN_CACHE_S": "0"}) as running:
        yield running


@pytest.fixture
def app_client(server: Server) -> Iterator[httpx.Client]:
    """A browser of its own: its own cookies, no redirect followed."""
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def monitoring_page(server: Server, world: World) -> str:
    """The monitoring page as the business owner reads it, before any alert is moved:
    one render (its charts take seconds) for the tests that only read it."""
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=60) as client:
        answer = signed_in(client, world, "bob").get("/ui/monitoring")
    assert answer.status_code == 200, answer.text
    return answer.text


def sign_in(client: httpx.Client, token: str) -> None:
    form = client.get("/ui/signin")
    answer = client.post("/ui/signin", data={"csrf": _csrf(form.text), "token": token,
                                            "next": "/ui/models"})
    assert answer.status_code == 303, answer.text


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "the page has no CSRF token"
    return found.group(1)


def _actions(platform: Platform, action: str) -> list[AuditEvent]:
    return [event for event in audit_events(platform) if event.action == action]


def signed_in(client: httpx.Client, world: World, name: str) -> httpx.Client:
    sign_in(client, world.tokens[name])
    return client


# -- sessions ------------------------------------------------------------------------------


def test_a_page_without_a_session_sends_to_sign_in(app_client: httpx.Client) -> None:
    """A page asked for without a session redirects to the sign-in form, keeping the way
    back."""
    answer = app_client.get("/ui/approvals")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/signin?next=%2Fui%2Fapprovals"


def test_signing_in_sets_a_sealed_strict_cookie(app_client: httpx.Client, world: World) -> None:
    """A good token gives an HttpOnly, SameSite=Strict session cookie that holds no token
    in clear, and the page it was asked for."""
    form = app_client.get("/ui/signin?next=%2Fui%2Fapprovals")
    answer = app_client.post("/ui/signin", data={"csrf": _csrf(form.text),
                                                "token": world.tokens["mira"],
                                                "next": "/ui/approvals"})

    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/approvals"
    cookie = next(c for c in answer.headers.get_list("set-cookie")
                  if c.startswith("bankml_session="))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/ui"} <= flags
    assert "secure" not in flags  # plain http here; https adds it
    assert any(flag.startswith("max-age=") for flag in flags)
    assert world.tokens["mira"] not in cookie
    assert world.tokens["mira"].split("_")[1] not in cookie


def test_the_cookie_is_secure_over_https(app_client: httpx.Client, world: World) -> None:
    """Served over https (here: behind a TLS proxy on loopback, which says so in
    X-Forwarded-Proto), the session cookie is marked Secure."""
    https = {"X-Forwarded-Proto": "https"}
    form = app_client.get("/ui/signin", headers=https)
    # the client speaks plain http to the proxy's side, so it holds the Secure cookie back
    sealed = form.cookies["bankml_signin"]
    answer = app_client.post("/ui/signin", headers={**https,
                                                   "Cookie": f"bankml_signin={sealed}"},
                             data={"csrf": _csrf(form.text), "token": world.tokens["mira"]})

    cookie = next(c for c in answer.headers.get_list("set-cookie")
                  if c.startswith("bankml_session="))
    assert "secure" in {part.strip().lower() for part in cookie.split(";")}


def test_a_wrong_token_is_refused_clearly_and_audited(app_client: httpx.Client,
                                                      world: World) -> None:
    """A token that is not known is refused on the form with the reason, no session is
    made, and the trail records the refusal as it does for the API."""
    wrong = "bml_0123456789abcdef_" + "x" * 43
    with Platform.open(world.home) as platform:
        before = len(_actions(platform, "auth.refused"))
    form = app_client.get("/ui/signin")
    answer = app_client.post("/ui/signin", data={"csrf": _csrf(form.text), "token": wrong})

    assert answer.status_code == 401
    assert "Sign-in refused: The token is not known." in answer.text
    assert not any(c.startswith("bankml_session=")
                   for c in answer.headers.get_list("set-cookie"))
    with Platform.open(world.home) as platform:
        refused = _actions(platform, "auth.refused")
    assert len(refused) == before + 1
    assert refused[-1].subject == "token:0123456789abcdef"


def test_signing_out_ends_the_session(app_client: httpx.Client, world: World) -> None:
    """Sign-out removes the cookie; the next page asks to sign in again."""
    client = signed_in(app_client, world, "aude")
    page = client.get("/ui/models")
    answer = client.post("/ui/signout", data={"csrf": _csrf(page.text)})

    assert answer.status_code == 303
    assert 'bankml_session=""' in answer.headers["set-cookie"]
    assert client.get("/ui/models").status_code == 303


def test_an_altered_cookie_is_no_session(app_client: httpx.Client, world: World) -> None:
    """A session cookie changed by one character is not accepted."""
    client = signed_in(app_client, world, "aude")
    value = client.cookies["bankml_session"]
    client.cookies.set("bankml_session", value[:-2] + ("A" if value[-2] != "A" else "B")
                       + value[-1], path="/ui")

    assert client.get("/ui/models").status_code == 303


def test_a_revoked_token_ends_its_session(app_client: httpx.Client, world: World) -> None:
    """Revoking the token a session was made with ends the session at once (this server
    keeps no token cache)."""
    with Platform.open(world.home) as platform:
        first = platform.identity.user("ada")
        token = platform.identity.create_token(first, "aude", days=1)
    sign_in(app_client, token.plaintext)
    assert app_client.get("/ui/models").status_code == 200
    with Platform.open(world.home) as platform:
        platform.identity.revoke_token(platform.identity.user("ada"), token.token.token_id)

    answer = app_client.get("/ui/models")

    assert answer.status_code == 303
    assert answer.headers["location"].endswith("&ended=1")


# -- CSRF ----------------------------------------------------------------------------------


def test_a_form_without_the_csrf_token_is_refused(app_client: httpx.Client,
                                                  world: World) -> None:
    """An approval posted without the session's CSRF token (a forged form) is refused with
    403 before any service is called: the request stays open."""
    client = signed_in(app_client, world, "mira")

    answer = client.post(f"/ui/approvals/{world.to_forge}/approve",
                         data={"role": "model_risk", "comment": "forged"})

    assert answer.status_code == 403
    assert "ui.csrf_token" in answer.text
    with Platform.open(world.home) as platform:
        request = platform.oversight.request(platform.identity.user("mira"), world.to_forge)
    assert request.status == RequestStatus.OPEN
    assert not request.approvals


def test_a_form_with_another_sessions_token_is_refused(server: Server, world: World) -> None:
    """The CSRF token of one session does not pass in another."""
    with httpx.Client(base_url=server.url, follow_redirects=False) as one, \
            httpx.Client(base_url=server.url, follow_redirects=False) as other:
        stolen = _csrf(signed_in(one, world, "aude").get("/ui/models").text)
        signed_in(other, world, "mira")

        answer = other.post(f"/ui/approvals/{world.to_forge}/approve",
                            data={"csrf": stolen, "role": "model_risk"})

    assert answer.status_code == 403


def test_the_sign_in_form_needs_its_csrf_token(app_client: httpx.Client, world: World) -> None:
    """Signing in without the form's CSRF token is refused (no login CSRF)."""
    answer = app_client.post("/ui/signin", data={"token": world.tokens["mira"]})

    assert answer.status_code == 403
    assert not any(c.startswith("bankml_session=")
                   for c in answer.headers.get_list("set-cookie"))


def test_signing_in_never_goes_back_off_the_ui(app_client: httpx.Client, world: World) -> None:
    """A `next` that leaves the UI is replaced by the inventory (no open redirect)."""
    form = app_client.get("/ui/signin")
    answer = app_client.post("/ui/signin", data={"csrf": _csrf(form.text),
                                                "token": world.tokens["mira"],
                                                "next": "//evil.example/ui/"})

    assert answer.headers["location"] == "/ui/models"


# -- roles ---------------------------------------------------------------------------------


def test_a_data_scientist_is_offered_no_approval(app_client: httpx.Client,
                                                 world: World) -> None:
    """The inbox shows a data scientist the requests and their gates, but no approve or
    reject button."""
    page = signed_in(app_client, world, "dana").get("/ui/approvals")

    assert page.status_code == 200
    assert f"Request {world.to_forge}:" in page.text
    assert "gate.approval.model_risk" in page.text
    assert "/approve" not in page.text
    assert "/reject" not in page.text


def test_a_data_scientist_posting_the_approve_form_gets_403(app_client: httpx.Client,
                                                            world: World) -> None:
    """The approve form posted anyway by a data scientist, with a valid CSRF token, is
    refused by the oversight service: 403, the rule shown, audited, request still open."""
    client = signed_in(app_client, world, "dana")
    csrf = _csrf(client.get("/ui/approvals").text)

    answer = client.post(f"/ui/approvals/{world.to_forge}/approve",
                         data={"csrf": csrf, "role": "model_risk", "comment": "me too"})

    assert answer.status_code == 403
    assert "auth.role_grants" in answer.text
    with Platform.open(world.home) as platform:
        request = platform.oversight.request(platform.identity.user("mira"), world.to_forge)
        forbidden = _actions(platform, "auth.forbidden")
    assert request.status == RequestStatus.OPEN
    assert not request.approvals
    assert forbidden[-1].actor == "dana"


def test_a_model_risk_officer_approves_a_request(app_client: httpx.Client,
                                                 world: World) -> None:
    """Mira approves as model_risk: the last gate holds, the version moves to prod."""
    client = signed_in(app_client, world, "mira")
    page = client.get("/ui/approvals")
    assert f'action="/ui/approvals/{world.to_approve}/approve"' in page.text

    answer = client.post(f"/ui/approvals/{world.to_approve}/approve",
                         data={"csrf": _csrf(page.text), "role": "model_risk",
                               "comment": "agreed"})

    assert answer.status_code == 303
    assert client.get(answer.headers["location"]).text.count(
        f"Request {world.to_approve} approved.") == 1
    with Platform.open(world.home) as platform:
        assert platform.registry.get("tiny-approve@1").stage == Stage.PROD


def test_four_eyes_refusals_show_their_rule(app_client: httpx.Client, world: World) -> None:
    """Approving one's own request is refused on the inbox with the four-eyes rule."""
    client = signed_in(app_client, world, "dual")
    csrf = _csrf(client.get("/ui/approvals").text)

    answer = client.post(f"/ui/approvals/{world.own_request}/approve",
                         data={"csrf": csrf, "role": "model_risk"})

    assert answer.status_code == 403
    assert re.search(r"Rule: <code>four_eyes\.not_(requester|developer)</code>", answer.text)


def test_rejecting_needs_a_comment(app_client: httpx.Client, world: World) -> None:
    """A rejection without a comment is refused with the field's rule; the request stays
    open."""
    client = signed_in(app_client, world, "mira")
    csrf = _csrf(client.get("/ui/approvals").text)

    answer = client.post(f"/ui/approvals/{world.to_forge}/reject",
                         data={"csrf": csrf, "role": "model_risk", "comment": ""})

    assert answer.status_code == 422
    assert "Rule: <code>governance.rejection_reason</code>" in answer.text
    with Platform.open(world.home) as platform:
        request = platform.oversight.request(platform.identity.user("mira"), world.to_forge)
    assert request.status == RequestStatus.OPEN


def test_the_audit_trail_is_not_offered_without_the_role(app_client: httpx.Client,
                                                         world: World) -> None:
    """A data scientist sees no audit link, and the page itself answers 403."""
    client = signed_in(app_client, world, "dana")

    assert 'href="/ui/audit"' not in client.get("/ui/models").text
    assert client.get("/ui/audit").status_code == 403


# -- pages ---------------------------------------------------------------------------------


def test_the_inventory_lists_every_model(app_client: httpx.Client, world: World) -> None:
    """Every model is a row with its domain, tier, status and production version."""
    page = signed_in(app_client, world, "aude").get("/ui/models")

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    for name in (world.credit, "tiny-forged", "tiny-own"):
        assert f'href="/ui/models/{name}"' in page.text
    assert f"{world.credit}@1" in page.text


def test_the_inventory_filters_searches_and_sorts(app_client: httpx.Client,
                                                  world: World) -> None:
    """Search, the status filter and the sort order narrow and order the rows."""
    client = signed_in(app_client, world, "aude")

    searched = client.get("/ui/models", params={"q": "TINY-F"}).text
    staging = client.get("/ui/models", params={"stage": "staging"}).text
    ordered = client.get("/ui/models", params={"sort": "model", "descending": "true"}).text

    assert "tiny-forged" in searched
    assert world.credit not in searched
    assert world.credit not in staging
    assert "tiny-own" in staging
    assert ordered.index("tiny-own") < ordered.index(world.credit)


def test_the_model_page_shows_versions_lineage_runs_and_history(app_client: httpx.Client,
                                                                world: World) -> None:
    """The model page shows its version, lineage digests, metrics, the validation run with
    a link to its report, the lifecycle and the audit history."""
    client = signed_in(app_client, world, "mira")
    with Platform.open(world.home) as platform:
        version = platform.registry.get(f"{world.credit}@1")

    page = client.get(f"/ui/models/{world.credit}").text

    assert version.dataset_sha256 in page
    assert f'href="/ui/runs/{world.run_id}/report"' in page
    assert "Lifecycle history" in page
    assert "staging" in page
    assert "model.registered" in page or "model.version_registered" in page
    for metric in version.metrics:
        assert metric in page


def test_the_model_page_shows_its_requests_on_the_audit_history(app_client: httpx.Client,
                                                                 world: World) -> None:
    """The audit history of a model includes its transition requests' events, and is
    not shown to a role that may not read the trail."""
    page = signed_in(app_client, world, "mira").get("/ui/models/tiny-forged").text
    with httpx.Client(base_url=app_client.base_url, follow_redirects=False) as other:
        hidden = signed_in(other, world, "dana").get("/ui/models/tiny-forged").text

    assert f"<code>request:{world.to_forge}</code>" in page
    assert "transition.requested" in page
    assert "transition.requested" not in hidden
    assert "Reading the audit trail needs" in hidden


def test_the_validation_report_and_card_open(app_client: httpx.Client, world: World) -> None:
    """A run's report is the validation report, with its inline SVG charts; the card opens
    as HTML."""
    client = signed_in(app_client, world, "dana")

    report = client.get(f"/ui/runs/{world.run_id}/report")
    card = client.get(f"/ui/models/{world.credit}/versions/1/card")

    assert report.status_code == 200
    assert "Validation report" in report.text
    assert "<svg" in report.text
    assert card.status_code == 200
    assert f"Model card: {world.credit}@1" in card.text


def test_a_decision_shows_its_reasons_as_a_waterfall(app_client: httpx.Client,
                                                     world: World) -> None:
    """The lookup finds a decision by id; its page shows the score, decision, reason codes
    as an inline SVG and the inputs."""
    client = signed_in(app_client, world, "aude")

    found = client.get("/ui/decisions", params={"decision_id": world.decision_id})
    page = client.get(found.headers["location"])

    assert found.status_code == 303
    assert page.status_code == 200
    assert "<strong>decline</strong>" in page.text
    assert "<svg" in page.text
    assert "Reason codes: contribution" in page.text
    assert "duration_months" in page.text


def test_replaying_a_decision_shows_the_verdict(app_client: httpx.Client, world: World) -> None:
    """The replay button scores the decision again and shows that it is identical."""
    client = signed_in(app_client, world, "aude")
    page = client.get(f"/ui/decisions/{world.decision_id}")

    answer = client.post(f"/ui/decisions/{world.decision_id}/replay",
                         data={"csrf": _csrf(page.text)})

    assert answer.status_code == 200
    assert "Replay: identical" in answer.text


def test_decisions_are_not_shown_to_a_data_scientist(app_client: httpx.Client,
                                                     world: World) -> None:
    """Decision records are personal data: a data scientist gets 403."""
    client = signed_in(app_client, world, "dana")

    assert client.get(f"/ui/decisions/{world.decision_id}").status_code == 403


def test_the_audit_trail_filters_and_verifies(app_client: httpx.Client, world: World) -> None:
    """The trail narrows to a subject, and the chain verifies as intact."""
    client = signed_in(app_client, world, "aude")

    filtered = client.get("/ui/audit", params={"subject": f"model:{world.credit}@1"}).text
    verified = client.get("/ui/audit/verify").text

    subjects = re.findall(r"<td><code>(model:[^<]+|request:[^<]+|user:[^<]+)</code></td>",
                          filtered)
    assert subjects
    assert set(subjects) == {f"model:{world.credit}@1"}
    assert "Chain intact" in verified


def test_a_bad_date_filter_is_named(app_client: httpx.Client, world: World) -> None:
    """A filter that is not a date is refused naming the field."""
    client = signed_in(app_client, world, "aude")

    answer = client.get("/ui/audit", params={"since": "last week"})

    assert answer.status_code == 422
    assert "since" in answer.text


def test_the_auditor_exports_the_trail(app_client: httpx.Client, world: World) -> None:
    """The export button downloads the JSON lines the API streams, and is audited."""
    client = signed_in(app_client, world, "aude")
    csrf = _csrf(client.get("/ui/audit").text)

    answer = client.post("/ui/audit/export", data={"csrf": csrf, "since": "", "until": ""})

    assert answer.status_code == 200
    assert "attachment" in answer.headers["content-disposition"]
    lines = answer.text.splitlines()
    assert len(lines) > 10
    assert '"hashed_text"' in lines[1]


def test_a_path_that_is_no_page_is_a_404_page(app_client: httpx.Client) -> None:
    """Under /ui, an unknown path answers an HTML page naming it; the stylesheet is
    still served."""
    answer = app_client.get("/ui/nothing-here")

    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "/ui/nothing-here" in answer.text
    assert app_client.get("/ui/static/ui.css").status_code == 200


# -- deployments ---------------------------------------------------------------------------


def _rollout_status(world: World) -> str:
    with Platform.open(world.home) as platform:
        rollout = platform.rollouts.status(platform.identity.user("aude"), world.endpoint)
    return str(rollout.rollout.status)


def test_the_deployments_page_shows_the_canary_and_its_guardrails(app_client: httpx.Client,
                                                                  world: World) -> None:
    """Champion, challenger, the canary's split and step, each guardrail drawn against its
    threshold; an auditor is offered no operation."""
    page = signed_in(app_client, world, "aude").get("/ui/deployments").text

    assert f"{world.credit}@1</a>" in page
    assert f"<dt>Challenger</dt><dd>{world.credit}@2</dd>" in page
    assert "challenger answers 50 % (canary)" in page
    assert "1 of 1: canary 50 %" in page
    assert page.count("<svg") == 4  # error rate, p99 latency, score PSI, decision rate
    assert "p99 latency ms: at most 60000" in page
    assert f"/ui/deployments/{world.endpoint}/" not in page


def test_an_ml_engineer_pauses_and_resumes_the_rollout(app_client: httpx.Client,
                                                       world: World) -> None:
    """The pause and resume forms go through the rollout service: the state changes, the
    page says so, and each change is audited with its comment."""
    client = signed_in(app_client, world, "ops")
    csrf = _csrf(client.get("/ui/approvals").text)  # the session's, on a page quick to draw

    paused = client.post(f"/ui/deployments/{world.endpoint}/pause",
                         data={"csrf": csrf, "comment": "holding for the review"})
    status_when_paused = _rollout_status(world)
    resumed = client.post(f"/ui/deployments/{world.endpoint}/resume",
                          data={"csrf": csrf, "comment": "reviewed"})

    assert paused.status_code == 303
    assert status_when_paused == "paused"
    assert resumed.status_code == 303
    assert _rollout_status(world) == "running"
    shown = client.get(resumed.headers["location"]).text
    assert f"The rollout on {world.endpoint} was resumed." in shown
    with Platform.open(world.home) as platform:
        [pause] = _actions(platform, "rollout.paused")[-1:]
    assert (pause.actor, pause.payload["comment"]) == ("ops", "holding for the review")


def test_a_data_scientist_posting_the_rollback_form_gets_403(app_client: httpx.Client,
                                                             world: World) -> None:
    """No rollout form is offered to a data scientist, and the one posted anyway with her
    CSRF token is refused by the rollout service: 403, the rule shown, nothing changed."""
    client = signed_in(app_client, world, "dana")
    page = client.get("/ui/deployments").text

    answer = client.post(f"/ui/deployments/{world.endpoint}/rollback",
                         data={"csrf": _csrf(page), "comment": "me"})

    assert "Roll back the rollout" not in page
    assert answer.status_code == 403
    assert "auth.role_grants" in answer.text
    assert _rollout_status(world) == "running"


def test_a_forged_rollback_form_is_refused(app_client: httpx.Client, world: World) -> None:
    """A rollback posted from an ML engineer's session without the CSRF token is refused
    before the service is called: 403, the rollout still running, the refusal audited
    with whose session sent it."""
    client = signed_in(app_client, world, "ops")

    answer = client.post(f"/ui/deployments/{world.endpoint}/rollback",
                         data={"comment": "forged"})

    assert answer.status_code == 403
    assert "ui.csrf_token" in answer.text
    assert _rollout_status(world) == "running"
    with Platform.open(world.home) as platform:
        refused = [e for e in _actions(platform, "auth.refused") if e.subject == "ui:csrf"]
    assert refused[-1].payload["session_of"] == "ops"
    assert refused[-1].payload["path"] == f"/ui/deployments/{world.endpoint}/rollback"


# -- monitoring ----------------------------------------------------------------------------


def test_the_monitoring_page_shows_series_against_bands(monitoring_page: str,
                                                        world: World) -> None:
    """Per route: the score distribution, KPIs and PSI of every input over the windows,
    with the policy's bands; the open alerts."""
    page = monitoring_page

    assert f"{world.credit}@1, route champion <span class=\"help\">2 windows" in page
    assert f"{world.credit}@2, route canary" in page
    assert "score.psi: latest" in page
    assert "green ≤ 0.1, amber ≤ 0.25, red beyond" in page
    assert "<th scope=\"row\">duration_months</th>" in page
    assert f'<tr id="alert-{world.alert}">' in page
    assert "/acknowledge" not in page  # a business owner does not manage alerts


def test_the_monitoring_page_shows_the_auc_and_gini_the_store_keeps(
        monitoring_page: str, world: World) -> None:
    """Each route's AUC per window on matured labels, and its Gini (2 AUC - 1), are the
    monitoring store's performance.auc points."""
    page = monitoring_page
    with Platform.open(world.home) as platform:
        stored = [t for t in platform.monitor.status(platform.identity.user("bob"),
                                                     world.endpoint)
                  if t.latest.metric == "performance.auc"]

    assert {t.latest.route for t in stored} == {"champion", "canary"}
    for trend in stored:
        arm = _arm(page, trend.latest.model, trend.latest.route)
        aucs = [w.value for w in trend.history]
        assert None not in aucs
        assert _row(arm, "AUC") == [f"{auc:.4f}" for auc in aucs]
        assert _row(arm, "Gini") == [f"{2 * auc - 1:.4f}" for auc in aucs]


def test_the_monitoring_page_shows_the_latest_windows_score_histogram(
        monitoring_page: str, world: World) -> None:
    """Per route, the latest window's share of decisions per score bin of 0.1 beside the
    development sample's: an image with a title and description, and the same shares in a
    table, counted from the decision log's scores and the development sample; each route's
    n is the decisions the run stored."""
    page = monitoring_page
    with Platform.open(world.home) as platform:
        bob = platform.identity.user("bob")
        latest = platform.monitor.runs(bob, world.endpoint)[-1]
        stored = {(p.model, p.route): int(p.value or 0)
                  for p in platform.monitor.points(bob, latest.run_id)
                  if p.metric == "decisions"}
        scores: dict[tuple[str, str], list[float]] = {}
        with platform.metadata.reading() as tx:
            for chunk in tx.decisions.monitored(world.endpoint, latest.window_start,
                                                latest.window_end, requests=False):
                for row in chunk:
                    scores.setdefault((f"{row[2]}@{row[3]}", row[4]), []).append(row[5])
        developed = {model: platform.validation.development_sample(model)[1]
                     for model, _ in scores}

    assert {key: len(found) for key, found in scores.items()} == stored
    for (model, route), found in scores.items():
        arm = _arm(page, model, route)
        assert (f'role="img"><title>Score distribution of {model}, route {route}</title>'
                "<desc>Share of decisions per score bin of 0.1") in arm
        assert f"in the latest window, {latest.window_start[:16]} to " \
               f"{latest.window_end[:16]} (n {len(found)})" in arm
        assert _row(arm, "window") == _shares(found)
        assert _row(arm, "development sample") == _shares(developed[model])


def _arm(page: str, model: str, route: str) -> str:
    """The part of the monitoring page about one model version and route."""
    start = page.index(f"<h3>{model}, route {route} ")
    end = page.find("<h3>", start + 1)
    return page[start:end if end > 0 else len(page)]


def _row(html: str, header: str) -> list[str]:
    found = re.search(rf'<th scope="row">{header}</th>(.*?)</tr>', html, re.DOTALL)
    assert found is not None, f"no row {header}"
    return re.findall(r'<td class="num">([^<]+)</td>', found.group(1))


def _shares(scores: object) -> list[str]:
    counted, _ = np.histogram(np.clip(np.asarray(scores, dtype=float), 0, 1),
                              bins=np.linspace(0, 1, 11))
    return [f"{c / counted.sum():.3f}" for c in counted]


def test_alerts_are_acknowledged_and_resolved_from_the_page(app_client: httpx.Client,
                                                            world: World) -> None:
    """Through the alerts service: a move without a comment is refused with its rule; with
    one, the alert is acknowledged, then resolved, each audited."""
    client = signed_in(app_client, world, "mira")
    csrf = _csrf(client.get("/ui/approvals").text)  # the session's, on a page quick to draw
    target = f"/ui/alerts/{world.alert}"

    bare = client.post(f"{target}/acknowledge", data={"csrf": csrf, "comment": " "})
    acknowledged = client.post(f"{target}/acknowledge", data={"csrf": csrf, "comment": "seen"})
    resolved = client.post(f"{target}/resolve", data={"csrf": csrf, "comment": "plan fixed"})

    assert bare.status_code == 422
    assert "alert.comment_given" in bare.text
    assert (acknowledged.status_code, resolved.status_code) == (303, 303)
    with Platform.open(world.home) as platform:
        alert, _ = platform.alerts.alert(platform.identity.user("mira"), world.alert)
        moves = [e.action for e in audit_events(platform) if e.subject == f"alert:{world.alert}"]
    assert (alert.status, alert.closed_by, alert.comment) == ("resolved", "mira", "plan fixed")
    assert moves[-2:] == ["alert.acknowledged", "alert.resolved"]


# -- RAG, evidence, customers, audit filters -----------------------------------------------


def test_the_inventory_shows_each_models_rag(app_client: httpx.Client, world: World) -> None:
    """The monitored credit model shows the RAG status and reason the monitoring service
    gives it (the rule is tested in tests/unit/core/test_rag.py); models never monitored
    say so; sorting by RAG puts the monitored one first, and filtering keeps the status
    asked for."""
    page = signed_in(app_client, world, "bob").get("/ui/models", params={"sort": "rag"}).text
    with Platform.open(world.home) as platform:
        expected = model_rags(platform.identity.user("bob"), platform.monitor,
                              platform.alerts, [world.credit])[world.credit]

    rags = re.findall(r'<span class="rag rag-(\w+)" title="([^"]*)">', page)
    assert expected.status is not None
    assert rags[0] == (expected.status, expected.reason.replace("'", "&#39;"))
    assert {status for status, _ in rags[1:]} == {"none"}
    assert page.index(world.credit) < page.index("tiny-approve")
    unmonitored = app_client.get("/ui/models", params={"rag": "none"}).text
    assert f'href="/ui/models/{world.credit}"' not in unmonitored
    assert 'href="/ui/models/tiny-approve"' in unmonitored


def test_the_model_page_shows_fairness_and_shap_importance(app_client: httpx.Client,
                                                           world: World) -> None:
    """The latest run's fairness tables and global SHAP importance, as the stored result
    holds them."""
    page = signed_in(app_client, world, "bob").get(f"/ui/models/{world.credit}").text
    with Platform.open(world.home) as platform:
        result = platform.validation.result(platform.validation.get(world.run_id))
    details = result.out_of_time
    top = details.charts["explanations"]["importance"][0]
    table = next(t for t in details.fairness if " & " not in t.attribute)
    group = table.groups[0]

    assert "Global SHAP importance" in page
    assert (f'<th scope="row">{top["feature"]}</th><td class="num">'
            f'{top["mean_abs_contribution"]:.4f}</td>') in page
    assert f"<caption>{table.attribute}: reference {table.reference}" in page
    assert f"{group.selection_rate:.3f}" in page


def test_a_customers_decisions_are_found_by_their_id(app_client: httpx.Client,
                                                     world: World) -> None:
    """The id posted in clear is pseudonymised by the service; the page lists the
    customer's decisions and shows the pseudonym, never the id."""
    client = signed_in(app_client, world, "aude")
    csrf = _csrf(client.get("/ui/decisions").text)

    answer = client.post("/ui/decisions/customer",
                         data={"csrf": csrf, "customer_id": world.customer})

    assert answer.status_code == 200
    assert f"/ui/decisions/{world.decision_id}" in answer.text
    assert world.customer not in answer.text
    with Platform.open(world.home) as platform:
        record = platform.decisions.get(platform.identity.user("aude"), world.decision_id)
    assert record.customer_pseudo_id in answer.text


def test_the_audit_trail_filters_by_action_and_actor(app_client: httpx.Client,
                                                     world: World) -> None:
    """The trail narrows to an action prefix and an actor."""
    client = signed_in(app_client, world, "aude")

    page = client.get("/ui/audit", params={"action": "rollout.", "actor": "ops"}).text

    shown = re.findall(r"<td>([^<]+)</td>\s*<td><code>([^<]+)</code></td>", page)
    assert ("ops", "rollout.deployed") in shown
    assert {actor for actor, _ in shown} == {"ops"}
    assert all(action.startswith("rollout.") for _, action in shown)


# -- promoting (last: it ends the canary that the tests above read) ------------------------


@pytest.mark.slow
def test_promoting_from_the_deployments_page_makes_the_challenger_champion(
        app_client: httpx.Client, world: World) -> None:
    """The promote form posted by a model risk officer (who may pause, not promote) is
    refused by the rollout service: 403, the rule shown, the champion and the canary as
    they were. Posted by the ML engineer, who is offered it, it is refused while the prod
    move lacks its four eyes (409, the approval gate named); once model risk approved the
    challenger's prod request, it makes the challenger champion in prod and completes the
    rollout, audited with the comment."""
    target = f"/ui/deployments/{world.endpoint}/promote"
    mira = signed_in(app_client, world, "mira")
    page = mira.get("/ui/deployments").text

    refused = mira.post(target, data={"csrf": _csrf(page), "comment": "me"})

    assert f'action="{target}"' not in page
    assert refused.status_code == 403
    assert "auth.role_grants" in refused.text
    assert _champion(world) == f"{world.credit}@1"
    assert _rollout_status(world) == "running"
    with httpx.Client(base_url=app_client.base_url, follow_redirects=False) as other:
        ops = signed_in(other, world, "ops")
        page = ops.get("/ui/deployments").text
        assert f'action="{target}"' in page

        unapproved = ops.post(target, data={"csrf": _csrf(page), "comment": "too soon"})
        approved_for_prod(world, f"{world.credit}@2")
        promoted = ops.post(target, data={"csrf": _csrf(page), "comment": "the canary holds"})
        shown = ops.get(promoted.headers["location"]).text

    assert unapproved.status_code == 409
    assert "gate.approval.model_risk" in unapproved.text
    assert promoted.status_code == 303
    assert (f"The rollout on {world.endpoint} was promoted: the challenger is "
            "champion.") in shown
    assert _champion(world) == f"{world.credit}@2"
    assert _rollout_status(world) == "completed"
    with Platform.open(world.home) as platform:
        assert platform.registry.get(f"{world.credit}@2").stage == Stage.PROD
        [done] = _actions(platform, "rollout.completed")
    assert (done.actor, done.payload["reason"]) == ("ops", "the canary holds")


def approved_for_prod(world: World, ref: str) -> None:
    """The developer asks for prod and model risk approves (tier 2's four eyes); the
    request waits for the rollout to execute it."""
    with Platform.open(world.home) as platform:
        request = platform.oversight.request_transition(
            staff(platform, "dana"), ref, Stage.PROD, reason="the canary holds")
        platform.oversight.approve(staff(platform, "mira"), request.request_id,
                                   role=Role.MODEL_RISK)


def _champion(world: World) -> str:
    with Platform.open(world.home) as platform:
        return platform.registry.get(f"{world.credit}@champion").ref
