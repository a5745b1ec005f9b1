"""The permission matrix over HTTP: every route of one real `bankml serve`, called with each
role's token, a service account in and out of its scopes, a revoked token and none.

A caller the grants allow gets anything but 401 or 403 (and no server error); one they do
not allow gets 403 (401 without a valid token), and the audit trail grows by exactly that
refusal's event. Who is allowed comes from `GRANTS` and `SERVICE_GRANTS`, the source of
truth, given the permission each route's service checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from bankml import Platform
from bankml.api.app import create_app
from bankml.core.decisions import PolicyKind
from bankml.core.endpoints import Endpoint
from bankml.core.identity import (
    GRANTS,
    SERVICE_GRANTS,
    Permission,
    Principal,
    PrincipalKind,
    Role,
)
from bankml.core.oversight import Severity
from bankml.core.registry import Stage
from bankml.core.weeks import week_of
from support.lifecycle import move_to
from support.models import register_tiny
from support.people import admins
from support.server import Server, serving
from support.trail import audit_events, refusals_counted

IN_SCOPE, OUT_OF_SCOPE, REVOKED = "app-in", "app-out", "revoked"
CALLERS: list[str | None] = [*(str(role) for role in Role), IN_SCOPE, OUT_OF_SCOPE, REVOKED,
                             None]
TARGET = "target"  # the person people-managing routes act on
ENDPOINT = "credit"
ENDPOINT_YAML = f"""\
name: {ENDPOINT}
model: pd
entity: [customer_id]
policy: {{kind: approve_refer_decline, approve_below: 0.3, decline_from: 0.7}}
"""
APPLICANT = {"customer_id": "c-1", "x0": -2.0}  # scores low: approved, so declining overrides


@dataclass(frozen=True)
class Cast:
    server: Server
    http: httpx.Client  # one connection for the whole matrix
    platform: Platform  # the same home, to read the audit trail as the store holds it
    tokens: dict[str, str]  # caller -> plaintext
    spare: dict[str, str]  # caller -> id of a second token of theirs, for revoking
    ids: dict[str, str]  # what set-up made for routes to act on: request, finding, ...


Body = Callable[[str | None, Cast], Any]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # the route's template, as the OpenAPI document lists it
    permission: Permission | None  # None: any valid token
    url: str = ""  # the path to call, formatted with the cast's ids; default: `path`
    body: Body | None = None
    yaml: str | None = None
    scoped: bool = False  # a service account must hold the endpoint in its scopes
    headers: Callable[[str | None], dict[str, str]] = field(default=lambda _: {})

    @property
    def name(self) -> str:
        return f"{self.method} {self.url or self.path}"


def fixed(value: Any) -> Body:
    return lambda _caller, _cast: value


def own_role(caller: str | None) -> str:
    """Approvers approve in a role they hold; anyone else may name any role: the
    permission is checked before the role."""
    return caller if caller in set(Role) else str(Role.VALIDATOR)


VERSION = "/v1/models/{name}/versions/{number}"
IN_A_MONTH = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
ROUTES = [
    # models
    Route("GET", "/v1/models", None),
    Route("GET", "/v1/models/{name}", None, "/v1/models/pd"),
    Route("GET", "/v1/models/{name}/versions", None, "/v1/models/pd/versions"),
    Route("GET", VERSION, None, "/v1/models/pd/versions/1"),
    Route("GET", f"{VERSION}/lineage", None, "/v1/models/pd/versions/1/lineage"),
    Route("GET", "/v1/models/{name}/history", None, "/v1/models/pd/history"),
    Route("GET", f"{VERSION}/card", None, "/v1/models/pd/versions/1/card?format=html"),
    Route("PUT", "/v1/models/{name}/aliases/{alias}", Permission.MODEL_ALIAS,
          "/v1/models/stg/aliases/challenger", body=fixed({"version": 1})),
    Route("DELETE", "/v1/models/{name}/aliases/{alias}", Permission.MODEL_ALIAS,
          "/v1/models/stg/aliases/challenger"),
    Route("POST", f"{VERSION}/reproduce", Permission.EVIDENCE_READ,
          "/v1/models/pd/versions/1/reproduce"),
    # governance
    Route("GET", f"{VERSION}/gates", Permission.EVIDENCE_READ,
          "/v1/models/stg/versions/1/gates?target=prod"),
    Route("GET", "/v1/governance/requests", Permission.EVIDENCE_READ),
    Route("GET", "/v1/governance/requests/{request_id}", Permission.EVIDENCE_READ,
          "/v1/governance/requests/{approve}"),
    Route("POST", "/v1/governance/requests", Permission.TRANSITION_REQUEST,
          body=fixed({"ref": "req@1", "target": "staging", "reason": "ready"})),
    Route("POST", "/v1/governance/requests/{request_id}/approve", Permission.TRANSITION_APPROVE,
          "/v1/governance/requests/{approve}/approve",
          body=lambda caller, _: {"role": own_role(caller), "comment": "fine"}),
    Route("POST", "/v1/governance/requests/{request_id}/reject", Permission.TRANSITION_APPROVE,
          "/v1/governance/requests/{reject}/reject",
          body=lambda caller, _: {"role": own_role(caller), "comment": "not yet"}),
    Route("POST", "/v1/governance/signoffs", Permission.VALIDATION_RECORD,
          body=fixed({"ref": "sig@1", "passed": False, "summary": "not yet"})),
    Route("POST", "/v1/governance/exceptions", Permission.EXCEPTION_GRANT,
          body=fixed({"ref": "stg@1", "gate": "gate.fairness", "justification": "remediating",
                      "expires": IN_A_MONTH})),
    Route("GET", "/v1/governance/findings", Permission.EVIDENCE_READ),
    Route("POST", "/v1/governance/findings", Permission.FINDING_RECORD,
          body=fixed({"ref": "pd", "severity": "low", "title": "thin docs", "owner": TARGET,
                      "due": IN_A_MONTH})),
    Route("POST", "/v1/governance/findings/{finding_id}/close", Permission.FINDING_CLOSE,
          "/v1/governance/findings/{finding}/close", body=fixed({"note": "documented"})),
    Route("GET", "/v1/inventory", Permission.EVIDENCE_READ),
    # monitoring and alerts
    Route("POST", "/v1/labels", Permission.LABELS_INGEST, body=lambda _caller, cast: {
        "endpoint": ENDPOINT, "labels": [{"decision_id": cast.ids["decision"], "outcome": 1,
                                          "observed_at": datetime.now(UTC).isoformat()}]}),
    Route("GET", "/v1/monitoring/status", Permission.EVIDENCE_READ,
          f"/v1/monitoring/status?endpoint={ENDPOINT}"),
    Route("GET", "/v1/monitoring/runs", Permission.EVIDENCE_READ),
    Route("GET", "/v1/monitoring/retrainings", Permission.EVIDENCE_READ),
    Route("GET", "/v1/monitoring/runs/{run_id}", Permission.EVIDENCE_READ,
          "/v1/monitoring/runs/{run}"),
    Route("GET", "/v1/alerts", Permission.EVIDENCE_READ, "/v1/alerts?unresolved=true"),
    Route("GET", "/v1/alerts/{alert_id}", Permission.EVIDENCE_READ, "/v1/alerts/{alert}"),
    Route("POST", "/v1/alerts", Permission.ALERT_MANAGE,
          body=fixed({"model": "pd", "severity": "amber", "title": "drift"})),
    Route("POST", "/v1/alerts/{alert_id}/acknowledge", Permission.ALERT_MANAGE,
          "/v1/alerts/{alert}/acknowledge", body=fixed({"comment": "looking"})),
    Route("POST", "/v1/alerts/{alert_id}/resolve", Permission.ALERT_MANAGE,
          "/v1/alerts/{alert}/resolve", body=fixed({"comment": "fixed"})),
    # validation
    Route("POST", "/v1/validation/runs", Permission.VALIDATION_RUN, body=fixed({"ref": "pd@1"})),
    Route("GET", f"{VERSION}/runs", None, "/v1/models/pd/versions/1/runs"),
    Route("GET", "/v1/validation/runs/{run_id}", None, "/v1/validation/runs/0000000000000000"),
    # reports
    Route("POST", "/v1/reports/weekly", Permission.EVIDENCE_READ,
          body=fixed({"format": "html"})),
    Route("GET", "/v1/reports/weekly/{week}", Permission.EVIDENCE_READ,
          "/v1/reports/weekly/{week}"),
    # people and tokens
    Route("GET", "/v1/users", Permission.USERS_READ),
    Route("POST", "/v1/users", Permission.USERS_MANAGE,
          body=fixed({"username": "newcomer", "roles": ["auditor"]})),
    Route("POST", "/v1/service-accounts", Permission.USERS_MANAGE,
          body=fixed({"name": "new-app", "scopes": [ENDPOINT]})),
    Route("POST", "/v1/users/{username}/roles", Permission.USERS_MANAGE,
          f"/v1/users/{TARGET}/roles", body=fixed({"role": "data_scientist"})),
    Route("DELETE", "/v1/users/{username}/roles/{role}", Permission.USERS_MANAGE,
          f"/v1/users/{TARGET}/roles/validator"),
    Route("POST", "/v1/users/{username}/deactivate", Permission.USERS_MANAGE,
          f"/v1/users/{TARGET}/deactivate"),
    Route("GET", "/v1/grants", Permission.USERS_READ),
    Route("POST", "/v1/grants/{grant_id}/confirm", Permission.USERS_MANAGE,
          "/v1/grants/{grant}/confirm"),
    Route("POST", "/v1/tokens", Permission.TOKENS_MANAGE_OWN, "/v1/tokens (own)",
          body=fixed({"days": 1})),
    Route("POST", "/v1/tokens", Permission.USERS_MANAGE, "/v1/tokens (another's)",
          body=fixed({"username": TARGET, "days": 1})),
    Route("GET", "/v1/tokens", Permission.TOKENS_MANAGE_OWN),
    Route("GET", "/v1/tokens", Permission.USERS_MANAGE, f"/v1/tokens?username={TARGET}"),
    Route("POST", "/v1/tokens/{token_id}/revoke", Permission.TOKENS_MANAGE_OWN,
          "/v1/tokens/{spare}/revoke"),
    Route("POST", "/v1/tokens/{token_id}/revoke", Permission.USERS_MANAGE,
          "/v1/tokens/{target_token}/revoke"),
    # audit
    Route("GET", "/v1/audit/events", Permission.AUDIT_READ, "/v1/audit/events?limit=5"),
    Route("GET", "/v1/audit/verify", Permission.AUDIT_READ),
    Route("GET", "/v1/audit/export", Permission.AUDIT_EXPORT),
    # endpoints
    Route("GET", "/v1/endpoints", None),
    Route("GET", "/v1/endpoints/{name}", None, f"/v1/endpoints/{ENDPOINT}"),
    Route("POST", "/v1/endpoints", Permission.ENDPOINT_APPLY, yaml=ENDPOINT_YAML),
    Route("GET", "/v1/endpoints/{name}/versions/{number}", None,
          f"/v1/endpoints/{ENDPOINT}/versions/1"),
    # decisions
    Route("POST", "/v1/endpoints/{name}/decisions", Permission.DECISION_MAKE,
          f"/v1/endpoints/{ENDPOINT}/decisions", body=fixed(APPLICANT), scoped=True),
    Route("POST", "/v1/endpoints/{name}/decisions", Permission.DECISION_MAKE,
          f"/v1/endpoints/{ENDPOINT}/decisions (idempotent)", body=fixed(APPLICANT),
          scoped=True, headers=lambda caller: {"Idempotency-Key": f"retry-of-{caller}"}),
    Route("POST", "/v1/endpoints/{name}/decisions:batch", Permission.DECISION_MAKE,
          f"/v1/endpoints/{ENDPOINT}/decisions:batch",
          body=fixed({"requests": [APPLICANT, {**APPLICANT, "x0": 2.0}]}), scoped=True),
    Route("GET", "/v1/decisions/{decision_id}", Permission.DECISION_READ,
          "/v1/decisions/{decision}", scoped=True),
    Route("POST", "/v1/decisions/{decision_id}/replay", Permission.DECISION_REPLAY,
          "/v1/decisions/{decision}/replay"),
    Route("POST", "/v1/decisions/{decision_id}/override", Permission.DECISION_OVERRIDE,
          "/v1/decisions/{decision}/override",
          body=fixed({"outcome": "decline", "reason_code": "FRAUD-SUSPECTED",
                      "comment": "documents did not match"})),
    # rollouts (the endpoint has none: allowed callers meet 404, or 422 for another model)
    Route("POST", "/v1/endpoints/{name}/rollouts", Permission.ROLLOUT_DEPLOY,
          f"/v1/endpoints/{ENDPOINT}/rollouts",
          body=fixed({"version": "stg@1", "strategy": "shadow"})),
    Route("GET", "/v1/endpoints/{name}/rollout", Permission.EVIDENCE_READ,
          f"/v1/endpoints/{ENDPOINT}/rollout"),
    *(Route("POST", f"/v1/endpoints/{{name}}/rollout/{verb}", permission,
            f"/v1/endpoints/{ENDPOINT}/rollout/{verb}", body=fixed({"comment": "matrix"}))
      for verb, permission in [("pause", Permission.ROLLOUT_PAUSE),
                               ("resume", Permission.ROLLOUT_PAUSE),
                               ("promote", Permission.ROLLOUT_PROMOTE),
                               ("rollback", Permission.ROLLOUT_ROLLBACK)]),
    # the Open Inference Protocol
    Route("GET", "/v2/models/{name}", None, f"/v2/models/{ENDPOINT}"),
    Route("GET", "/v2/models/{name}/versions/{version}", None,
          f"/v2/models/{ENDPOINT}/versions/1"),
    Route("GET", "/v2/models/{name}/ready", None, f"/v2/models/{ENDPOINT}/ready"),
    Route("GET", "/v2/models/{name}/versions/{version}/ready", None,
          f"/v2/models/{ENDPOINT}/versions/1/ready"),
    *(Route("POST", path, Permission.DECISION_MAKE, url.format(endpoint=ENDPOINT),
            body=fixed({"inputs": [
                {"name": "customer_id", "shape": [1], "datatype": "BYTES", "data": ["c-2"]},
                {"name": "x0", "shape": [1], "datatype": "FP64", "data": [0.5]}]}),
            scoped=True)
      for path, url in [("/v2/models/{name}/infer", "/v2/models/{endpoint}/infer"),
                        ("/v2/models/{name}/versions/{version}/infer",
                         "/v2/models/{endpoint}/versions/1/infer")]),
]
PUBLIC = {("GET", "/v2/health/live"), ("GET", "/v2/health/ready"), ("GET", "/v2")}  # no token


def _prepare(platform: Platform) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """People of every role, two service accounts, models in prod (behind the endpoint),
    staging and dev, and something for every route to act on. People are written straight
    into the store and versions moved through the lifecycle's door: set-up stays fast."""
    ada, _ = admins(platform)
    with platform.metadata.transaction() as tx:
        for name, roles in [*((str(r), {r}) for r in Role), (TARGET, {Role.VALIDATOR}),
                            ("outsider", {Role.DATA_SCIENTIST}), (REVOKED, {Role.AUDITOR})]:
            tx.users.add(Principal(name=name, roles=frozenset(roles)), "2026-01-01T00:00:00Z")
        for name, scope in [(IN_SCOPE, ENDPOINT), (OUT_OF_SCOPE, "elsewhere")]:
            tx.users.add(Principal(name=name, kind=PrincipalKind.SERVICE,
                                   scopes=frozenset({scope})), "2026-01-01T00:00:00Z")
    identity = platform.identity
    callers = [c for c in CALLERS if c is not None]
    tokens = {c: identity.create_token(ada, c, days=1).plaintext for c in callers}
    spare = {c: identity.create_token(ada, c, days=1).token.token_id for c in callers}
    identity.revoke_token(ada, tokens[REVOKED].split("_")[1])

    outsider, engineer = identity.user("outsider"), identity.user(str(Role.ML_ENGINEER))
    for name in ("pd", "stg", "rej", "req", "sig"):  # each route acts on its own model
        register_tiny(platform, outsider, name)
    for name in ("stg", "rej"):
        move_to(platform, f"{name}@1", Stage.STAGING)
    move_to(platform, "pd@1", Stage.STAGING, Stage.PROD)
    platform.registry.set_alias(engineer, "pd", "champion", 1)
    platform.endpoints.apply(engineer, Endpoint(
        name=ENDPOINT, model="pd", entity=("customer_id",),
        policy_kind=PolicyKind.APPROVE_REFER_DECLINE,
        cutoffs={"approve_below": 0.3, "decline_from": 0.7}))
    [decision] = platform.decisions.decide(engineer, ENDPOINT, [APPLICANT])
    oversight, risk = platform.oversight, identity.user(str(Role.MODEL_RISK))
    ids = {
        "approve": oversight.request_transition(outsider, "stg@1", Stage.PROD,
                                                reason="ready").request_id,
        "reject": oversight.request_transition(outsider, "rej@1", Stage.PROD,
                                               reason="ready").request_id,
        "finding": oversight.raise_finding(risk, "pd", severity=Severity.LOW, title="seed",
                                           owner=TARGET, due=datetime.now(UTC).date()
                                           ).finding_id,
        "alert": oversight.open_alert(risk, "pd", severity="amber", title="seed"),
        "grant": identity.grant(ada, TARGET, Role.BUSINESS_OWNER).grant_id,  # pending
        "target_token": identity.create_token(ada, TARGET, days=1).token.token_id,
        "decision": decision.decision_id,
        "run": platform.monitor.run(risk, endpoint=ENDPOINT)[0].run_id,
        "week": platform.weekly.write(risk, week_of(datetime.now(UTC))).week,
    }
    return tokens, spare, {key: str(value) for key, value in ids.items()}


@pytest.fixture(scope="module")
def cast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cast]:
    home = tmp_path_factory.mktemp("api-permissions") / "home"
    with Platform.open(home) as platform:
        tokens, spare, ids = _prepare(platform)
    with serving(home) as server, Platform.open(home) as platform, \
            httpx.Client(base_url=server.url, timeout=60.0) as http:
        yield Cast(server, http, platform, tokens, spare, ids)


def is_allowed(route: Route, caller: str) -> bool:
    """What the grants say, for a valid token's owner."""
    if route.permission is None:
        return True
    if caller in (IN_SCOPE, OUT_OF_SCOPE):
        return route.permission in SERVICE_GRANTS and (not route.scoped or caller == IN_SCOPE)
    return Role(caller) in GRANTS[route.permission]


def call(cast: Cast, route: Route, caller: str | None) -> httpx.Response:
    url = (route.url or route.path).split(" ")[0].format(
        **cast.ids, spare=cast.spare.get(caller or "", cast.ids["target_token"]))
    headers = route.headers(caller)
    if caller is not None:
        headers["Authorization"] = f"Bearer {cast.tokens[caller]}"
    if route.yaml is not None:
        return cast.http.request(route.method, url, content=route.yaml,
                                 headers={**headers, "Content-Type": "application/yaml"})
    body = route.body(caller, cast) if route.body is not None else None
    return cast.http.request(route.method, url, json=body, headers=headers)


def head(platform: Platform) -> int:
    with platform.metadata.reading() as tx:
        return tx.audit.head().sequence


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c or "no-token")
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_callers_get_exactly_their_grants(cast: Cast, route: Route, caller: str | None) -> None:
    """Allowed callers get past authorisation; others get 401 or 403 and leave exactly one
    audit event, their refusal (unauthenticated ones beyond the minute's budget are counted
    instead, core/refusals.py)."""
    before, counted = head(cast.platform), refusals_counted(cast.platform)

    response = call(cast, route, caller)

    if caller is not None and caller != REVOKED and is_allowed(route, caller):
        assert response.status_code not in (401, 403), response.text
        assert response.status_code < 500, response.text
        return
    expected = 401 if caller in (None, REVOKED) else 403
    assert response.status_code == expected, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["rule"] in {401: {"auth.token_valid"},
                               403: {"auth.role_grants", "auth.scope_grants"}}[expected]
    newer = [e for e in audit_events(cast.platform, newest_first=True, limit=20)
             if e.sequence > before]
    if expected == 403:  # one event, and it is the refusal
        assert [(e.action, e.actor) for e in newer] == [("auth.forbidden", caller)]
        return
    # Unauthenticated: recorded while its minute's budget lasts (after the summaries of a
    # minute gone), counted beyond it; never both, never neither.
    recorded = [e for e in newer if e.action == "auth.refused"]
    assert {e.action for e in newer} <= {"auth.refused", "auth.refused_summary"}
    if recorded:
        assert (newer[0].action, newer[0].actor, len(recorded)) == ("auth.refused", "system", 1)
    else:
        assert not newer
        assert refusals_counted(cast.platform) == counted + 1


def test_the_matrix_covers_every_route(cast: Cast) -> None:
    """Every operation of the OpenAPI document is in the matrix, or needs no token."""
    document = cast.http.get("/openapi.json").json()
    operations = {(method.upper(), path) for path, item in document["paths"].items()
                  for method in item}

    assert operations - PUBLIC == {(r.method, r.path) for r in ROUTES}


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, also those of included routers (which FastAPI keeps as routers)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (included := getattr(route, "original_router", None)) is not None:
            yield from _api_routes(included.routes)


def test_every_route_is_documented_with_a_summary(cast: Cast) -> None:
    """The OpenAPI document lists every route the app serves, each with a summary written
    for it (not generated from a function name), and each management route the permission
    its service checks."""
    document = cast.http.get("/openapi.json").json()
    served = [(method, route) for route in _api_routes(create_app().routes)
              if route.include_in_schema for method in route.methods or ()]
    checked: dict[tuple[str, str], set[str]] = {}
    for case in ROUTES:
        checked.setdefault((case.method, case.path), set()).add(
            str(case.permission or "authenticated"))

    for method, route in served:
        operation = document["paths"][route.path][method.lower()]
        assert operation["summary"], route.path
        if route.path.startswith("/v1/"):
            assert route.summary, f"{method} {route.path} has no summary of its own"
        declared = {operation.get("x-permission"), operation.get("x-others-need")} - {None}
        assert declared <= checked.get((method, route.path), set()), route.path


def test_the_public_routes_need_no_token(cast: Cast) -> None:
    """The health checks and the server's metadata answer without a token."""
    for _, path in sorted(PUBLIC):
        assert cast.http.get(path).status_code == 200, path
