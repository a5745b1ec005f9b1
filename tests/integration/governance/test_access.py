"""Four eyes on access: no self-grants, a second admin for roles that validate or approve,
and grantors kept out of their grantees' approvals, on SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from bankml import Platform
from bankml.core.errors import ConflictError, PermissionDeniedError
from bankml.core.identity import GrantStatus, Principal, Role
from bankml.core.oversight import RequestStatus
from bankml.core.policy import AccessPolicy
from bankml.core.registry import Domain, Model, Stage
from bankml.governance import Identity
from support.people import admins, person
from support.trail import audit_events


def test_nobody_grants_a_role_to_themselves(platform: Platform) -> None:
    """An admin who tries to give themselves model_risk is refused, audited, unchanged."""
    ada, _ = admins(platform)

    with pytest.raises(PermissionDeniedError, match="cannot grant a role to themselves") as no:
        platform.identity.grant(ada, "ada", Role.MODEL_RISK)

    assert no.value.rule == "access.no_self_grant"
    assert platform.identity.user("ada").roles == {Role.ADMIN}
    assert audit_events(platform)[-1].action == "governance.refused"


def test_a_role_that_approves_waits_for_a_second_admin(platform: Platform) -> None:
    """One admin's grant of model_risk is pending: the person cannot approve until a second
    admin confirms; then the role is theirs, with both admins on record."""
    ada, otto = admins(platform)
    platform.identity.add_user(ada, "mira", roles=frozenset())

    pending = platform.identity.grant(ada, "mira", Role.MODEL_RISK)

    assert pending.status == GrantStatus.PENDING
    assert Role.MODEL_RISK not in platform.identity.user("mira").roles
    confirmed = platform.identity.confirm_grant(otto, pending.grant_id)
    assert Role.MODEL_RISK in platform.identity.user("mira").roles
    assert (confirmed.granted_by, confirmed.confirmed_by) == ("ada", "otto")
    [shown] = list(platform.identity.grants(otto, username="mira"))
    assert (shown.role, shown.status, shown.confirmed_by) == (Role.MODEL_RISK,
                                                              GrantStatus.EFFECTIVE, "otto")


@pytest.mark.parametrize("confirmer", ["ada", "mira"])
def test_the_asker_and_the_grantee_cannot_confirm(platform: Platform, confirmer: str) -> None:
    """The admin who asked for a grant, and the person receiving it, are not second eyes."""
    ada, _ = admins(platform)
    platform.identity.add_user(ada, "mira", roles=frozenset({Role.ADMIN}))
    pending = platform.identity.grant(ada, "mira", Role.MODEL_RISK)

    with pytest.raises(PermissionDeniedError, match="another admin must confirm") as no:
        platform.identity.confirm_grant(platform.identity.user(confirmer), pending.grant_id)

    assert no.value.rule == "access.second_admin"
    assert Role.MODEL_RISK not in platform.identity.user("mira").roles


def test_a_grant_is_confirmed_once(platform: Platform) -> None:
    """A confirmed grant is not pending any more."""
    ada, otto = admins(platform)
    platform.identity.add_user(ada, "mira", roles=frozenset())
    pending = platform.identity.grant(ada, "mira", Role.VALIDATOR)
    platform.identity.confirm_grant(otto, pending.grant_id)
    platform.identity.add_user(ada, "ivy", roles=frozenset({Role.ADMIN}))

    with pytest.raises(ConflictError, match="not pending"):
        platform.identity.confirm_grant(platform.identity.user("ivy"), pending.grant_id)


def test_the_policy_may_waive_the_second_admin(platform: Platform) -> None:
    """A bank whose access policy names no such role grants at once (and says so)."""
    relaxed = Identity(platform.metadata, AccessPolicy(version="relaxed",
                                                       second_admin_for=frozenset()))
    ada, _ = admins(platform)
    relaxed.add_user(ada, "mira", roles=frozenset())

    assert relaxed.grant(ada, "mira", Role.MODEL_RISK).status == GrantStatus.EFFECTIVE
    assert Role.MODEL_RISK in platform.identity.user("mira").roles


def _prod_request(platform: Platform, requester: Principal) -> int:
    """A tier-3 model in staging, and `requester`'s request to take it to prod (which needs
    one business-owner approval under the shipped policy)."""
    platform.registry.define_model(requester, Model(
        name="pd", domain=Domain.CREDIT, risk_tier=3, owner="retail", developer="team"))
    rows = np.random.default_rng(0).normal(size=(40, 1))
    fitted = LogisticRegression().fit(rows, (rows[:, 0] > 0).astype(int))
    version = platform.registry.register_sklearn(requester, "pd", fitted, inputs=["x0"],
                                                 metrics={})
    platform.oversight.request_transition(requester, version.ref, Stage.STAGING, reason="ok")
    return platform.oversight.request_transition(requester, version.ref, Stage.PROD,
                                                 reason="go").request_id


def test_a_grantor_cannot_approve_their_grantee_within_the_week(platform: Platform) -> None:
    """Ada, an admin who also owns the business, gave dana her role: she may not approve
    dana's request in the same week; someone unrelated may."""
    ada, otto = admins(platform)
    platform.identity.add_user(otto, "ivy", roles=frozenset({Role.ADMIN}))
    pending = platform.identity.grant(otto, "ada", Role.BUSINESS_OWNER)
    platform.identity.confirm_grant(platform.identity.user("ivy"), pending.grant_id)
    dana = platform.identity.add_user(ada, "dana", roles=frozenset({Role.DATA_SCIENTIST}))
    request_id = _prod_request(platform, dana)

    with pytest.raises(PermissionDeniedError, match="gave one another a role") as no:
        platform.oversight.approve(platform.identity.user("ada"), request_id,
                                   role=Role.BUSINESS_OWNER)

    assert no.value.rule == "four_eyes.not_grantor"
    bob = person(platform, "bob", Role.BUSINESS_OWNER)
    approved = platform.oversight.approve(bob, request_id, role=Role.BUSINESS_OWNER)
    assert approved.status == RequestStatus.EXECUTED


def test_a_grantee_cannot_approve_their_grantor(platform: Platform) -> None:
    """The other way round: whoever asked for your role cannot have you approve for them."""
    _ada, otto = admins(platform)
    pending = platform.identity.grant(otto, "ada", Role.DATA_SCIENTIST)
    assert pending.status == GrantStatus.EFFECTIVE  # not a role that approves
    platform.identity.add_user(otto, "bob", roles=frozenset())
    waiting = platform.identity.grant(platform.identity.user("ada"), "bob",
                                      Role.BUSINESS_OWNER)
    platform.identity.confirm_grant(otto, waiting.grant_id)
    request_id = _prod_request(platform, platform.identity.user("ada"))

    with pytest.raises(PermissionDeniedError) as no:
        platform.oversight.approve(platform.identity.user("bob"), request_id,
                                   role=Role.BUSINESS_OWNER)

    assert no.value.rule == "four_eyes.not_grantor"
