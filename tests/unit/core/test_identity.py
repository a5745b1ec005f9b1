"""Roles, permissions and token formats."""

from __future__ import annotations

import hashlib

import pytest

from bankml.core.errors import AuthenticationError, InvalidInputError, PermissionDeniedError
from bankml.core.identity import (
    CONTROL_ROLES,
    GRANTS,
    SYSTEM,
    Permission,
    Principal,
    PrincipalKind,
    Role,
    automation,
    check_username,
    mint_token,
    parse_roles,
    split_token,
)

READ_ONLY_SAFE = {Permission.TOKENS_MANAGE_OWN, Permission.AUDIT_EXPORT, Permission.AUDIT_READ,
                  Permission.USERS_READ, Permission.FEATURES_READ, Permission.EVIDENCE_READ,
                  Permission.DECISION_READ, Permission.DECISION_REPLAY}
MODEL_DECISIONS = {Permission.TRANSITION_APPROVE, Permission.EXCEPTION_GRANT,
                   Permission.MODEL_REGISTER, Permission.MODEL_ALIAS,
                   Permission.TRANSITION_REQUEST, Permission.VALIDATION_RECORD}


def test_every_permission_names_its_roles() -> None:
    """No operation is left without a rule saying who may do it."""
    assert set(GRANTS) == set(Permission)
    assert all(GRANTS.values())


def test_auditors_change_nothing() -> None:
    """Auditors hold no permission beyond reading, replaying, exporting and their own tokens."""
    held = {p for p, roles in GRANTS.items() if Role.AUDITOR in roles}

    assert held <= READ_ONLY_SAFE
    assert Permission.AUDIT_EXPORT in held


def test_admins_manage_people_not_models() -> None:
    """Admins can never register, promote, approve or validate a model."""
    held = {p for p, roles in GRANTS.items() if Role.ADMIN in roles}

    assert not held & MODEL_DECISIONS
    assert Permission.USERS_MANAGE in held


def test_denial_names_the_permission_and_the_roles_needed() -> None:
    """A refusal says what was asked, what the user has and which roles would do."""
    user = Principal(name="dana", display_name="Dana", roles=frozenset({Role.DATA_SCIENTIST}))

    with pytest.raises(PermissionDeniedError,
                       match=r"dana \(data_scientist\) may not users.manage: it needs one of "
                             r"the roles admin"):
        user.require(Permission.USERS_MANAGE)


def test_inactive_user_may_do_nothing() -> None:
    """A deactivated user holds no permission whatever their roles."""
    user = Principal(name="ex", display_name="Ex", roles=frozenset(Role), active=False)

    assert not any(user.can(permission) for permission in Permission)


def test_token_round_trip() -> None:
    """A minted token splits back into its id and the sha256 of its secret."""
    token_id, plaintext, secret_sha256 = mint_token()
    secret = plaintext.split("_", 2)[2]

    assert split_token(plaintext) == (token_id, secret_sha256)
    assert secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()


def test_tokens_are_unique() -> None:
    """Two mints never give the same token."""
    assert len({mint_token()[1] for _ in range(100)}) == 100


@pytest.mark.parametrize("text", ["", "bml_x_y", "Bearer abc", "bml_0123456789abcdef_short"])
def test_malformed_tokens_are_refused(text: str) -> None:
    """Anything not shaped like a bankml token fails authentication."""
    with pytest.raises(AuthenticationError, match="malformed"):
        split_token(text)


@pytest.mark.parametrize("name", ["A", "x", "has space", "1abc", "a" * 64])
def test_bad_usernames_are_refused(name: str) -> None:
    """Usernames follow one documented pattern."""
    with pytest.raises(InvalidInputError, match="username"):
        check_username(name)


def test_unknown_role_is_named() -> None:
    """A role that does not exist is named, with the list of real ones."""
    with pytest.raises(InvalidInputError, match="unknown role\\(s\\) wizard; roles are"):
        parse_roles(["validator", "wizard"])


def test_control_roles_are_those_that_validate_or_approve() -> None:
    """Granting a role that validates or approves is itself a control."""
    assert frozenset({Role.VALIDATOR, Role.MODEL_RISK, Role.BUSINESS_OWNER}) == CONTROL_ROLES


def test_the_system_principal_cannot_approve_register_or_validate() -> None:
    """bankml acting on its own raises alerts; it never takes a person's decision."""
    assert SYSTEM.can(Permission.ALERT_MANAGE)
    assert not any(SYSTEM.can(p) for p in (Permission.TRANSITION_APPROVE,
                                           Permission.MODEL_REGISTER,
                                           Permission.VALIDATION_RECORD,
                                           Permission.USERS_MANAGE))


def test_service_accounts_decide_within_their_scopes_only() -> None:
    """An application makes decisions on the endpoints it is scoped to, and nothing else."""
    app = Principal(name="loans-app", kind=PrincipalKind.SERVICE,
                    scopes=frozenset({"credit-pd"}), roles=frozenset(Role))

    assert app.can(Permission.DECISION_MAKE)
    assert not app.can(Permission.TRANSITION_APPROVE)  # roles do not count for services
    assert app.may_call("credit-pd")
    assert not app.may_call("fraud")
    with pytest.raises(PermissionDeniedError, match="only the endpoints credit-pd"):
        app.require_scope("fraud")


def test_the_retraining_automation_never_signs_off_approves_or_promotes() -> None:
    """Its grants build, self-test, request staging and deploy in shadow; every control
    that people exercise stays theirs."""
    bot = automation("automation")

    assert {p for p in Permission if bot.can(p)} == {
        Permission.EVIDENCE_READ, Permission.MODEL_REGISTER, Permission.VALIDATION_RUN,
        Permission.TRANSITION_REQUEST, Permission.ROLLOUT_DEPLOY}
    with pytest.raises(InvalidInputError) as refused:
        automation("Not A Name")
    assert (refused.value.field, refused.value.rule) == ("automation_actor",
                                                         "identity.username")
