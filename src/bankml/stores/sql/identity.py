"""Users and API tokens in SQL."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bankml.core.errors import ConflictError, DuplicateError, NotFoundError
from bankml.core.identity import ApiToken, GrantStatus, Principal, PrincipalKind, Role, RoleGrant
from bankml.stores.sql.tables import api_tokens, role_grants, users


class SqlUsers:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, user: Principal, created_at: str) -> None:
        try:
            self._connection.execute(insert(users).values(
                username=user.name, created_at=created_at, **_user_row(user)))
        except IntegrityError as exc:
            raise DuplicateError(f"User {user.name} exists already.", field="username") \
                from exc

    def get(self, username: str) -> Principal:
        row = self._connection.execute(
            select(users).where(users.c.username == username)).one_or_none()
        if row is None:
            raise NotFoundError("user", username, field="username")
        return _principal(row)

    def save(self, user: Principal, *, was: Principal) -> None:
        # Compare-and-set: two admins changing one person's roles at once both read `was`;
        # the second write matches no row (PostgreSQL re-reads it after the first commits)
        # and is refused rather than dropping the first admin's change.
        unchanged = [getattr(users.c, column) == value
                     for column, value in _user_row(was).items()]
        result = self._connection.execute(update(users).where(
            users.c.username == user.name, *unchanged).values(**_user_row(user)))
        if result.rowcount != 1:
            raise ConflictError(f"{user.name} was changed by someone else meanwhile; nothing "
                                "was changed, so look again and retry.",
                                rule="store.changed_meanwhile", field="username")

    def all(self) -> list[Principal]:
        rows = self._connection.execute(select(users).order_by(users.c.username))
        return [_principal(row) for row in rows]

    def count(self) -> int:
        return int(self._connection.execute(select(func.count()).select_from(users))
                   .scalar_one())

    def add_grant(self, grant: RoleGrant) -> int:
        result = self._connection.execute(insert(role_grants).values(**_grant_row(grant)))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def get_grant(self, grant_id: int) -> RoleGrant:
        row = self._connection.execute(select(role_grants).where(
            role_grants.c.grant_id == grant_id)).one_or_none()
        if row is None:
            raise NotFoundError("role grant", f"#{grant_id}", field="grant_id")
        return _grant(row)

    def save_grant(self, grant: RoleGrant, *, was: GrantStatus) -> None:
        # Compare-and-set on the status: a grant is confirmed (or otherwise moved) once.
        result = self._connection.execute(update(role_grants).where(
            role_grants.c.grant_id == grant.grant_id, role_grants.c.status == str(was))
            .values(**_grant_row(grant)))
        if result.rowcount != 1:
            raise ConflictError(f"Grant #{grant.grant_id} is no longer {was}.",
                                rule="access.grant_pending", field="grant_id")

    def grants(self, *, username: str | None = None, granted_by: str | None = None,
               pending_only: bool = False) -> list[RoleGrant]:
        query = select(role_grants).order_by(role_grants.c.grant_id)
        if username is not None:
            query = query.where(role_grants.c.username == username)
        if granted_by is not None:
            query = query.where((role_grants.c.granted_by == granted_by)
                                | (role_grants.c.confirmed_by == granted_by))
        if pending_only:
            query = query.where(role_grants.c.status == str(GrantStatus.PENDING))
        return [_grant(row) for row in self._connection.execute(query)]


def _user_row(user: Principal) -> dict[str, object]:
    return {"display_name": user.display_name, "roles_json": json.dumps(sorted(user.roles)),
            "active": int(user.active), "kind": str(user.kind),
            "scopes_json": json.dumps(sorted(user.scopes))}


def _principal(row: Any) -> Principal:
    return Principal(name=row.username, display_name=row.display_name,
                     roles=frozenset(Role(r) for r in json.loads(row.roles_json)),
                     kind=PrincipalKind(row.kind), scopes=frozenset(json.loads(row.scopes_json)),
                     active=bool(row.active))


def _grant_row(grant: RoleGrant) -> dict[str, object]:
    return {"username": grant.username, "role": str(grant.role),
            "granted_by": grant.granted_by, "granted_at": grant.granted_at,
            "status": str(grant.status), "confirmed_by": grant.confirmed_by,
            "confirmed_at": grant.confirmed_at}


def _grant(row: Any) -> RoleGrant:
    return RoleGrant(grant_id=row.grant_id, username=row.username, role=Role(row.role),
                     granted_by=row.granted_by, granted_at=row.granted_at,
                     status=GrantStatus(row.status), confirmed_by=row.confirmed_by,
                     confirmed_at=row.confirmed_at)


class SqlTokens:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, token: ApiToken) -> None:
        self._connection.execute(insert(api_tokens).values(
            token_id=token.token_id, username=token.username,
            secret_sha256=token.secret_sha256, created_at=token.created_at,
            expires_at=token.expires_at, revoked_at=token.revoked_at,
            description=token.description))

    def get(self, token_id: str) -> ApiToken:
        row = self._connection.execute(
            select(api_tokens).where(api_tokens.c.token_id == token_id)).one_or_none()
        if row is None:
            raise NotFoundError("token", token_id)
        return ApiToken(**row._asdict())

    def revoke(self, token_id: str, revoked_at: str) -> None:
        self._connection.execute(update(api_tokens).where(api_tokens.c.token_id == token_id)
                                 .values(revoked_at=revoked_at))

    def of(self, username: str) -> list[ApiToken]:
        rows = self._connection.execute(select(api_tokens).where(
            api_tokens.c.username == username).order_by(api_tokens.c.created_at))
        return [ApiToken(**row._asdict()) for row in rows]
