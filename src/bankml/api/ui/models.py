"""The inventory and a model's page: versions, lifecycle, lineage, metrics, validation runs
and their reports, cards, and the model's audit history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bankml.api.ui.pages import SECURITY_HEADERS, PageRoute, Visiting, Visitor, page
from bankml.api.ui.sessions import COOKIE_PATH
from bankml.core.audit import AuditEvent
from bankml.core.errors import BankmlError
from bankml.core.identity import Permission
from bankml.core.monitoring import RAG_ORDER, Status
from bankml.core.registry import Domain, Stage
from bankml.core.validation import FairnessTable, ValidationRun
from bankml.governance.inventory import InventoryRow, build_inventory
from bankml.monitoring.rag import model_rags
from bankml.reports.validation import to_html

router = APIRouter(prefix=COOKIE_PATH, route_class=PageRoute, include_in_schema=False)
# what the inventory sorts by: a column's key, None last whichever the order
SORTS = {
    "model": lambda row: row.model, "domain": lambda row: row.domain,
    "tier": lambda row: row.tier, "status": lambda row: row.status,
    "next_review_due": lambda row: row.next_review_due or date.max,
    "open_findings": lambda row: row.open_findings,
}
MODEL_EVENTS = 200  # of each subject, newest
RAG_SORT = "rag"  # sorts worst first: red, amber, green, insufficient, not monitored


@dataclass(frozen=True, slots=True, kw_only=True)
class InventoryQuery:
    q: str = ""
    domain: str = ""
    stage: str = ""
    sort: str = "model"
    descending: bool = False
    rag: str = ""  # a status, "none" (not monitored), or "" (every one)

    def keeps(self, row: InventoryRow, rag: Status | None) -> bool:
        text = self.q.lower()
        return ((not self.domain or row.domain == self.domain)
                and (not self.rag or self.rag == (rag or "none"))
                and (not self.stage or row.status == self.stage)
                and (not text or text in row.model.lower() or text in row.owner.lower()
                     or text in row.developer.lower()))


@router.get("")
@router.get("/")
@router.get("/models")
def inventory(request: Request, visiting: Visiting, *, q: str = "", domain: str = "",
              stage: str = "", sort: str = "model", descending: bool = False,
              rag: str = "") -> HTMLResponse:
    platform, by = visiting.platform, visiting.principal
    query = InventoryQuery(q=q.strip(), domain=domain, stage=stage,
                           sort=sort if sort in SORTS or sort == RAG_SORT else "model",
                           descending=descending, rag=rag)
    rows = build_inventory(by, platform.registry, platform.oversight,
                           platform.oversight.policies)
    rags = model_rags(by, platform.monitor, platform.alerts, [row.model for row in rows])
    key = (SORTS[query.sort] if query.sort != RAG_SORT else
           lambda row: _rag_rank(rags[row.model].status))
    shown = sorted((row for row in rows if query.keeps(row, rags[row.model].status)), key=key,
                   reverse=query.descending)
    return page(request, "inventory.html", visiting=visiting, rows=shown, total=len(rows),
                query=query, domains=[str(d) for d in Domain], rags=rags,
                stages=[str(s) for s in Stage], sorts=[*SORTS, RAG_SORT],
                rag_statuses=[*map(str, RAG_ORDER), "none"])


@router.get("/models/{name}")
def model_page(request: Request, name: str, visiting: Visiting) -> HTMLResponse:
    platform, by = visiting.platform, visiting.principal
    registry = platform.registry
    model = registry.model(name)
    versions = registry.versions(name)
    aliases = registry.aliases(name)
    lineages = {v.ref: registry.lineage(v.ref) for v in versions}
    runs = {v.ref: platform.validation.runs(v.ref) for v in versions}
    evidence = {ref: _evidence(visiting, found[-1]) for ref, found in runs.items() if found}
    findings = platform.oversight.findings(by, model=name)
    events: list[AuditEvent] = []
    if visiting.can(Permission.AUDIT_READ):
        requests = platform.oversight.requests(by, model=name)
        events = _model_events(visiting, [f"model:{name}",
                                          *(f"model:{v.ref}" for v in versions),
                                          *(f"request:{r.request_id}" for r in requests),
                                          *(f"finding:{f.finding_id}" for f in findings)])
    return page(request, "model.html", visiting=visiting, model=model,
                versions=list(reversed(versions)), aliases=aliases, lineages=lineages,
                runs=runs, evidence=evidence, history=list(reversed(registry.history(name))),
                findings=findings, events=events)


@router.get("/runs/{run_id}/report")
def run_report(run_id: str, visiting: Visiting) -> HTMLResponse:
    """The validation report of a run, as `bankml report validation` writes it."""
    platform = visiting.platform
    run = platform.validation.get(run_id)
    findings = platform.reports.validation_findings(visiting.principal, run)
    return HTMLResponse(to_html(platform.validation.result(run), findings),
                        headers=SECURITY_HEADERS)


@router.get("/models/{name}/versions/{number}/card")
def card(name: str, number: int, visiting: Visiting) -> HTMLResponse:
    found = visiting.platform.registry.card(f"{name}@{number}")
    return HTMLResponse(found.html(), headers=SECURITY_HEADERS)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunEvidence:
    """What a version's latest validation run found on the out-of-time rows: fairness
    tables and global SHAP importance, as the stored result holds them."""

    run_id: str
    fairness: tuple[FairnessTable, ...]
    importance: list[dict[str, Any]]  # feature, mean_abs_contribution, rank
    explained: str  # the method and space, or why nothing was explained
    unreadable: str = ""  # the stored result could not be read: why


def _evidence(visiting: Visitor, run: ValidationRun) -> RunEvidence:
    try:
        details = visiting.platform.validation.result(run).out_of_time
    except BankmlError as error:
        return RunEvidence(run_id=run.run_id, fairness=(), importance=[], explained="",
                           unreadable=f"{error} ({error.rule})")
    explanations: Any = details.charts.get("explanations") or {}
    if "error" in explanations:
        explained = f"not explainable: {explanations['error']}"
    elif explanations:
        explained = (f"{explanations['method']} in the {explanations['space']} space, on "
                     f"{explanations['rows']} rows")
    else:
        explained = "the run explained nothing"
    return RunEvidence(run_id=run.run_id, fairness=details.fairness,
                       importance=list(explanations.get("importance", [])),
                       explained=explained)


def _rag_rank(status: Status | None) -> int:
    return RAG_ORDER.index(status) if status in RAG_ORDER else len(RAG_ORDER)


def _model_events(visiting: Visitor, subjects: list[str]) -> list[AuditEvent]:
    """Events on the model, its versions, its transition requests and its findings,
    newest first."""
    audit, by = visiting.platform.audit, visiting.principal
    found: dict[int, AuditEvent] = {}
    for subject in subjects:
        for event in audit.events(by, subject=subject, limit=MODEL_EVENTS, newest_first=True):
            found[event.sequence] = event
    return [found[sequence] for sequence in sorted(found, reverse=True)]
