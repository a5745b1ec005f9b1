"""The permission matrix: every mutating operation, every role, allowed exactly per GRANTS.

Governance operations check roles in their services; registry, training and feature
operations are checked where the CLI (and, later, HTTP) receives them: both are here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

from bankml import Platform
from bankml.cli.main import app
from bankml.core.errors import BankmlError
from bankml.core.identity import (
    GRANTS,
    AuthenticationError,
    Permission,
    PermissionDeniedError,
    Role,
    User,
)
from bankml.core.oversight import Severity
from bankml.core.registry import Domain, Model, Stage


@dataclass(frozen=True)
class Operation:
    name: str
    permission: Permission
    call: Callable[[Platform, User], object]


TARGET = "target"  # a person every people-managing operation acts on
MODEL = "pd@1"  # a tier-1 version developed by someone outside the matrix


def _request(platform: Platform) -> int:
    return platform.oversight.requests()[0].request_id


OPERATIONS = [
    Operation("add a user", Permission.USERS_MANAGE,
              lambda p, by: p.identity.add_user(by, "newcomer", roles=frozenset({Role.AUDITOR}))),
    Operation("grant a role", Permission.USERS_MANAGE,
              lambda p, by: p.identity.grant(by, TARGET, Role.MODEL_RISK)),
    Operation("revoke a role", Permission.USERS_MANAGE,
              lambda p, by: p.identity.revoke(by, TARGET, Role.VALIDATOR)),
    Operation("deactivate a user", Permission.USERS_MANAGE,
              lambda p, by: p.identity.deactivate(by, TARGET)),
    Operation("create a token for someone else", Permission.USERS_MANAGE,
              lambda p, by: p.identity.create_token(by, TARGET)),
    Operation("create one's own token", Permission.TOKENS_MANAGE_OWN,
              lambda p, by: p.identity.create_token(by)),
    Operation("export the audit trail", Permission.AUDIT_EXPORT,
              lambda p, by: list(p.audit.export(by))),
    Operation("record a validation", Permission.VALIDATION_RECORD,
              lambda p, by: p.oversight.record_validation(by, MODEL, passed=True,
                                                          fairness_passed=True, summary="ok")),
    Operation("raise a finding", Permission.FINDING_RECORD,
              lambda p, by: p.oversight.raise_finding(by, MODEL, severity=Severity.LOW,
                                                      title="t", owner=TARGET,
                                                      due=date(2030, 1, 1))),
    Operation("close a finding", Permission.FINDING_CLOSE,
              lambda p, by: p.oversight.close_finding(by, 1, note="done")),
    Operation("grant an exception", Permission.EXCEPTION_GRANT,
              lambda p, by: p.oversight.grant_exception(
                  by, MODEL, gate="gate.fairness", justification="why",
                  expires=date.today() + timedelta(days=7))),
    Operation("open an alert", Permission.ALERT_MANAGE,
              lambda p, by: p.oversight.open_alert(by, "pd", severity="red", title="drift")),
    Operation("request a transition", Permission.TRANSITION_REQUEST,
              lambda p, by: p.oversight.request_transition(by, MODEL, Stage.ARCHIVED,
                                                           reason="retire")),
    Operation("approve a transition", Permission.TRANSITION_APPROVE,
              lambda p, by: p.oversight.approve(by, _request(p), role=next(iter(by.roles)))),
]


@pytest.fixture
def people(platform: Platform) -> dict[Role, User]:
    first = platform.identity.bootstrap_admin("ada")
    assert first is not None
    admin = platform.identity.user("ada")
    platform.identity.add_user(admin, TARGET, roles=frozenset({Role.VALIDATOR}))
    cast = {role: platform.identity.add_user(admin, f"has-{role.replace('_', '-')}",
                                             roles=frozenset({role}))
            for role in Role}
    platform.registry.define_model(Model(name="pd", domain=Domain.CREDIT, risk_tier=1,
                                         owner="retail", developer="outsider"), actor="outsider")
    rows = np.random.default_rng(0).normal(size=(40, 1))
    fitted = LogisticRegression().fit(rows, (rows[:, 0] > 0).astype(int))
    platform.registry.register_sklearn("pd", fitted, inputs=["x0"], metrics={}, actor="outsider")
    platform.oversight.raise_finding(cast[Role.MODEL_RISK], MODEL, severity=Severity.LOW,
                                     title="seed", owner=TARGET, due=date(2030, 1, 1))
    platform.oversight.request_transition(cast[Role.DATA_SCIENTIST], MODEL, Stage.STAGING,
                                          reason="ready")
    return cast


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda o: o.name)
@pytest.mark.parametrize("role", list(Role))
def test_roles_get_exactly_their_grants(platform: Platform, people: dict[Role, User],
                                        operation: Operation, role: Role) -> None:
    """Each role may do an operation if and only if the grants say so; refusals change nothing.

    An allowed call may still meet a later rule (four eyes, a role the policy does not
    ask for): what matters here is that the permission check lets it through.
    """
    user = people[role]
    before = len(platform.audit.events())

    if role in GRANTS[operation.permission]:
        try:
            operation.call(platform, user)
        except PermissionDeniedError:  # pragma: no cover - the failure this test is for
            pytest.fail(f"{role} was refused {operation.permission}")
        except BankmlError:
            pass
        return
    with pytest.raises(PermissionDeniedError, match=str(operation.permission)):
        operation.call(platform, user)
    after = platform.audit.events()
    assert len(after) == before + 1  # every change is audited: only the refusal was
    assert after[-1].action == "auth.forbidden"


CLI_GUARDED = {  # CLI commands whose services trust their caller: the CLI checks the role
    Permission.MODEL_REGISTER: ["train", "{spec}"],
    Permission.MODEL_ALIAS: ["models", "alias", "pd", "champion", "1"],
    Permission.FEATURES_APPLY: ["features", "apply", "{definitions}"],
    Permission.FEATURES_MATERIALIZE: ["features", "materialize", "--incremental"],
}


@pytest.mark.parametrize("permission", list(CLI_GUARDED), ids=str)
@pytest.mark.parametrize("role", [*Role, None], ids=lambda r: str(r) if r else "no-token")
def test_cli_commands_check_the_role(platform: Platform, people: dict[Role, User],
                                     tmp_path: Path, permission: Permission,
                                     role: Role | None) -> None:
    """train, alias and the feature commands refuse a missing token or role, allow the rest."""
    token = (platform.identity.create_token(people[role]).plaintext if role else "")
    definitions = tmp_path / "none.py"
    definitions.write_text("")
    args = [a.format(spec=tmp_path / "missing.yaml", definitions=definitions)
            for a in CLI_GUARDED[permission]]

    same_store = {"BANKML_METADATA_URL": platform.settings.resolved_metadata_url}
    result = CliRunner().invoke(app, [*args, "--home", str(tmp_path / "home"), "--token", token],
                                env=same_store)

    if role is None:
        assert isinstance(result.exception, AuthenticationError)
    elif role in GRANTS[permission]:
        assert not isinstance(result.exception, PermissionDeniedError)
    else:
        assert isinstance(result.exception, PermissionDeniedError)
