"""People for tests: added by a first admin, with roles that need it confirmed by a second.

Tests act as real principals through the real services, as the CLI and the API do.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from bankml import Platform
from bankml.core.errors import NotFoundError
from bankml.core.identity import Principal, PrincipalKind, Role

FIRST_ADMIN = "ada"
SECOND_ADMIN = "otto"


def admins(platform: Platform) -> tuple[Principal, Principal]:
    """Two admins: the store's first (bootstrapped on a fresh store) and a second one,
    created when the store has only one."""
    platform.identity.bootstrap_admin(FIRST_ADMIN)
    with platform.metadata.reading() as tx:
        found = [u for u in tx.users.all() if Role.ADMIN in u.roles and u.active]
    if len(found) == 1:
        found.append(platform.identity.add_user(found[0], SECOND_ADMIN,
                                                roles=frozenset({Role.ADMIN})))
    return found[0], found[1]


def person(platform: Platform, name: str, *roles: Role) -> Principal:
    """A person holding exactly `roles`, as the store knows them now."""
    first, second = admins(platform)
    identity = platform.identity
    identity.add_user(first, name, roles=frozenset(roles))
    for grant in identity.grants(first, username=name, pending_only=True):
        identity.confirm_grant(second, grant.grant_id)
    return identity.user(name)


def service(platform: Platform, name: str, *scopes: str) -> Principal:
    """An application's service account scoped to `scopes`."""
    first, _ = admins(platform)
    account = platform.identity.add_service_account(first, name, scopes=frozenset(scopes))
    assert account.kind == PrincipalKind.SERVICE
    return account


STAFF: dict[str, tuple[Role, ...]] = {
    "dev": (Role.DATA_SCIENTIST,),
    "dana": (Role.DATA_SCIENTIST,),
    "ops": (Role.ML_ENGINEER,),
    "eli": (Role.ML_ENGINEER,),
    "vera": (Role.VALIDATOR,),
    "mira": (Role.MODEL_RISK,),
    "bob": (Role.BUSINESS_OWNER,),
    "aude": (Role.AUDITOR,),
}


def staff(platform: Platform, name: str) -> Principal:
    """One of the usual cast (dev, ops, vera, mira, bob, aude ...), created on first use."""
    try:
        return platform.identity.user(name)
    except NotFoundError:
        return person(platform, name, *STAFF[name])


def unrecorded(platform: Platform, name: str, *roles: Role) -> Principal:
    """A person written straight into the store, leaving the audit trail untouched: for
    tests that count events or tamper with the chain."""
    with platform.metadata.transaction() as tx:
        tx.users.add(Principal(name=name, roles=frozenset(roles)), "2026-01-01T00:00:00Z")
    return platform.identity.user(name)


def with_tokens(platform: Platform, cast: Mapping[str, Collection[Role]]) -> dict[str, str]:
    """The two admins and `cast` (written straight into the store, so the trail records
    only their tokens), each with a one-day token: name -> plaintext."""
    first, second = admins(platform)
    for name, roles in cast.items():
        unrecorded(platform, name, *roles)
    return {name: platform.identity.create_token(first, name, days=1).plaintext
            for name in [first.name, second.name, *cast]}
