"""Users and API tokens in SQL."""

from __future__ import annotations

import json

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bankml.core.errors import DuplicateError, NotFoundError
from bankml.core.identity import ApiToken, Role, User
from bankml.stores.sql.tables import api_tokens, users


class SqlUsers:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, user: User, created_at: str) -> None:
        try:
            self._connection.execute(insert(users).values(
                username=user.username, display_name=user.display_name,
                roles_json=json.dumps(sorted(user.roles)), active=int(user.active),
                created_at=created_at))
        except IntegrityError as exc:
            raise DuplicateError(f"User {user.username} exists already.") from exc

    def get(self, username: str) -> User:
        row = self._connection.execute(
            select(users).where(users.c.username == username)).one_or_none()
        if row is None:
            raise NotFoundError("user", username, "List people with `bankml users list`.")
        return User(username=row.username, display_name=row.display_name,
                    roles=frozenset(Role(r) for r in json.loads(row.roles_json)),
                    active=bool(row.active))

    def save(self, user: User) -> None:
        self._connection.execute(update(users).where(users.c.username == user.username).values(
            display_name=user.display_name, roles_json=json.dumps(sorted(user.roles)),
            active=int(user.active)))

    def all(self) -> list[User]:
        names = self._connection.execute(select(users.c.username).order_by(users.c.username))
        return [self.get(name) for (name,) in names]

    def count(self) -> int:
        return int(self._connection.execute(select(func.count()).select_from(users))
                   .scalar_one())


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
