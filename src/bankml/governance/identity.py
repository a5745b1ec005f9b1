"""Users, roles and API tokens: who may act, proven by a token, checked by role.

Refusals change nothing but are audited all the same: a trail that shows only what
succeeded cannot show who tried what they were not allowed to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bankml.core.canonical import parse_utc_timestamp, utc_timestamp
from bankml.core.errors import InvalidInputError, NotFoundError
from bankml.core.identity import (
    ApiToken,
    AuthenticationError,
    NewToken,
    Permission,
    PermissionDeniedError,
    Role,
    User,
    authorize,
    check_username,
    mint_token,
    secrets_match,
    split_token,
)
from bankml.core.ports import MetadataStore, Transaction

DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 365
SYSTEM = "bankml"  # the actor of events no person caused (bootstrap, refusals)


class Identity:
    def __init__(self, metadata: MetadataStore,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._metadata, self._clock = metadata, clock

    # -- proving who you are -------------------------------------------------------------

    def authenticate(self, plaintext: str | None) -> User:
        """The active user a token belongs to, or AuthenticationError (audited)."""
        if not plaintext:
            raise self._refused("token:none", "No token given: set BANKML_TOKEN or pass "
                                              "--token (create one with `bankml tokens create`).")
        try:
            token_id, offered = split_token(plaintext)
        except AuthenticationError as exc:
            raise self._refused("token:malformed", str(exc)) from exc
        with self._metadata.reading() as tx:
            try:
                token = tx.tokens.get(token_id)
                user = tx.users.get(token.username)
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
        if not user.active:
            raise self._refused(subject, f"User {user.username} is deactivated.")
        return user

    def guard(self, user: User, permission: Permission, subject: str) -> None:
        """PermissionDeniedError (audited) unless `user` may do `permission` to `subject`."""
        try:
            authorize(user, permission)
        except PermissionDeniedError as exc:
            with self._metadata.transaction() as tx:
                tx.audit.record(user.username, "auth.forbidden", subject, {
                    "permission": str(permission), "roles": sorted(user.roles)})
            raise exc from None

    # -- people --------------------------------------------------------------------------

    def bootstrap_admin(self, username: str) -> NewToken | None:
        """The first admin and their token, when the store has no user yet; else None."""
        check_username(username)
        with self._metadata.transaction() as tx:
            if tx.users.count():
                return None
            admin = User(username=username, display_name=username, roles=frozenset({Role.ADMIN}))
            tx.users.add(admin, utc_timestamp(self._clock()))
            tx.audit.record(SYSTEM, "user.created", f"user:{username}",
                            {"roles": [str(Role.ADMIN)], "bootstrap": True})
            return self._issue(tx, SYSTEM, username, DEFAULT_TOKEN_DAYS, "first admin")

    def add_user(self, by: User, username: str, *, roles: frozenset[Role],
                 display_name: str = "") -> User:
        subject = f"user:{check_username(username)}"
        self.guard(by, Permission.USERS_MANAGE, subject)
        user = User(username=username, display_name=display_name or username, roles=roles)
        with self._metadata.transaction() as tx:
            tx.users.add(user, utc_timestamp(self._clock()))
            tx.audit.record(by.username, "user.created", subject,
                            {"roles": sorted(roles), "display_name": user.display_name})
        return user

    def grant(self, by: User, username: str, role: Role) -> User:
        return self._change_roles(by, username, add=role)

    def revoke(self, by: User, username: str, role: Role) -> User:
        return self._change_roles(by, username, remove=role)

    def deactivate(self, by: User, username: str) -> User:
        """The user can no longer authenticate; their history stays as it was."""
        subject = f"user:{username}"
        self.guard(by, Permission.USERS_MANAGE, subject)
        if username == by.username:
            raise InvalidInputError("username", "you cannot deactivate yourself; ask another "
                                    "admin", rule="users.no_self_deactivation")
        with self._metadata.transaction() as tx:
            user = replace(tx.users.get(username), active=False)
            tx.users.save(user)
            tx.audit.record(by.username, "user.deactivated", subject, {})
        return user

    def users(self) -> list[User]:
        with self._metadata.reading() as tx:
            return tx.users.all()

    def user(self, username: str) -> User:
        with self._metadata.reading() as tx:
            return tx.users.get(username)

    # -- tokens --------------------------------------------------------------------------

    def create_token(self, by: User, username: str | None = None, *,
                     days: int = DEFAULT_TOKEN_DAYS, description: str = "") -> NewToken:
        """A new token for `username` (default: oneself); the plaintext is returned once."""
        owner = username or by.username
        self._guard_tokens_of(by, owner)
        if not 1 <= days <= MAX_TOKEN_DAYS:
            raise InvalidInputError("days", f"{days} is outside 1..{MAX_TOKEN_DAYS}",
                                    rule="tokens.lifetime")
        with self._metadata.transaction() as tx:
            tx.users.get(owner)
            return self._issue(tx, by.username, owner, days, description)

    def revoke_token(self, by: User, token_id: str) -> ApiToken:
        with self._metadata.reading() as tx:
            token = tx.tokens.get(token_id)
        self._guard_tokens_of(by, token.username)
        revoked_at = utc_timestamp(self._clock())
        with self._metadata.transaction() as tx:
            tx.tokens.revoke(token_id, revoked_at)
            tx.audit.record(by.username, "token.revoked", f"token:{token_id}",
                            {"owner": token.username})
        return replace(token, revoked_at=revoked_at)

    def tokens(self, username: str) -> list[ApiToken]:
        with self._metadata.reading() as tx:
            return tx.tokens.of(username)

    # -- internals -----------------------------------------------------------------------

    def _change_roles(self, by: User, username: str, *, add: Role | None = None,
                      remove: Role | None = None) -> User:
        subject = f"user:{username}"
        self.guard(by, Permission.USERS_MANAGE, subject)
        if remove == Role.ADMIN and username == by.username:
            raise InvalidInputError("role", "you cannot take admin from yourself; ask another "
                                    "admin", rule="users.keep_an_admin")
        with self._metadata.transaction() as tx:
            user = tx.users.get(username)
            roles = (user.roles | {add}) if add else (user.roles - {remove})
            changed = replace(user, roles=frozenset(r for r in roles if r is not None))
            tx.users.save(changed)
            tx.audit.record(by.username, "user.granted" if add else "user.revoked", subject,
                            {"role": str(add or remove), "roles": sorted(changed.roles)})
        return changed

    def _guard_tokens_of(self, by: User, owner: str) -> None:
        permission = (Permission.TOKENS_MANAGE_OWN if owner == by.username
                      else Permission.USERS_MANAGE)
        self.guard(by, permission, f"user:{owner}")

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
        with self._metadata.transaction() as tx:
            tx.audit.record(SYSTEM, "auth.refused", subject, {"reason": message})
        return AuthenticationError(message)
