"""Endpoint versions in SQL, one row per applied definition."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from bankml.core.canonical import canonical_json
from bankml.core.endpoints import EndpointVersion
from bankml.core.errors import DuplicateError, NotFoundError
from bankml.stores.sql.tables import endpoint_versions as versions


class SqlEndpoints:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def next_number(self, name: str) -> int:
        current = self._connection.execute(
            select(func.max(versions.c.number)).where(versions.c.name == name)).scalar_one()
        return int(current or 0) + 1

    def add(self, version: EndpointVersion) -> None:
        try:
            self._connection.execute(insert(versions).values(
                name=version.name, number=version.number, digest=version.digest,
                spec_json=canonical_json(version.spec), description=version.description,
                owner=version.owner, created_at=version.created_at,
                created_by=version.created_by))
        except IntegrityError as exc:
            raise DuplicateError(f"Endpoint version {version.ref} exists already.") from exc

    def get(self, name: str, number: int) -> EndpointVersion:
        row = self._connection.execute(select(versions).where(
            versions.c.name == name, versions.c.number == number)).one_or_none()
        if row is None:
            raise NotFoundError("endpoint version", f"{name}@{number}", field="endpoint")
        return _version(row._asdict())

    def latest(self, name: str) -> EndpointVersion:
        number = self.next_number(name) - 1
        if number == 0:
            raise NotFoundError("endpoint", name, field="endpoint")
        return self.get(name, number)

    def all(self) -> list[EndpointVersion]:
        rows = self._connection.execute(select(versions).order_by(versions.c.name,
                                                                   versions.c.number))
        return [_version(row._asdict()) for row in rows]


def _version(row: dict[str, Any]) -> EndpointVersion:
    return EndpointVersion(name=row["name"], number=row["number"], digest=row["digest"],
                           spec=json.loads(row["spec_json"]), description=row["description"],
                           owner=row["owner"], created_at=row["created_at"],
                           created_by=row["created_by"])
