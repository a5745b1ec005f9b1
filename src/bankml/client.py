"""A Python client of `bankml serve`: decisions and the main management calls, over HTTP.

```
from bankml.client import BankmlClient

with BankmlClient("http://127.0.0.1:8080", token) as bankml:
    decision = bankml.decide("credit-pd", {"customer_id": "c-17", ...},
                             idempotency_key="application-17")
```

Methods return the server's JSON as plain data. A problem the server answers is raised
as an `ApiError` that is also of the error's kind (`NotFoundError` for 404,
`PermissionDeniedError` for 403, ...), with its `status`, `rule` and `field`: code that
handles bankml's errors in-process handles them alike over HTTP. A server that cannot be
reached raises httpx's `TransportError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from bankml.core.errors import (
    AuthenticationError,
    BankmlError,
    ConflictError,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
)

TIMEOUT_S = 120.0  # a validation run or a reproduction takes seconds, not minutes


class ApiError(BankmlError):
    """A problem `bankml serve` answered (RFC 9457 problem+json)."""

    def __init__(self, status: int, detail: str, *, rule: str, field: str | None = None,
                 title: str = "") -> None:
        BankmlError.__init__(self, detail, rule=rule, field=field)
        self.status, self.detail, self.title = status, detail, title


class ApiInvalidInputError(ApiError, InvalidInputError):
    pass


class ApiNotFoundError(ApiError, NotFoundError):
    kind = key = ""  # the server's detail names what was not found


class ApiConflictError(ApiError, ConflictError):
    pass


class ApiAuthenticationError(ApiError, AuthenticationError):
    pass


class ApiPermissionDeniedError(ApiError, PermissionDeniedError):
    pass


class ApiUnavailableError(ApiError, UnavailableError):
    pass


class ApiIntegrityError(ApiError, IntegrityError):
    pass


KINDS: dict[int, type[ApiError]] = {
    422: ApiInvalidInputError, 404: ApiNotFoundError, 409: ApiConflictError,
    401: ApiAuthenticationError, 403: ApiPermissionDeniedError, 503: ApiUnavailableError,
    500: ApiIntegrityError}


def error_of(response: httpx.Response) -> ApiError:
    """The error a failed response stands for; a body that is not a problem (a proxy's
    page, say) keeps its first 200 characters as the detail."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {"detail": response.text[:200], "rule": "http"}
    kind = KINDS.get(response.status_code, ApiError)
    return kind(response.status_code, str(body.get("detail", "")),
                rule=str(body.get("rule") or "http"), field=body.get("field"),
                title=str(body.get("title", "")))


def _path(*parts: object) -> str:
    return "/" + "/".join(quote(str(part), safe="") for part in parts)


def _query(**values: Any) -> dict[str, Any]:
    """Query parameters without the ones left out; times and dates as ISO 8601."""
    return {key: value.isoformat() if isinstance(value, date | datetime) else value
            for key, value in values.items() if value is not None}


class BankmlClient:
    """Calls `bankml serve` at `url`, acting with `token` (a `bml_...` API token)."""

    def __init__(self, url: str, token: str, *, timeout_s: float = TIMEOUT_S) -> None:
        self._http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout_s,
                                  headers={"Authorization": f"Bearer {token}"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    # -- decisions -----------------------------------------------------------------------

    def decide(self, endpoint: str, fields: Mapping[str, Any], *,
               idempotency_key: str | None = None) -> dict[str, Any]:
        """One decision; a retry with the same `idempotency_key` returns the same one."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self._call("POST", _path("v1", "endpoints", endpoint, "decisions"),
                          json=dict(fields), headers=headers)

    def decide_batch(self, endpoint: str,
                     requests: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        found = self._call("POST", _path("v1", "endpoints", endpoint) + "/decisions:batch",
                           json={"requests": [dict(r) for r in requests]})
        decisions: list[dict[str, Any]] = found["decisions"]
        return decisions

    def decision(self, decision_id: str) -> dict[str, Any]:
        """The logged record in full, with its overrides (decision.read)."""
        return self._call("GET", _path("v1", "decisions", decision_id))

    def replay(self, decision_id: str) -> dict[str, Any]:
        return self._call("POST", _path("v1", "decisions", decision_id, "replay"))

    def override(self, decision_id: str, *, outcome: str, reason_code: str,
                 comment: str) -> dict[str, Any]:
        return self._call("POST", _path("v1", "decisions", decision_id, "override"),
                          json={"outcome": outcome, "reason_code": reason_code,
                                "comment": comment})

    # -- endpoints -----------------------------------------------------------------------

    def endpoints(self) -> list[dict[str, Any]]:
        return self._listed("GET", "/v1/endpoints", "endpoints")

    def endpoint(self, name: str) -> dict[str, Any]:
        return self._call("GET", _path("v1", "endpoints", name))

    def apply_endpoint(self, definition: str) -> dict[str, Any]:
        """Apply an endpoint definition (its YAML text); `created` says if it made a new
        version."""
        return self._call("POST", "/v1/endpoints", content=definition.encode(),
                          headers={"Content-Type": "application/yaml"})

    # -- models --------------------------------------------------------------------------

    def models(self) -> list[dict[str, Any]]:
        return self._listed("GET", "/v1/models", "models")

    def model(self, name: str) -> dict[str, Any]:
        return self._call("GET", _path("v1", "models", name))

    def versions(self, name: str) -> list[dict[str, Any]]:
        return self._listed("GET", _path("v1", "models", name, "versions"), "versions")

    def version(self, name: str, number: int) -> dict[str, Any]:
        return self._call("GET", _path("v1", "models", name, "versions", number))

    def lineage(self, name: str, number: int) -> dict[str, Any]:
        return self._call("GET", _path("v1", "models", name, "versions", number, "lineage"))

    def history(self, name: str) -> list[dict[str, Any]]:
        return self._listed("GET", _path("v1", "models", name, "history"), "history")

    def card(self, name: str, number: int, *, html: bool = False) -> str:
        """The model card, Markdown (or HTML)."""
        response = self._send("GET", _path("v1", "models", name, "versions", number, "card"),
                              params={"format": "html" if html else "markdown"})
        return response.text

    def set_alias(self, name: str, alias: str, number: int, *,
                  reason: str = "") -> dict[str, Any]:
        return self._call("PUT", _path("v1", "models", name, "aliases", alias),
                          json={"version": number, "reason": reason})

    def remove_alias(self, name: str, alias: str, *, reason: str = "") -> dict[str, Any]:
        return self._call("DELETE", _path("v1", "models", name, "aliases", alias),
                          params={"reason": reason})

    def reproduce(self, name: str, number: int) -> dict[str, Any]:
        """Rebuild the version from its manifest; `identical` and a `verdict` say how it
        compares."""
        return self._call("POST", _path("v1", "models", name, "versions", number,
                                        "reproduce"))

    # -- governance ----------------------------------------------------------------------

    def gates(self, name: str, number: int, target: str) -> dict[str, Any]:
        return self._call("GET", _path("v1", "models", name, "versions", number, "gates"),
                          params={"target": target})

    def requests(self, *, model: str | None = None,
                 status: str | None = None) -> list[dict[str, Any]]:
        return self._listed("GET", "/v1/governance/requests", "requests",
                            params=_query(model=model, status=status))

    def request(self, request_id: int) -> dict[str, Any]:
        return self._call("GET", _path("v1", "governance", "requests", request_id))

    def request_transition(self, ref: str, target: str, *, reason: str = "") -> dict[str, Any]:
        """Ask to move `ref` (NAME@VERSION); it moves once every gate holds."""
        return self._call("POST", "/v1/governance/requests",
                          json={"ref": ref, "target": target, "reason": reason})

    def approve(self, request_id: int, *, role: str, comment: str = "") -> dict[str, Any]:
        return self._call("POST", _path("v1", "governance", "requests", request_id, "approve"),
                          json={"role": role, "comment": comment})

    def reject(self, request_id: int, *, role: str, comment: str) -> dict[str, Any]:
        return self._call("POST", _path("v1", "governance", "requests", request_id, "reject"),
                          json={"role": role, "comment": comment})

    def sign_off(self, ref: str, *, passed: bool, summary: str,
                 run_id: str | None = None) -> dict[str, Any]:
        """A passing sign-off names your validation run; it carries the run's fairness."""
        return self._call("POST", "/v1/governance/signoffs", json={
            "ref": ref, "passed": passed, "summary": summary, "run_id": run_id})

    def grant_exception(self, ref: str, *, gate: str, justification: str,
                        expires: date) -> dict[str, Any]:
        return self._call("POST", "/v1/governance/exceptions", json={
            "ref": ref, "gate": gate, "justification": justification,
            "expires": expires.isoformat()})

    def findings(self, *, model: str | None = None,
                 open_only: bool = False) -> list[dict[str, Any]]:
        return self._listed("GET", "/v1/governance/findings", "findings",
                            params=_query(model=model, open=open_only))

    def raise_finding(self, ref: str, *, severity: str, title: str, owner: str,
                      due: date) -> dict[str, Any]:
        return self._call("POST", "/v1/governance/findings", json={
            "ref": ref, "severity": severity, "title": title, "owner": owner,
            "due": due.isoformat()})

    def close_finding(self, finding_id: int, *, note: str) -> dict[str, Any]:
        return self._call("POST", _path("v1", "governance", "findings", finding_id, "close"),
                          json={"note": note})

    # -- monitoring ----------------------------------------------------------------------

    def ingest_labels(self, endpoint: str, labels: Sequence[Mapping[str, Any]]
                      ) -> dict[str, Any]:
        """Outcomes of logged decisions; the counts of new, duplicate and corrected ones."""
        return self._call("POST", "/v1/labels", json={"endpoint": endpoint,
                                                      "labels": list(labels)})

    def monitoring_status(self, endpoint: str, *, weeks: int = 8) -> list[dict[str, Any]]:
        return self._listed("GET", "/v1/monitoring/status", "metrics",
                            params={"endpoint": endpoint, "weeks": weeks})

    def monitoring_runs(self, *, endpoint: str | None = None) -> list[dict[str, Any]]:
        return self._listed("GET", "/v1/monitoring/runs", "runs",
                            params=_query(endpoint=endpoint))

    def alerts(self, *, endpoint: str | None = None,
               unresolved: bool = False) -> list[dict[str, Any]]:
        return self._listed("GET", "/v1/alerts", "alerts",
                            params=_query(endpoint=endpoint, unresolved=unresolved))

    def open_alert(self, model: str, *, severity: str, title: str) -> int:
        opened = self._call("POST", "/v1/alerts",
                            json={"model": model, "severity": severity, "title": title})
        return int(opened["alert_id"])

    def acknowledge_alert(self, alert_id: int, *, comment: str) -> dict[str, Any]:
        return self._call("POST", _path("v1", "alerts", alert_id, "acknowledge"),
                          json={"comment": comment})

    def resolve_alert(self, alert_id: int, *, comment: str) -> dict[str, Any]:
        return self._call("POST", _path("v1", "alerts", alert_id, "resolve"),
                          json={"comment": comment})

    def inventory(self, *, overdue: bool = False) -> list[dict[str, Any]]:
        return self._listed("GET", "/v1/inventory", "models", params={"overdue": overdue})

    # -- validation ----------------------------------------------------------------------

    def validate(self, ref: str, *, against: str | None = None) -> dict[str, Any]:
        """Run the validation battery on `ref`; the stored run (it takes seconds)."""
        return self._call("POST", "/v1/validation/runs", json={"ref": ref, "against": against})

    def runs(self, name: str, number: int) -> list[dict[str, Any]]:
        return self._listed("GET", _path("v1", "models", name, "versions", number, "runs"),
                            "runs")

    def run(self, run_id: str) -> dict[str, Any]:
        """A run with its `result` summarised and its whole `stored_result`."""
        return self._call("GET", _path("v1", "validation", "runs", run_id))

    # -- people and tokens ---------------------------------------------------------------

    def users(self) -> list[dict[str, Any]]:
        return self._listed("GET", "/v1/users", "users")

    def add_user(self, username: str, *, roles: Sequence[str],
                 display_name: str = "") -> dict[str, Any]:
        """The new person; roles that wait for a second admin are in `pending`."""
        return self._call("POST", "/v1/users", json={
            "username": username, "roles": list(roles), "display_name": display_name})

    def add_service_account(self, name: str, *, scopes: Sequence[str],
                            display_name: str = "") -> dict[str, Any]:
        return self._call("POST", "/v1/service-accounts", json={
            "name": name, "scopes": list(scopes), "display_name": display_name})

    def grant(self, username: str, role: str) -> dict[str, Any]:
        return self._call("POST", _path("v1", "users", username, "roles"), json={"role": role})

    def confirm_grant(self, grant_id: int) -> dict[str, Any]:
        return self._call("POST", _path("v1", "grants", grant_id, "confirm"))

    def grants(self, *, username: str | None = None,
               pending: bool = False) -> list[dict[str, Any]]:
        return self._listed("GET", "/v1/grants", "grants",
                            params=_query(username=username, pending=pending))

    def revoke_role(self, username: str, role: str) -> dict[str, Any]:
        return self._call("DELETE", _path("v1", "users", username, "roles", role))

    def deactivate(self, username: str) -> dict[str, Any]:
        return self._call("POST", _path("v1", "users", username, "deactivate"))

    def create_token(self, *, username: str | None = None, days: int = 90,
                     description: str = "") -> dict[str, Any]:
        """A new token; its plaintext, under `token`, is in this answer only."""
        return self._call("POST", "/v1/tokens", json={
            "username": username, "days": days, "description": description})

    def tokens(self, *, username: str | None = None) -> list[dict[str, Any]]:
        return self._listed("GET", "/v1/tokens", "tokens", params=_query(username=username))

    def revoke_token(self, token_id: str) -> dict[str, Any]:
        return self._call("POST", _path("v1", "tokens", token_id, "revoke"))

    # -- audit ---------------------------------------------------------------------------

    def audit_events(self, *, subject: str | None = None, since: datetime | None = None,
                     until: datetime | None = None, limit: int = 50,
                     action: str | None = None, actor: str | None = None
                     ) -> list[dict[str, Any]]:
        """The newest `limit` events (of `subject`, in [since, until), of `action` (exact,
        or a prefix ending in a dot) and `actor`), oldest first."""
        return self._listed("GET", "/v1/audit/events", "events", params=_query(
            subject=subject, since=since, until=until, limit=limit, action=action,
            actor=actor))

    def verify_audit(self) -> dict[str, Any]:
        """The chain re-computed on the server: `intact`, and the first break if not."""
        return self._call("GET", "/v1/audit/verify")

    def export_audit(self, *, since: datetime | None = None,
                     until: datetime | None = None) -> Iterator[str]:
        """The export's JSON lines as they stream: a header, then one line per event."""
        with self._http.stream("GET", "/v1/audit/export",
                               params=_query(since=since, until=until)) as response:
            if response.is_error:
                response.read()
                raise error_of(response)
            yield from (line for line in response.iter_lines() if line)

    # -- internals -----------------------------------------------------------------------

    def _send(self, method: str, path: str, **options: Any) -> httpx.Response:
        response = self._http.request(method, path, **options)
        if response.is_error:
            raise error_of(response)
        return response

    def _call(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self._send(method, path, **options).json()
        return answer

    def _listed(self, method: str, path: str, key: str, **options: Any
                ) -> list[dict[str, Any]]:
        listed: list[dict[str, Any]] = self._call(method, path, **options)[key]
        return listed


__all__ = ["ApiError", "BankmlClient", "error_of"]
