"""The approvals inbox: open transition requests, each gate's state, approve or reject.

Approving and rejecting go through the oversight service, as `POST
/v1/governance/requests/{id}/approve` does: it checks the role, four eyes and the
request's state, and audits a refusal. A refusal is shown on the inbox with its rule.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bankml.api.problems import status_of
from bankml.api.ui.pages import PageRoute, Posted, Visiting, Visitor, page, see_other
from bankml.api.ui.sessions import COOKIE_PATH
from bankml.core.errors import BankmlError, InvalidInputError
from bankml.core.identity import GRANTS, Permission, Role
from bankml.core.oversight import RequestStatus

router = APIRouter(prefix=COOKIE_PATH, route_class=PageRoute, include_in_schema=False)
INBOX = "/ui/approvals"


@router.get("/approvals")
def inbox(request: Request, visiting: Visiting, approved: int | None = None,
          rejected: int | None = None) -> HTMLResponse:
    # only numbers come back from the redirect: no text of a link's making is shown
    notice = (f"Request {approved} approved." if approved is not None else
              f"Request {rejected} rejected." if rejected is not None else "")
    return _inbox(request, visiting, notice=notice)


@router.post("/approvals/{request_id}/approve")
def approve(request: Request, request_id: int, visiting: Visiting, form: Posted) -> Response:
    return _decide(request, visiting, request_id, form.get("role"), form.get("comment"),
                   approving=True)


@router.post("/approvals/{request_id}/reject")
def reject(request: Request, request_id: int, visiting: Visiting, form: Posted) -> Response:
    return _decide(request, visiting, request_id, form.get("role"), form.get("comment"),
                   approving=False)


def _decide(request: Request, visiting: Visitor, request_id: int, role_name: str,
            comment: str, *, approving: bool) -> Response:
    oversight, by = visiting.platform.oversight, visiting.principal
    try:
        role = _role(role_name)
        if approving:
            oversight.approve(by, request_id, role=role, comment=comment)
        else:
            oversight.reject(by, request_id, role=role, comment=comment)
    except BankmlError as refused:
        return _inbox(request, visiting, refused=refused, status=status_of(refused))
    verb = "approved" if approving else "rejected"
    return see_other(f"{INBOX}?{verb}={request_id}")


def _role(name: str) -> Role:
    try:
        return Role(name)
    except ValueError:
        raise InvalidInputError("role", f"{name!r} is not a role; approve as one of "
                                f"{', '.join(sorted(GRANTS[Permission.TRANSITION_APPROVE]))}",
                                rule="approval.role_known") from None


def _inbox(request: Request, visiting: Visitor, *, notice: str = "",
           refused: BankmlError | None = None, status: int = 200) -> HTMLResponse:
    oversight, by = visiting.platform.oversight, visiting.principal
    pending = [(found, oversight.gates(by, found.ref, found.target, found))
               for found in oversight.requests(by, status=RequestStatus.OPEN)]
    roles = sorted(visiting.principal.roles & GRANTS[Permission.TRANSITION_APPROVE])
    return page(request, "approvals.html", visiting=visiting, status=status,
                pending=pending, roles=roles, notice=notice, refused=refused)
