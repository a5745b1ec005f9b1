"""The permission matrix: every mutating operation, every role, allowed exactly per GRANTS."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from bankml import Platform
from bankml.core.identity import GRANTS, Permission, PermissionDeniedError, Role, User


@dataclass(frozen=True)
class Operation:
    name: str
    permission: Permission
    call: Callable[[Platform, User], object]


TARGET = "target"  # a person every people-managing operation acts on


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
]


@pytest.fixture
def people(platform: Platform) -> dict[Role, User]:
    first = platform.identity.bootstrap_admin("ada")
    assert first is not None
    admin = platform.identity.user("ada")
    platform.identity.add_user(admin, TARGET, roles=frozenset({Role.VALIDATOR}))
    return {role: platform.identity.add_user(admin, f"has-{role.replace('_', '-')}",
                                             roles=frozenset({role}))
            for role in Role}


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda o: o.name)
@pytest.mark.parametrize("role", list(Role))
def test_roles_get_exactly_their_grants(platform: Platform, people: dict[Role, User],
                                        operation: Operation, role: Role) -> None:
    """Each role may do an operation if and only if the grants say so; refusals change nothing."""
    user = people[role]
    allowed = role in GRANTS[operation.permission]
    before = [(u.username, u.roles, u.active) for u in platform.identity.users()]

    if allowed:
        operation.call(platform, user)
        return
    with pytest.raises(PermissionDeniedError, match=str(operation.permission)):
        operation.call(platform, user)
    assert [(u.username, u.roles, u.active) for u in platform.identity.users()] == before
    assert platform.audit.events(newest_first=True, limit=1)[0].action == "auth.forbidden"
