"""People, service accounts, roles and API tokens: who may act, proven by a token.

Access has four eyes too: nobody grants a role to themselves, and a role that validates
or approves takes effect only once a second admin confirms it (the access policy names
those roles). Refusals change nothing but are audited all the same: a trail that shows
only what succeeded cannot show who tried what they were not allowed to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bankml.access import acting, audited_refusals, record_unauthenticated, refuse, viewing
from bankml.core.canonical import parse_utc_timestamp, utc_timestamp
from bankml.core.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from bankml.core.identity import (
    DEFAULT_TOKEN_DAYS,
    MAX_TOKEN_DAYS,
    SYSTEM,
    ApiToken,
    GrantStatus,
    NewToken,
    Permission,
    Principal,
    PrincipalKind,
    Role,
    RoleGrant,
    check_username,
    mint_token,
    secrets_match,
    split_token,
)
from bankml.core.limits import (
    DISPLAY_NAME_CHARS,
    TOKEN_DESCRIPTION_CHARS,
    check_integer,
    check_text,
)
from bankml.core.policy import AccessPolicy
from bankml.core.ports import MetadataStore, Transaction

SCOPE_PATTERN_HELP = "endpoint names, or * for every endpoint"


class Identity:
    def __init__(self, metadata: MetadataStore, access: AccessPolicy | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._metadata, self._clock = metadata, clock
        self._access = access or AccessPolicy()

    @property
    def access_policy(self) -> AccessPolicy:
        return self._access

    # -- proving who you are -------------------------------------------------------------

    def authenticate(self, plaintext: str | None) -> Principal:
        """The active principal a token belongs to, or AuthenticationError (audited)."""
        if not plaintext:
            raise self._refused("token:none", "No API token was given.")
        try:
            token_id, offered = split_token(plaintext)
        except AuthenticationError as exc:
            raise self._refused("token:malformed", str(exc)) from exc
        with self._metadata.reading() as tx:
            try:
                token = tx.tokens.get(token_id)
                principal = tx.users.get(token.username)
            except NotFoundError:
                token = None
        subject = f"token:{token_id}"
        if token is None or not secrets_match(token.secret_sha256, offered):
            raise self._refused(subject, "The token is not known.")
        if token.revoked_at is not None:
            raise self._refused(subject, f"Token {token_id} was revoked at {token.revoked_at}.")
        if parse_utc_timestamp(token.expires_at) <= self._clock():
            raise self._refused(subject, f"Token {token_id} expired at {token.expires_at}; "
                                         "create a new one.")
        if not principal.active:
            raise self._refused(subject, f"{principal.name} is deactivated.")
        return principal

    def refuse_credentials(self, reason: str) -> AuthenticationError:
        """Credentials that are not a token at all (another scheme): refused, audited."""
        return self._refused("token:scheme", reason)

    def refuse_form(self, path: str, reason: str, *, session_of: str | None) -> None:
        """A web form refused for its CSRF token (a forged form, or a stale page): audited
        as `auth.refused` on `ui:csrf` with whose session sent it, and counted like every
        refusal once a minute has had enough (core/refusals.py), so a flood of forged
        posts cannot flood the trail."""
        with self._metadata.transaction() as tx:
            record_unauthenticated(tx, SYSTEM.name, "ui:csrf", {
                "reason": reason, "rule": "ui.csrf_token", "path": path,
                "session_of": session_of}, moment=self._clock())

    # -- people and service accounts -----------------------------------------------------

    def bootstrap_admin(self, username: str) -> NewToken | None:
        """The first admin and their token, when the store has no user yet; else None."""
        check_username(username)
        now = self._now()
        with self._metadata.transaction() as tx:
            if tx.users.count():
                return None
            admin = Principal(name=username, display_name=username,
                              roles=frozenset({Role.ADMIN}))
            tx.users.add(admin, now)
            tx.audit.record(SYSTEM.name, "user.created", f"user:{username}",
                            {"roles": [str(Role.ADMIN)], "bootstrap": True})
            tx.users.add_grant(RoleGrant(
                grant_id=0, username=username, role=Role.ADMIN, granted_by=SYSTEM.name,
                granted_at=now, status=GrantStatus.EFFECTIVE))
            return self._issue(tx, SYSTEM.name, username, DEFAULT_TOKEN_DAYS, "first admin")

    def add_user(self, by: Principal, username: str, *, roles: frozenset[Role],
                 display_name: str = "") -> Principal:
        """A new person; roles that need a second admin wait for one (see `confirm_grant`)."""
        subject = f"user:{check_username(username)}"
        now = self._now()
        with acting(self._metadata, by, Permission.USERS_MANAGE, subject) as tx:
            check_text("display_name", display_name, DISPLAY_NAME_CHARS)
            effective = frozenset(r for r in roles if r not in self._access.second_admin_for)
            user = Principal(name=username, display_name=display_name or username,
                             roles=effective)
            tx.users.add(user, now)
            tx.audit.record(by.name, "user.created", subject,
                            {"roles": sorted(effective), "display_name": user.display_name})
            for role in sorted(roles):
                self._record_grant(tx, by, username, role, now)
        return user

    def add_service_account(self, by: Principal, name: str, *,
                            scopes: frozenset[str], display_name: str = "") -> Principal:
        """An application's identity: it may make and read decisions on `scopes` alone."""
        subject = f"user:{check_username(name)}"
        if not scopes or any(not scope.strip() for scope in scopes):
            raise InvalidInputError("scopes", f"give the {SCOPE_PATTERN_HELP} the account "
                                    "may call", rule="users.scopes_given")
        with acting(self._metadata, by, Permission.USERS_MANAGE, subject) as tx:
            check_text("display_name", display_name, DISPLAY_NAME_CHARS)
            account = Principal(name=name, display_name=display_name or name,
                                kind=PrincipalKind.SERVICE, scopes=frozenset(scopes))
            tx.users.add(account, self._now())
            tx.audit.record(by.name, "user.created", subject, {
                "kind": str(PrincipalKind.SERVICE), "scopes": sorted(scopes),
                "display_name": account.display_name})
        return account

    def grant(self, by: Principal, username: str, role: Role) -> RoleGrant:
        """Give `role` to `username`: at once, or pending a second admin's confirmation."""
        subject = f"user:{username}"
        if username == by.name:
            refuse(self._metadata, by, PermissionDeniedError(
                f"{by.name} cannot grant a role to themselves; ask another admin.",
                rule="access.no_self_grant", field="username"), subject)
        with acting(self._metadata, by, Permission.USERS_MANAGE, subject) as tx:
            user = tx.users.get(username)
            if user.kind != PrincipalKind.PERSON:
                raise InvalidInputError("username", f"{username} is a {user.kind} account; "
                                        "roles are for people", rule="users.roles_for_people")
            if role in user.roles:
                raise ConflictError(f"{username} holds {role} already.",
                                    rule="access.role_new", field="role")
            return self._record_grant(tx, by, username, role, self._now())

    def confirm_grant(self, by: Principal, grant_id: int) -> RoleGrant:
        """A second admin confirms a pending grant; the role takes effect now."""
        subject = f"grant:{grant_id}"
        with audited_refusals(self._metadata, by, subject):
            check_integer("grant_id", grant_id)
        with self._metadata.reading() as tx:
            pending = tx.users.get_grant(grant_id)
        if by.name in (pending.granted_by, pending.username):
            refuse(self._metadata, by, PermissionDeniedError(
                f"{by.name} {'asked for' if by.name == pending.granted_by else 'receives'} "
                f"grant #{grant_id}; another admin must confirm it.",
                rule="access.second_admin"), subject)
        with acting(self._metadata, by, Permission.USERS_MANAGE, subject) as tx:
            grant = tx.users.get_grant(grant_id)
            if grant.status != GrantStatus.PENDING:
                raise ConflictError(f"Grant #{grant_id} is {grant.status}, not pending.",
                                    rule="access.grant_pending", field="grant_id")
            confirmed = replace(grant, status=GrantStatus.EFFECTIVE, confirmed_by=by.name,
                                confirmed_at=self._now())
            user = tx.users.get(grant.username)
            tx.users.save_grant(confirmed, was=GrantStatus.PENDING)
            tx.users.save(replace(user, roles=user.roles | {grant.role}), was=user)
            tx.audit.record(by.name, "user.granted", f"user:{grant.username}", {
                "role": str(grant.role), "grant_id": grant_id,
                "requested_by": grant.granted_by, "confirmed_by": by.name,
                "roles": sorted(user.roles | {grant.role})})
        return confirmed

    def grants(self, by: Principal, *, username: str | None = None,
               pending_only: bool = False) -> list[RoleGrant]:
        """Who was given which role, by whom and when, confirmed by whom."""
        with viewing(self._metadata, by, Permission.USERS_READ, "access:grants") as tx:
            return tx.users.grants(username=username, pending_only=pending_only)

    def revoke(self, by: Principal, username: str, role: Role) -> Principal:
        subject = f"user:{username}"
        if role == Role.ADMIN and username == by.name:
            raise InvalidInputError("role", "you cannot take admin from yourself; ask another "
                                    "admin", rule="users.keep_an_admin")
        with acting(self._metadata, by, Permission.USERS_MANAGE, subject) as tx:
            user = tx.users.get(username)
            changed = replace(user, roles=user.roles - {role})
            tx.users.save(changed, was=user)
            tx.audit.record(by.name, "user.revoked", subject,
                            {"role": str(role), "roles": sorted(changed.roles)})
        return changed

    def deactivate(self, by: Principal, username: str) -> Principal:
        """The user can no longer authenticate; their history stays as it was."""
        subject = f"user:{username}"
        if username == by.name:
            raise InvalidInputError("username", "you cannot deactivate yourself; ask another "
                                    "admin", rule="users.no_self_deactivation")
        with acting(self._metadata, by, Permission.USERS_MANAGE, subject) as tx:
            stored = tx.users.get(username)
            user = replace(stored, active=False)
            tx.users.save(user, was=stored)
            tx.audit.record(by.name, "user.deactivated", subject, {})
        return user

    def users(self, by: Principal) -> list[Principal]:
        with viewing(self._metadata, by, Permission.USERS_READ, "access:users") as tx:
            return tx.users.all()

    def user(self, username: str) -> Principal:
        """The stored principal (for interfaces resolving names and for tests)."""
        with self._metadata.reading() as tx:
            return tx.users.get(username)

    # -- tokens --------------------------------------------------------------------------

    def create_token(self, by: Principal, username: str | None = None, *,
                     days: int = DEFAULT_TOKEN_DAYS, description: str = "") -> NewToken:
        """A new token for `username` (default: oneself); the plaintext is returned once."""
        owner = username or by.name
        if not 1 <= days <= MAX_TOKEN_DAYS:
            raise InvalidInputError("days", f"{days} is outside 1..{MAX_TOKEN_DAYS}",
                                    rule="tokens.lifetime")
        with acting(self._metadata, by, _token_permission(by, owner), f"user:{owner}") as tx:
            check_text("description", description, TOKEN_DESCRIPTION_CHARS)
            tx.users.get(owner)
            return self._issue(tx, by.name, owner, days, description)

    def revoke_token(self, by: Principal, token_id: str) -> ApiToken:
        with self._metadata.reading() as tx:
            token = tx.tokens.get(token_id)
        revoked_at = self._now()
        with acting(self._metadata, by, _token_permission(by, token.username),
                    f"user:{token.username}") as tx:
            tx.tokens.revoke(token_id, revoked_at)
            tx.audit.record(by.name, "token.revoked", f"token:{token_id}",
                            {"owner": token.username})
        return replace(token, revoked_at=revoked_at)

    def tokens(self, by: Principal, username: str | None = None) -> list[ApiToken]:
        owner = username or by.name
        with viewing(self._metadata, by, _token_permission(by, owner), f"user:{owner}") as tx:
            return tx.tokens.of(owner)

    # -- internals -----------------------------------------------------------------------

    def _record_grant(self, tx: Transaction, by: Principal, username: str, role: Role,
                      now: str) -> RoleGrant:
        """Record the grant; apply it now unless the access policy wants a second admin."""
        waits = role in self._access.second_admin_for
        grant = RoleGrant(grant_id=0, username=username, role=role, granted_by=by.name,
                          granted_at=now,
                          status=GrantStatus.PENDING if waits else GrantStatus.EFFECTIVE)
        grant = replace(grant, grant_id=tx.users.add_grant(grant))
        if waits:
            tx.audit.record(by.name, "user.grant_requested", f"user:{username}", {
                "role": str(role), "grant_id": grant.grant_id,
                "policy": self._access.version})
            return grant
        user = tx.users.get(username)
        if role not in user.roles:
            tx.users.save(replace(user, roles=user.roles | {role}), was=user)
        tx.audit.record(by.name, "user.granted", f"user:{username}", {
            "role": str(role), "grant_id": grant.grant_id,
            "roles": sorted(user.roles | {role})})
        return grant

    def _issue(self, tx: Transaction, actor: str, owner: str, days: int,
               description: str) -> NewToken:
        token_id, plaintext, secret_sha256 = mint_token()
        now = self._clock()
        token = ApiToken(token_id=token_id, username=owner, secret_sha256=secret_sha256,
                         created_at=utc_timestamp(now),
                         expires_at=utc_timestamp(now + timedelta(days=days)),
                         description=description)
        tx.tokens.add(token)
        tx.audit.record(actor, "token.created", f"token:{token_id}",
                        {"owner": owner, "expires_at": token.expires_at,
                         "description": description})
        return NewToken(token, plaintext)

    def _refused(self, subject: str, message: str) -> AuthenticationError:
        """The refusal, recorded or (in a flood) counted: core/refusals.py."""
        with self._metadata.transaction() as tx:
            record_unauthenticated(tx, SYSTEM.name, subject, {"reason": message},
                                   moment=self._clock())
        error = AuthenticationError(message)
        error.audited = True
        return error

    def _now(self) -> str:
        return utc_timestamp(self._clock())


def _token_permission(by: Principal, owner: str) -> Permission:
    return Permission.TOKENS_MANAGE_OWN if owner == by.name else Permission.USERS_MANAGE
