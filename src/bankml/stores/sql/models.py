"""Model versions in SQL."""

from __future__ import annotations

import json

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bankml.core.canonical import canonical_json
from bankml.core.errors import DuplicateError, NotFoundError
from bankml.core.registry import ModelVersion, Stage
from bankml.stores.sql.tables import model_versions


class SqlModelVersions:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def next_number(self, name: str) -> int:
        current = self._connection.execute(
            select(func.max(model_versions.c.number)).where(model_versions.c.name == name)
        ).scalar_one()
        return int(current or 0) + 1

    def add(self, version: ModelVersion) -> None:
        try:
            self._connection.execute(insert(model_versions).values(
                name=version.name, number=version.number,
                artifact_sha256=version.artifact_sha256, flavour=version.flavour,
                created_at=version.created_at, created_by=version.created_by,
                stage=str(version.stage), metrics_json=canonical_json(version.metrics),
                inputs_json=canonical_json(version.inputs),
            ))
        except IntegrityError as exc:
            raise DuplicateError(f"Model version {version.ref} exists already; "
                                 "versions are never overwritten.") from exc

    def get(self, name: str, number: int) -> ModelVersion:
        row = self._connection.execute(select(model_versions).where(
            model_versions.c.name == name, model_versions.c.number == number)).one_or_none()
        if row is None:
            raise NotFoundError("model version", f"{name}@{number}",
                                "List versions with `bankml models list`.")
        return _from_row(row._asdict())

    def latest(self, name: str) -> ModelVersion:
        number = self.next_number(name) - 1
        if number == 0:
            raise NotFoundError("model", name, "Train and register a version first.")
        return self.get(name, number)

    def save_stage(self, version: ModelVersion) -> None:
        self._connection.execute(update(model_versions).where(
            model_versions.c.name == version.name, model_versions.c.number == version.number,
        ).values(stage=str(version.stage)))

    def all(self) -> list[ModelVersion]:
        rows = self._connection.execute(
            select(model_versions).order_by(model_versions.c.name, model_versions.c.number))
        return [_from_row(row._asdict()) for row in rows]


def _from_row(row: dict[str, object]) -> ModelVersion:
    return ModelVersion(
        name=str(row["name"]), number=int(str(row["number"])),
        artifact_sha256=str(row["artifact_sha256"]), flavour=str(row["flavour"]),
        created_at=str(row["created_at"]), created_by=str(row["created_by"]),
        stage=Stage(str(row["stage"])), metrics=json.loads(str(row["metrics_json"])),
        inputs=json.loads(str(row["inputs_json"])),
    )
