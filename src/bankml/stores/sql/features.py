"""Feature view versions and online watermarks in SQL."""

from __future__ import annotations

import json

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bankml.core.canonical import canonical_json
from bankml.core.errors import DuplicateError, NotFoundError
from bankml.core.features import FeatureViewVersion
from bankml.stores.sql.tables import feature_view_versions as versions
from bankml.stores.sql.tables import feature_watermarks as watermarks


class SqlFeatureViews:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def next_number(self, name: str) -> int:
        current = self._connection.execute(
            select(func.max(versions.c.number)).where(versions.c.name == name)).scalar_one()
        return int(current or 0) + 1

    def add(self, version: FeatureViewVersion) -> None:
        try:
            self._connection.execute(insert(versions).values(
                name=version.name, number=version.number, digest=version.digest,
                kind=version.kind, spec_json=canonical_json(version.spec),
                labels_json=canonical_json(version.labels), created_at=version.created_at,
                created_by=version.created_by))
        except IntegrityError as exc:
            raise DuplicateError(f"Feature view version {version.ref} exists already; "
                                 "versions are never overwritten.") from exc

    def get(self, name: str, number: int) -> FeatureViewVersion:
        row = self._connection.execute(select(versions).where(
            versions.c.name == name, versions.c.number == number)).one_or_none()
        if row is None:
            known = self._numbers(name)
            hint = (f"Known versions: {', '.join(map(str, known))}." if known else
                    "Apply a definition with `bankml features apply FILE.py`.")
            raise NotFoundError("feature view version", f"{name}@{number}", hint)
        return _from_row(row._asdict())

    def latest(self, name: str) -> FeatureViewVersion:
        number = self.next_number(name) - 1
        if number == 0:
            known = ", ".join(sorted({v.name for v in self.all()})) or "none"
            raise NotFoundError("feature view", name, f"Known views: {known}.")
        return self.get(name, number)

    def all(self) -> list[FeatureViewVersion]:
        rows = self._connection.execute(
            select(versions).order_by(versions.c.name, versions.c.number))
        return [_from_row(row._asdict()) for row in rows]

    def watermark(self, view_ref: str) -> str | None:
        value = self._connection.execute(select(watermarks.c.watermark).where(
            watermarks.c.view_ref == view_ref)).scalar_one_or_none()
        return None if value is None else str(value)

    def save_watermark(self, view_ref: str, watermark: str) -> None:
        changed = self._connection.execute(update(watermarks).where(
            watermarks.c.view_ref == view_ref).values(watermark=watermark)).rowcount
        if not changed:
            self._connection.execute(insert(watermarks).values(view_ref=view_ref,
                                                               watermark=watermark))

    def _numbers(self, name: str) -> list[int]:
        return list(self._connection.execute(select(versions.c.number).where(
            versions.c.name == name).order_by(versions.c.number)).scalars())


def _from_row(row: dict[str, object]) -> FeatureViewVersion:
    return FeatureViewVersion(
        name=str(row["name"]), number=int(str(row["number"])), digest=str(row["digest"]),
        spec=json.loads(str(row["spec_json"])), labels=json.loads(str(row["labels_json"])),
        created_at=str(row["created_at"]), created_by=str(row["created_by"]))
