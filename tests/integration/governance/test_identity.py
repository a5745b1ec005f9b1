"""People, tokens and refusals on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bankml import Platform
from bankml.core.errors import (
    AuthenticationError,
    DuplicateError,
    InvalidInputError,
    PermissionDeniedError,
)
from bankml.core.identity import Principal, PrincipalKind, Role
from bankml.governance import Identity
from support.trail import audit_events


@pytest.fixture
def admin(platform: Platform) -> tuple[Principal, str]:
    first = platform.identity.bootstrap_admin("ada")
    assert first is not None
    return platform.identity.authenticate(first.plaintext), first.plaintext


def test_bootstrap_happens_once(platform: Platform, admin: tuple[Principal, str]) -> None:
    """The first admin is created on an empty store only."""
    assert admin[0].roles == {Role.ADMIN}
    assert platform.identity.bootstrap_admin("eve") is None


def test_admin_adds_people_with_roles(platform: Platform, admin: tuple[Principal, str]) -> None:
    """An admin adds a person; the change and each role grant are audited under the admin's
    name (a role that validates waits for a second admin)."""
    platform.identity.add_user(admin[0], "dana", roles=frozenset({Role.DATA_SCIENTIST}))
    platform.identity.add_user(admin[0], "vera", roles=frozenset({Role.VALIDATOR}))

    assert platform.identity.user("dana").roles == {Role.DATA_SCIENTIST}
    assert platform.identity.user("vera").roles == frozenset()
    assert [(e.actor, e.action) for e in audit_events(platform, subject="user:vera")] == [
        ("ada", "user.created"), ("ada", "user.grant_requested")]


def test_duplicate_user_is_refused(platform: Platform, admin: tuple[Principal, str]) -> None:
    """A username is never reused."""
    platform.identity.add_user(admin[0], "vera", roles=frozenset({Role.VALIDATOR}))

    with pytest.raises(DuplicateError, match="vera exists"):
        platform.identity.add_user(admin[0], "vera", roles=frozenset({Role.AUDITOR}))


def test_grant_and_revoke_roles(platform: Platform, admin: tuple[Principal, str]) -> None:
    """Roles can be given and taken, each change audited."""
    platform.identity.add_user(admin[0], "mo", roles=frozenset({Role.DATA_SCIENTIST}))
    platform.identity.grant(admin[0], "mo", Role.AUDITOR)
    platform.identity.revoke(admin[0], "mo", Role.DATA_SCIENTIST)

    assert platform.identity.user("mo").roles == {Role.AUDITOR}
    assert [e.action for e in audit_events(platform, subject="user:mo")] == [
        "user.created", "user.granted", "user.granted", "user.revoked"]


def test_non_admin_cannot_manage_people(platform: Platform, admin: tuple[Principal, str]) -> None:
    """A data scientist adding a user is refused, audited, and nothing is added."""
    dana = platform.identity.add_user(admin[0], "dana", roles=frozenset({Role.DATA_SCIENTIST}))

    with pytest.raises(PermissionDeniedError, match="may not users.manage"):
        platform.identity.add_user(dana, "sneaky", roles=frozenset({Role.ADMIN}))

    assert [u.name for u in platform.identity.users(admin[0])] == ["ada", "dana"]
    [event] = audit_events(platform, subject="user:sneaky")
    assert (event.actor, event.action) == ("dana", "auth.forbidden")


def test_admin_keeps_their_own_admin_role(platform: Platform, admin: tuple[Principal, str]) -> None:
    """An admin cannot lock everyone out by removing their own admin role."""
    with pytest.raises(InvalidInputError, match="cannot take admin from yourself"):
        platform.identity.revoke(admin[0], "ada", Role.ADMIN)


def test_people_create_their_own_tokens(platform: Platform, admin: tuple[Principal, str]) -> None:
    """Anyone may create a token for themselves, and it authenticates as them."""
    dana = platform.identity.add_user(admin[0], "dana", roles=frozenset({Role.DATA_SCIENTIST}))
    new = platform.identity.create_token(dana, days=7, description="laptop")

    assert platform.identity.authenticate(new.plaintext).name == "dana"
    assert new.plaintext not in "".join(e.payload_json for e in audit_events(platform))


def test_tokens_of_others_need_an_admin(platform: Platform, admin: tuple[Principal, str]) -> None:
    """A non-admin cannot mint a token for someone else."""
    dana = platform.identity.add_user(admin[0], "dana", roles=frozenset({Role.DATA_SCIENTIST}))

    with pytest.raises(PermissionDeniedError, match="users.manage"):
        platform.identity.create_token(dana, "ada")


@pytest.mark.parametrize("token", [None, "", "not-a-token",
                                   "bml_0123456789abcdef_" + "A" * 43])
def test_missing_malformed_or_unknown_tokens_fail(platform: Platform,
                                                  token: str | None) -> None:
    """No token, a malformed one or an unknown one: refused and audited."""
    with pytest.raises(AuthenticationError):
        platform.identity.authenticate(token)

    [event] = audit_events(platform)
    assert event.action == "auth.refused"


def test_wrong_secret_fails(platform: Platform, admin: tuple[Principal, str]) -> None:
    """The right id with another secret is refused."""
    token_id = admin[1].split("_")[1]

    with pytest.raises(AuthenticationError, match="not known"):
        platform.identity.authenticate(f"bml_{token_id}_{'B' * 43}")


def test_revoked_token_fails(platform: Platform, admin: tuple[Principal, str]) -> None:
    """A revoked token authenticates no more."""
    new = platform.identity.create_token(admin[0], days=1)
    platform.identity.revoke_token(admin[0], new.token.token_id)

    with pytest.raises(AuthenticationError, match="revoked"):
        platform.identity.authenticate(new.plaintext)


def test_expired_token_fails(platform: Platform, admin: tuple[Principal, str]) -> None:
    """A token past its expiry is refused."""
    new = platform.identity.create_token(admin[0], days=1)
    later = Identity(platform.metadata, clock=lambda: datetime.now(UTC) + timedelta(days=2))

    with pytest.raises(AuthenticationError, match="expired"):
        later.authenticate(new.plaintext)


def test_deactivated_user_cannot_authenticate(platform: Platform,
                                              admin: tuple[Principal, str]) -> None:
    """A deactivated person's tokens stop working."""
    platform.identity.add_user(admin[0], "leaver", roles=frozenset({Role.VALIDATOR}))
    new = platform.identity.create_token(admin[0], "leaver")
    platform.identity.deactivate(admin[0], "leaver")

    with pytest.raises(AuthenticationError, match="deactivated"):
        platform.identity.authenticate(new.plaintext)


def test_token_lifetime_is_bounded(platform: Platform, admin: tuple[Principal, str]) -> None:
    """Tokens live between one day and a year."""
    with pytest.raises(InvalidInputError, match="outside 1..365"):
        platform.identity.create_token(admin[0], days=1000)


def test_service_accounts_are_scoped_and_hold_no_role(platform: Platform,
                                                      admin: tuple[Principal, str]) -> None:
    """An application's account authenticates as a service scoped to its endpoints; it can
    be given no role."""
    platform.identity.add_service_account(admin[0], "loans-app",
                                          scopes=frozenset({"credit-pd"}))
    new = platform.identity.create_token(admin[0], "loans-app")

    account = platform.identity.authenticate(new.plaintext)

    assert (account.kind, account.scopes, account.roles) == (
        PrincipalKind.SERVICE, {"credit-pd"}, frozenset())
    with pytest.raises(InvalidInputError, match="roles are for people"):
        platform.identity.grant(admin[0], "loans-app", Role.ML_ENGINEER)


def test_a_role_revoked_a_moment_ago_no_longer_counts(platform: Platform,
                                                      admin: tuple[Principal, str]) -> None:
    """Services re-read the principal's roles in their own transaction: a stale principal
    object keeps no permission its person has lost."""
    dana = platform.identity.add_user(admin[0], "dana", roles=frozenset({Role.ADMIN}))
    platform.identity.revoke(admin[0], "dana", Role.ADMIN)

    with pytest.raises(PermissionDeniedError, match="may not users.manage"):
        platform.identity.add_user(dana, "sneaky", roles=frozenset())
